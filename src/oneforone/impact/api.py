"""API v1: the partner's impact, from the same queries as its dashboard."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any, Literal

from django.http import HttpRequest
from django.utils.translation import gettext
from ninja import Field, Query, Router, Schema
from ninja.decorators import decorate_view
from pydantic import StringConstraints

from oneforone.accounts.models import ApiKey
from oneforone.core.apitools import ApiError, ErrorOut
from oneforone.core.ratelimit import rate_limited
from oneforone.impact import queries, scenario, scenario_queries
from oneforone.impact.models import MethodologyVersion
from oneforone.partners.api import programme_of
from oneforone.registry.models import Certificate

router = Router(tags=["impact"])


class CategoryImpactOut(Schema):
    category: str
    devices_registered: int
    devices_compensated: int


class OriginOut(Schema):
    country: str = Field(description="ISO 3166-1 alpha-2 code where the recycled phones came from")
    units: int


class ImpactOut(Schema):
    model_config = {
        "json_schema_extra": {
            "examples": [
                {
                    "registrations": 12,
                    "devices_registered": 5400,
                    "devices_compensated": 5000,
                    "devices_owed": 400,
                    "units_owed": 5400,
                    "units_allocated": 5000,
                    "units_backlog": 400,
                    "weight_diverted_kg": "275.0",
                    "living_wage_months": "12.40",
                    "by_category": [
                        {
                            "category": "Phone",
                            "devices_registered": 5400,
                            "devices_compensated": 5000,
                        }
                    ],
                    "origins": [{"country": "GH", "units": 5000}],
                }
            ]
        }
    }

    registrations: int
    devices_registered: int = Field(description="devices that count (double claims left out)")
    devices_compensated: int
    devices_owed: int
    units_owed: int
    units_allocated: int
    units_backlog: int
    weight_diverted_kg: Decimal = Field(description="measured net weight of your recycled phones")
    living_wage_months: Decimal = Field(
        description="income paid to collectors for your phones, in months of a living wage"
    )
    by_category: list[CategoryImpactOut]
    origins: list[OriginOut]


class ImpactQuery(Schema):
    programme: (
        Annotated[str, StringConstraints(min_length=1, max_length=40, pattern=r"^[-a-zA-Z0-9_]+$")]
        | None
    ) = Field(None, description="a programme's code: its figures only")


@router.get(
    "/impact",
    response={200: ImpactOut, 404: ErrorOut},
    summary="Your impact so far, for all your programmes or one",
)
def impact(request: HttpRequest, filters: Query[ImpactQuery]) -> dict[str, Any]:
    key = request.auth  # type: ignore[attr-defined]
    assert isinstance(key, ApiKey)
    partner = key.organisation
    programme = programme_of(partner, filters.programme) if filters.programme else None
    totals = queries.registry_totals(partner, programme)
    return {
        "registrations": totals.registrations,
        "devices_registered": totals.devices_registered,
        "devices_compensated": totals.devices_compensated,
        "devices_owed": totals.devices_owed,
        "units_owed": totals.units_owed,
        "units_allocated": totals.units_allocated,
        "units_backlog": totals.units_backlog,
        "weight_diverted_kg": queries.weight_diverted_kg(partner, programme),
        "living_wage_months": queries.living_wages(partner, programme).months,
        "by_category": [
            {"category": name, "devices_registered": registered, "devices_compensated": done}
            for name, registered, done in queries.by_category(partner, programme)
        ],
        "origins": [{"country": c, "units": n} for c, n in queries.origins(partner, programme)],
    }


# --- methodology versions and figures per scope (issue 7) ---------------------------------------


class FactorOut(Schema):
    key: str
    qualifier: str = Field(description="a metal (Au) or a route (GH-S: sea leg from Ghana)")
    name: str
    value: Decimal
    unit: str
    source: str
    source_year: int | None
    confidence: str = Field(description="measured, verified, estimate or low")


class RuleOut(Schema):
    key: str
    statement: str
    parameters: dict[str, Any]


class VersionOut(Schema):
    number: int
    label: str
    title: str
    status: str
    published_at: dt.datetime | None
    change_notes: str
    factors: list[FactorOut]
    rules: list[RuleOut]


class FigureOut(Schema):
    key: str
    value: Decimal | None = Field(description='empty where nothing can be counted ("no benchmark")')
    unit: str
    units_counted: int
    note: str


class FiguresOut(Schema):
    version: int
    version_label: str
    units: int = Field(description="your allocated units in the scope")
    units_computed: int = Field(description="of which the batch has figures under the version")
    avoided_emissions_note: str
    figures: list[FigureOut]


class FactorUsedOut(Schema):
    key: str
    qualifier: str
    value: Decimal
    unit: str
    source: str
    source_year: int | None
    confidence: str


class BatchShareOut(Schema):
    batch: str = Field(description="the batch's serial block")
    consignment: str
    origin_country: str
    batch_units: int
    units: int = Field(description="units of the batch in your scope")
    batch_value: Decimal | None
    value: Decimal | None = Field(description="batch value x units / batch units")
    note: str
    records: list[dict[str, Any]]
    factors: list[FactorUsedOut]


class DrillDownOut(Schema):
    version: int
    key: str
    unit: str
    value: Decimal | None
    batches: list[BatchShareOut]


class ScopeQuery(Schema):
    version: int | None = Field(None, description="a published version number; default latest")
    programme: (
        Annotated[str, StringConstraints(min_length=1, max_length=40, pattern=r"^[-a-zA-Z0-9_]+$")]
        | None
    ) = Field(None, description="a programme's code")
    certificate: (
        Annotated[str, StringConstraints(min_length=3, max_length=20, pattern=r"^C-[A-Z0-9]+$")]
        | None
    ) = Field(None, description="one of your certificates, by code")
    origin_country: Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$")] | None = Field(
        None, description="ISO 3166-1 alpha-2 code of where the phones came from"
    )
    allocated_from: dt.date | None = Field(None, description="units allocated on or after")
    allocated_until: dt.date | None = Field(None, description="units allocated on or before")


AVOIDED_NOTE = (
    "avoided emissions are reported apart from your scope 1-3 inventory and are never netted "
    "against it; transport emissions are reported as emitted"
)


def _version_out(version: MethodologyVersion) -> dict[str, Any]:
    return {
        "number": version.number,
        "label": version.label,
        "title": version.title,
        "status": version.status,
        "published_at": version.published_at,
        "change_notes": version.change_notes,
        "factors": list(version.factors.all()),
        "rules": list(version.rules.all()),
    }


@router.get(
    "/impact/versions",
    response=list[VersionOut],
    summary="Published methodology versions with their factors, sources and rules",
)
def versions(request: HttpRequest) -> list[dict[str, Any]]:
    return [_version_out(v) for v in queries.methodology_versions()]


@router.get(
    "/impact/versions/{number}",
    response={200: VersionOut, 404: ErrorOut},
    summary="One published methodology version",
)
def version(request: HttpRequest, number: int) -> dict[str, Any]:
    return _version_out(_published(number))


def _published(number: int | None) -> MethodologyVersion:
    try:
        return queries.resolve_version(number)
    except MethodologyVersion.DoesNotExist as exc:
        raise ApiError(
            404,
            "not_found",
            gettext("%(problem)s: see %(url)s")
            % {"problem": exc, "url": "/api/v1/impact/versions"},
        ) from exc


def _scope(request: HttpRequest, filters: ScopeQuery) -> queries.Scope:
    """Always the caller's own partner: another partner's certificate is not found."""
    key = request.auth  # type: ignore[attr-defined]
    assert isinstance(key, ApiKey)
    partner = key.organisation
    certificate = None
    if filters.certificate:
        certificate = Certificate.objects.filter(
            code=filters.certificate, registration__partner=partner
        ).first()
        if certificate is None:
            raise ApiError(
                404,
                "not_found",
                gettext("no certificate %(code)s among your certificates")
                % {"code": filters.certificate},
            )
    return queries.Scope(
        partner=partner,
        programme=programme_of(partner, filters.programme) if filters.programme else None,
        certificate=certificate,
        origin_country=filters.origin_country,
        allocated_from=filters.allocated_from,
        allocated_until=filters.allocated_until,
    )


@router.get(
    "/impact/figures",
    response={200: FiguresOut, 404: ErrorOut},
    summary="Your impact figures under a methodology version, for your scope",
)
def figures(request: HttpRequest, filters: Query[ScopeQuery]) -> dict[str, Any]:
    scope = _scope(request, filters)
    result = queries.impact_figures(scope, _published(filters.version))
    return {
        "version": result.version.number,
        "version_label": result.version.label,
        "units": result.units,
        "units_computed": result.units_computed,
        "avoided_emissions_note": AVOIDED_NOTE,
        "figures": list(result.figures.values()),
    }


@router.get(
    "/impact/figures/{key}",
    response={200: DrillDownOut, 404: ErrorOut},
    summary="One figure batch by batch: records and factors behind it",
)
def drill_down(request: HttpRequest, key: str, filters: Query[ScopeQuery]) -> dict[str, Any]:
    scope = _scope(request, filters)
    result = queries.drill_down(scope, key, _published(filters.version))
    if not result.batches:
        raise ApiError(
            404,
            "not_found",
            gettext("no figure “%(key)s” in your scope: see %(url)s")
            % {"key": key, "url": "/api/v1/impact/figures"},
        )
    return {
        "version": result.version.number,
        "key": result.key,
        "unit": result.unit,
        "value": result.value,
        "batches": [
            {
                "batch": b.block,
                "consignment": b.consignment,
                "origin_country": b.origin_country,
                "batch_units": b.batch_units,
                "units": b.units,
                "batch_value": b.batch_value,
                "value": b.value,
                "note": b.note,
                "records": b.records,
                "factors": b.factors,
            }
            for b in result.batches
        ],
    }


# --- the scenario calculator (public, no key) ---------------------------------------------------


MIX_PATTERN = r"^[-a-z0-9]+:[0-9.]+(,[-a-z0-9]+:[0-9.]+)*$"


class ScenarioQuery(Schema):
    version: int | None = Field(None, description="a published version number; default latest")
    phones: int | None = Field(
        None, description="phones handed in; when given, population and participation are ignored"
    )
    population: int | None = Field(None, description="residents of the city or country")
    participation: Decimal | None = Field(
        None,
        description="phones handed in per resident: 1 = every resident hands in one phone, "
        f"0.4 = 40 %; more than 0, at most {scenario.MAX_PARTICIPATION}; default 1",
    )
    mix: Annotated[str, StringConstraints(max_length=200, pattern=MIX_PATTERN)] | None = Field(
        None,
        description="shares in percent of the version's phone kinds (its factors in kg/phone), "
        "adding up to 100, e.g. `phone-mass:70,phone-mass-un-average:30`; default "
        "`phone-mass:100` (the collected stream, 55 g a phone in 2026.1)",
    )
    country: Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$")] | None = Field(
        None,
        description="ISO 3166-1 alpha-2 code of the collection country (its route distances and "
        "living wage); default the country most issued phones came from",
    )
    area: Literal["urban", "rural"] | None = Field(None, description="the living wage's area")
    price: Decimal | None = Field(
        None,
        description="income paid into the collection network per phone, in the country's "
        "currency; default what the service's issued batches from the country were paid",
    )


class ScenarioFactorOut(FactorUsedOut):
    id: int | None
    name: str


class ScenarioFigureOut(Schema):
    key: str
    value: Decimal | None = Field(description="empty where it cannot be computed (see note)")
    unit: str
    note: str
    version: str = Field(description="the methodology version the figure was computed under")
    factors: list[str] = Field(description="the factors used, as key or key[qualifier]")


class ScenarioKindOut(Schema):
    key: str
    name: str
    share_percent: Decimal
    phones: int
    kg_per_phone: Decimal
    mass_kg: Decimal


class ScenarioMetalOut(Schema):
    metal: str
    grade_g_per_t: Decimal
    content_g: Decimal
    recovered_g: Decimal
    not_recovered_g: Decimal = Field(description="content less recovered: lost along the chain")


class ScenarioLivingWageOut(Schema):
    country: str
    area: str
    currency: str
    price_per_phone: Decimal | None
    price_source: str = Field(description="entered, recorded (the service's batches) or none")
    income: Decimal | None
    benchmark_monthly: Decimal | None
    benchmark_year: int | None
    benchmark_source: str | None


class ScenarioOut(Schema):
    version: int
    version_label: str
    phones: int
    population: int | None
    participation: Decimal | None
    tonnes: Decimal
    kinds: list[ScenarioKindOut]
    metals: list[ScenarioMetalOut]
    living_wage: ScenarioLivingWageOut
    not_recovered: list[str]
    avoided_emissions_note: str
    figures: list[ScenarioFigureOut]
    factors: list[ScenarioFactorOut]


def _mix_of(text: str | None) -> dict[str, Decimal | None]:
    if not text:
        return {}
    pairs = (part.split(":", 1) for part in text.split(","))
    try:
        return {key: Decimal(share) for key, share in pairs}
    except InvalidOperation:  # digits and dots, as the pattern allows, but no number: 1.2.3
        message = gettext("write the mix as kind:percent pairs, e.g. %(example)s") % {
            "example": "phone-mass:100"
        }
        raise ApiError(
            422,
            "invalid_scenario",
            message,
            [{"code": "invalid_scenario", "message": message, "field": "mix"}],
        ) from None


def _factor_name(key: str, qualifier: str) -> str:
    return f"{key}[{qualifier}]" if qualifier else key


@router.get(
    "/impact/scenario",
    auth=None,
    response={200: ScenarioOut, 404: ErrorOut, 422: ErrorOut},
    summary="The scenario calculator: what a number of phones handed in would give",
    description=(
        "Phones (given, or population x participation) x the mass per phone of each kind of the "
        "mix, then every figure as a batch's: per-metal recovery chain, what is not recovered, "
        "avoided emissions (apart from any scope 1-3 inventory), transport by the route "
        "defaults, living-wage months; each figure names its methodology version and factors. "
        "No key; rate-limited per client address like the public registry (`public-api`)."
    ),
)
@decorate_view(rate_limited("public-api", limit=120, window=dt.timedelta(minutes=1)))
def scenario_figures(request: HttpRequest, filters: Query[ScenarioQuery]) -> dict[str, Any]:
    try:
        calculation = scenario_queries.calculate(
            version=filters.version,
            phones=None if filters.phones is None else Decimal(filters.phones),
            population=None if filters.population is None else Decimal(filters.population),
            participation=filters.participation,
            mix=_mix_of(filters.mix),
            country=filters.country,
            area=filters.area,
            price=filters.price,
        )
    except scenario.ScenarioError as exc:
        status, code = (404, "not_found") if exc.field == "version" else (422, "invalid_scenario")
        raise ApiError(
            status, code, exc.message, [{"code": code, "message": exc.message, "field": exc.field}]
        ) from None
    result = calculation.result
    label = result.version_label
    lw = result.benchmark
    return {
        "version": calculation.version.number,
        "version_label": label,
        "phones": result.phones,
        "population": result.scenario.population,
        "participation": result.scenario.participation,
        "tonnes": result.tonnes,
        "kinds": [
            {
                "key": k.key,
                "name": k.name,
                "share_percent": k.share,
                "phones": k.phones,
                "kg_per_phone": k.kg_per_phone,
                "mass_kg": k.mass_kg,
            }
            for k in result.kinds
        ],
        "metals": [
            {
                "metal": metal.metal,
                "grade_g_per_t": metal.grade_g_per_t,
                "content_g": metal.content_g,
                "recovered_g": metal.recovered_g,
                "not_recovered_g": metal.lost_g,
            }
            for metal in result.metals
        ],
        "living_wage": {
            "country": result.scenario.country,
            "area": result.scenario.area,
            "currency": result.currency,
            "price_per_phone": result.scenario.price_per_phone,
            "price_source": calculation.price_source,
            "income": result.income,
            "benchmark_monthly": lw.monthly_amount if lw else None,
            "benchmark_year": lw.year if lw else None,
            "benchmark_source": lw.source if lw else None,
        },
        "not_recovered": result.not_recovered,
        "avoided_emissions_note": AVOIDED_NOTE,
        "figures": [
            {
                "key": f.key,
                "value": f.value,
                "unit": f.unit,
                "note": f.note,
                "version": label,
                "factors": [
                    _factor_name(used["key"], used["qualifier"])
                    for used in f.inputs.get("factors", [])
                ],
            }
            for f in result.figures.values()
        ],
        "factors": [
            {
                "id": f.id,
                "key": f.key,
                "qualifier": f.qualifier,
                "name": f.name,
                "value": f.value,
                "unit": f.unit,
                "source": f.source,
                "source_year": f.source_year,
                "confidence": f.confidence,
            }
            for f in result.factors.values()
        ],
    }
