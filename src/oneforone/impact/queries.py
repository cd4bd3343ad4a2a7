"""The dashboard figures, computed from records: registry totals, pipeline, weight, living wages.

Every figure here is a query over the records behind it; nothing is stored twice. Weights come from
the recycler's measured reception weights; living-wage months from income paid to collectors
divided by a dated, sourced benchmark (or reported as missing).
"""

from __future__ import annotations

import datetime as dt
import json
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db import connection
from django.utils.translation import gettext

from oneforone.accounts.models import Organisation
from oneforone.collection import money_queries
from oneforone.collection.models import LivingWageBenchmark
from oneforone.core.money import quantize
from oneforone.impact.models import Factor, MethodologyVersion, VersionStatus
from oneforone.partners.models import Programme
from oneforone.registry import supply
from oneforone.registry.models import Allocation, Certificate, IssuanceBatch

# Units allocated per registration, joined as `a` onto registrations `r`.
_ALLOCATED_PER_REGISTRATION = """
    LEFT JOIN (SELECT registration_id, SUM(quantity) AS units FROM registry_allocation
               WHERE revoked_at IS NULL GROUP BY registration_id) a ON a.registration_id = r.id
"""


@dataclass(frozen=True)
class RegistryTotals:
    registrations: int
    devices_registered: int
    units_owed: int
    units_allocated: int
    devices_compensated: int

    @property
    def devices_owed(self) -> int:
        return self.devices_registered - self.devices_compensated

    @property
    def units_backlog(self) -> int:
        return self.units_owed - self.units_allocated


# Registrations `r` of the scope: a partner, one of its programmes, or the whole service; a
# cancelled registration neither owes nor counts.
_IN_SCOPE = """
    r.cancelled_at IS NULL
    AND (%(partner)s::bigint IS NULL OR r.partner_id = %(partner)s)
    AND (%(programme)s::bigint IS NULL OR r.programme_id = %(programme)s)
"""


def _scope(partner: Organisation | None, programme: Programme | None) -> dict[str, Any]:
    if programme is not None and partner is not None and programme.partner_id != partner.pk:
        raise ValueError("the programme belongs to another partner")
    return {
        "partner": partner.pk if partner else None,
        "programme": programme.pk if programme else None,
    }


def registry_totals(
    partner: Organisation | None = None, programme: Programme | None = None
) -> RegistryTotals:
    """Devices count once: a device held, declined or withdrawn as a double claim is not owed."""
    sql = f"""
        SELECT COUNT(*), COALESCE(SUM(r.quantity - r.devices_excluded), 0), COALESCE(SUM(r.units_owed), 0),
               COALESCE(SUM(a.units), 0), COALESCE(SUM(COALESCE(a.units, 0) / r.units_per_device), 0)
        FROM partners_registration r
        {_ALLOCATED_PER_REGISTRATION}
        WHERE {_IN_SCOPE}
    """
    row = _one(sql, _scope(partner, programme))
    return RegistryTotals(*(int(v) for v in row))


@dataclass(frozen=True)
class Pipeline:
    at_hubs: int
    in_transit: int
    received: int
    treated: int
    units_available: int
    units_reserved: int
    units_cancelled: int


def pipeline() -> Pipeline:
    """Phones of the whole service by stage (shared supply: every partner sees the same)."""
    sql = """
        SELECT
          (SELECT COALESCE(SUM(i.phones), 0) FROM collection_intake i
             LEFT JOIN collection_lot l ON l.id = i.lot_id
             LEFT JOIN shipments_consignment c ON c.id = l.consignment_id
             WHERE c.id IS NULL OR c.state = 'draft'),
          (SELECT COALESCE(SUM(phones_dispatched), 0) FROM shipments_consignment
             WHERE state IN ('dispatched', 'in_transit')),
          (SELECT COALESCE(SUM(r.counted_phones - r.refused_phones), 0) FROM recycling_reception r
             JOIN shipments_consignment c ON c.id = r.consignment_id WHERE c.state = 'received'),
          (SELECT COALESCE(SUM(quantity), 0) FROM registry_issuancebatch),
          (SELECT COALESCE(SUM(quantity), 0) FROM registry_cancellation)
    """
    at_hubs, in_transit, received, treated, cancelled = (int(v) for v in _one(sql, {}))
    # Free and reserved units as the allocator itself sees them: one definition of "available".
    available = sum(s.size for s in supply.free_stretches())
    reserved = sum(s.size for stretches in supply.reserved_stretches().values() for s in stretches)
    return Pipeline(at_hubs, in_transit, received, treated, available, reserved, cancelled)


def weight_diverted_kg(
    partner: Organisation | None = None, programme: Programme | None = None
) -> Decimal:
    """Measured net weight: a partner's share is its units times its batches' kg per counted phone."""
    if partner is None and programme is None:
        sql = """
            SELECT COALESCE(SUM(b.net_weight_kg * (b.quantity - COALESCE(c.units, 0)) / b.quantity), 0)
            FROM registry_issuancebatch b
            LEFT JOIN (SELECT batch_id, SUM(quantity) AS units FROM registry_cancellation
                       GROUP BY batch_id) c ON c.batch_id = b.id
        """
        params: dict[str, Any] = {}
    else:
        sql = f"""
            SELECT COALESCE(SUM(a.quantity * b.net_weight_kg / b.quantity), 0)
            FROM registry_allocation a
            JOIN registry_issuancebatch b ON b.id = a.batch_id
            JOIN partners_registration r ON r.id = a.registration_id
            WHERE {_IN_SCOPE} AND a.revoked_at IS NULL
        """
        params = _scope(partner, programme)
    return Decimal(_one(sql, params)[0]).quantize(Decimal("0.1"))


@dataclass
class LivingWages:
    months: Decimal = Decimal(0)
    lines: list[LivingWageLine] = field(default_factory=list)

    @property
    def missing_benchmarks(self) -> list[LivingWageLine]:
        return [line for line in self.lines if line.benchmark is None]


@dataclass(frozen=True)
class LivingWageLine:
    country: str
    area: str
    year: int
    currency: str
    income: Decimal
    benchmark: LivingWageBenchmark | None

    @property
    def months(self) -> Decimal | None:
        if self.benchmark is None or self.benchmark.currency != self.currency:
            return None
        return (self.income / self.benchmark.monthly_amount).quantize(Decimal("0.01"))


def living_wages(
    partner: Organisation | None = None, programme: Programme | None = None
) -> LivingWages:
    """Living-wage months: income paid into the collection network / the monthly benchmark.

    The service's figure comes from the payment ledger: what collectors were paid for phones and
    what collection partners were paid in handling fees, net of reversals, per country, area and
    year (see `money_queries`). A partner's figure counts the income behind its allocated units:
    each unit carries its batch's income divided by its phones.
    """
    if partner is None and programme is None:
        rows = _ledger_income_per_year()
    else:
        sql = f"""
            SELECT inc.country, inc.area, inc.year, inc.currency,
                   SUM(inc.amount * a.quantity / b.quantity)
            FROM registry_allocation a
            JOIN partners_registration r ON r.id = a.registration_id
            JOIN registry_issuancebatch b ON b.id = a.batch_id
            JOIN registry_batchincome inc ON inc.batch_id = b.id AND a.revoked_at IS NULL
            WHERE {_IN_SCOPE}
            GROUP BY 1, 2, 3, 4
        """
        with connection.cursor() as cursor:
            cursor.execute(sql, _scope(partner, programme))
            rows = cursor.fetchall()
    return living_wages_of(rows)


def living_wages_of(rows: Iterable[tuple[str, str, int, str, Any]]) -> LivingWages:
    """Income per (country, area, year, currency) against the benchmark of that place and year."""
    benchmarks = money_queries.Benchmarks()
    result = LivingWages()
    for country, area, year, currency, income in sorted(rows):
        line = LivingWageLine(
            country,
            area,
            year,
            currency,
            quantize(Decimal(income), currency),
            benchmarks.for_year(country, area, year),
        )
        result.lines.append(line)
        result.months += line.months or 0
    return result


def _ledger_income_per_year() -> list[tuple[str, str, int, str, Decimal]]:
    totals: dict[tuple[str, str, int, str], Decimal] = defaultdict(Decimal)
    for month in money_queries.income_months():
        totals[(month.country, month.area, month.month.year, month.currency)] += month.income
    return [(*key, income) for key, income in totals.items() if income]


def by_category(
    partner: Organisation | None = None, programme: Programme | None = None
) -> list[tuple[str, int, int]]:
    """(category, devices registered, devices compensated) per device category."""
    sql = f"""
        SELECT c.name, SUM(r.quantity - r.devices_excluded), SUM(COALESCE(a.units, 0) / r.units_per_device)
        FROM partners_registration r
        JOIN partners_devicecategory c ON c.id = r.category_id
        {_ALLOCATED_PER_REGISTRATION}
        WHERE {_IN_SCOPE}
        GROUP BY c.name ORDER BY 2 DESC
    """
    with connection.cursor() as cursor:
        cursor.execute(sql, _scope(partner, programme))
        return [(name, int(reg), int(comp)) for name, reg, comp in cursor.fetchall()]


def origins(
    partner: Organisation | None = None, programme: Programme | None = None
) -> list[tuple[str, int]]:
    """Units allocated (or issued, for the whole service) by the country their phones came from."""
    if partner is None and programme is None:
        sql = """SELECT origin_country, SUM(quantity) FROM registry_issuancebatch
                 GROUP BY 1 ORDER BY 2 DESC"""
    else:
        sql = f"""
            SELECT b.origin_country, SUM(a.quantity) FROM registry_allocation a
            JOIN registry_issuancebatch b ON b.id = a.batch_id
            JOIN partners_registration r ON r.id = a.registration_id
            WHERE {_IN_SCOPE} AND a.revoked_at IS NULL GROUP BY 1 ORDER BY 2 DESC
        """
    with connection.cursor() as cursor:
        cursor.execute(sql, _scope(partner, programme))
        return [(c, int(n)) for c, n in cursor.fetchall()]


def _one(sql: str, params: dict[str, Any]) -> tuple[Any, ...]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    assert row is not None
    return tuple(row)


# --- impact figures under a methodology version (issue 7) ---------------------------------------


@dataclass(frozen=True)
class Scope:
    """Which allocated units a figure covers; the fields combine (all given must hold).

    `certificate`: the units its registration held when it was issued (also after a later
    revocation); `allocation`: that range (revoked or not); otherwise the active allocations,
    narrowed by partner, programme, the country the phones came from and the period (UTC dates,
    `until` included) in which the units were allocated."""

    partner: Organisation | None = None
    programme: Programme | None = None
    certificate: Certificate | None = None
    allocation: Allocation | None = None
    origin_country: str | None = None
    allocated_from: dt.date | None = None
    allocated_until: dt.date | None = None
    # Several registrations at once (their active allocations): e.g. the certified registrations
    # of one product model, in one query rather than one per certificate.
    registrations: tuple[int, ...] | None = None
    # The service's figures: every issued unit that is not cancelled, allocated or not (with
    # `origin_country`; the period then applies to the batch's issuance).
    issued: bool = False

    def units_sql(self) -> str:
        if not self.issued:
            return _SCOPE_UNITS
        if (
            self.partner
            or self.programme
            or self.certificate
            or self.allocation
            or self.registrations is not None
        ):
            raise ValueError("the issued units are the service's: leave out partner and the like")
        return _ISSUED_UNITS

    def params(self) -> dict[str, Any]:
        if (
            self.programme is not None
            and self.partner is not None
            and self.programme.partner_id != self.partner.pk
        ):
            raise ValueError("the programme belongs to another partner")
        certificate = self.certificate
        return {
            "partner": self.partner.pk if self.partner else None,
            "programme": self.programme.pk if self.programme else None,
            "certificate_registration": certificate.registration_id if certificate else None,
            "certificate_at": certificate.issued_at if certificate else None,
            "allocation": self.allocation.pk if self.allocation else None,
            "registrations": None if self.registrations is None else list(self.registrations),
            "origin": self.origin_country,
            "from": self.allocated_from,
            "until": self.allocated_until,
        }


# Units per batch of the scope `s`: allocations `a` of registrations `r` from batches `b`.
_SCOPE_UNITS = """
    SELECT a.batch_id, SUM(a.quantity) AS units
    FROM registry_allocation a
    JOIN partners_registration r ON r.id = a.registration_id
    JOIN registry_issuancebatch b ON b.id = a.batch_id
    WHERE (CASE
             WHEN %(allocation)s::bigint IS NOT NULL THEN a.id = %(allocation)s
             WHEN %(certificate_registration)s::bigint IS NOT NULL THEN
                  a.registration_id = %(certificate_registration)s
                  AND a.allocated_at <= %(certificate_at)s
                  AND (a.revoked_at IS NULL OR a.revoked_at > %(certificate_at)s)
             ELSE a.revoked_at IS NULL
           END)
      AND (%(partner)s::bigint IS NULL OR r.partner_id = %(partner)s)
      AND (%(programme)s::bigint IS NULL OR r.programme_id = %(programme)s)
      AND (%(registrations)s::bigint[] IS NULL OR a.registration_id = ANY(%(registrations)s))
      AND (%(origin)s::text IS NULL OR b.origin_country = %(origin)s)
      AND (%(from)s::date IS NULL OR (a.allocated_at AT TIME ZONE 'UTC')::date >= %(from)s)
      AND (%(until)s::date IS NULL OR (a.allocated_at AT TIME ZONE 'UTC')::date <= %(until)s)
    GROUP BY a.batch_id
"""

# Units per batch of the whole service: issued less cancelled, by origin and issuance date.
_ISSUED_UNITS = """
    SELECT b.id AS batch_id, b.quantity - COALESCE(SUM(x.quantity), 0) AS units
    FROM registry_issuancebatch b
    LEFT JOIN registry_cancellation x ON x.batch_id = b.id
    WHERE (%(origin)s::text IS NULL OR b.origin_country = %(origin)s)
      AND (%(from)s::date IS NULL OR (b.issued_at AT TIME ZONE 'UTC')::date >= %(from)s)
      AND (%(until)s::date IS NULL OR (b.issued_at AT TIME ZONE 'UTC')::date <= %(until)s)
    GROUP BY b.id
"""

# The latest computation of each batch under version %(version)s.
_LATEST = """
    SELECT DISTINCT ON (c.batch_id) c.id, c.batch_id FROM impact_computation c
    WHERE c.version_id = %(version)s ORDER BY c.batch_id, c.id DESC
"""

SHOWN_PLACES = Decimal("0.000001")


@dataclass(frozen=True)
class ImpactFigure:
    key: str
    value: Decimal | None  # None: nothing to count (e.g. "no benchmark" everywhere)
    unit: str
    units_counted: int  # units whose batch figure has a value
    note: str = ""


@dataclass
class ImpactFigures:
    version: MethodologyVersion
    units: int  # allocated units in the scope
    units_computed: int  # of which the batch has figures under the version
    figures: dict[str, ImpactFigure] = field(default_factory=dict)

    def value(self, key: str) -> Decimal | None:
        figure = self.figures.get(key)
        return figure.value if figure else None


def resolve_version(version: MethodologyVersion | int | None) -> MethodologyVersion:
    """The version asked for (object or number), by default the latest published one."""
    if isinstance(version, MethodologyVersion):
        return version
    published = MethodologyVersion.objects.filter(status=VersionStatus.PUBLISHED)
    found = (
        published.filter(number=version).first()
        if version is not None
        else published.order_by("-number").first()
    )
    if found is None:
        raise MethodologyVersion.DoesNotExist(
            gettext("no published methodology version %(number)s") % {"number": version}
            if version is not None
            else gettext("no methodology version is published yet")
        )
    return found


def impact_figures(scope: Scope, version: MethodologyVersion | int | None = None) -> ImpactFigures:
    """Every figure of a scope: Σ over its allocated units of the batch's figure x units / batch
    quantity, under one version (default: the latest published). Certificates, dashboards,
    exports and the API all read their impact through this function."""
    resolved = resolve_version(version)
    params = {**scope.params(), "version": resolved.pk}
    sql = f"""
        WITH s AS ({scope.units_sql()}), latest AS ({_LATEST})
        SELECT f.key, f.unit, SUM(f.value * s.units / b.quantity),
               COALESCE(SUM(s.units) FILTER (WHERE f.value IS NOT NULL), 0), MIN(f.note)
        FROM s
        JOIN registry_issuancebatch b ON b.id = s.batch_id
        JOIN latest l ON l.batch_id = s.batch_id
        JOIN impact_figure f ON f.computation_id = l.id
        GROUP BY f.key, f.unit ORDER BY f.key
    """
    counts_sql = f"""
        WITH s AS ({scope.units_sql()}), latest AS ({_LATEST})
        SELECT COALESCE(SUM(s.units), 0),
               COALESCE(SUM(s.units) FILTER (WHERE l.id IS NOT NULL), 0)
        FROM s LEFT JOIN latest l ON l.batch_id = s.batch_id
    """
    units, computed = _one(counts_sql, params)
    result = ImpactFigures(resolved, int(units), int(computed))
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        for key, unit, total, counted, note in cursor.fetchall():
            value = None if total is None else Decimal(total).quantize(SHOWN_PLACES)
            # A note is shown where it is the same for every batch (e.g. not recovered).
            result.figures[key] = ImpactFigure(key, value, unit, int(counted), note or "")
    return result


@dataclass(frozen=True)
class FactorUsed:
    id: int
    key: str
    qualifier: str
    name: str
    value: Decimal
    unit: str
    source: str
    source_year: int | None
    confidence: str


@dataclass(frozen=True)
class BatchShare:
    batch_id: int
    block: str
    consignment: str
    origin_country: str
    batch_units: int
    units: int
    batch_value: Decimal | None
    value: Decimal | None
    note: str
    records: list[dict[str, Any]]
    factors: list[FactorUsed]
    computed_at: dt.datetime


@dataclass
class DrillDown:
    version: MethodologyVersion
    key: str
    unit: str
    value: Decimal | None
    batches: list[BatchShare]


def drill_down(
    scope: Scope, key: str, version: MethodologyVersion | int | None = None
) -> DrillDown:
    """One figure of a scope, batch by batch: the units of each batch in the scope, the batch's
    figure and share, the records behind it (reception weight, assays, carrier legs, income) and
    the factors used with their sources."""
    resolved = resolve_version(version)
    params = {**scope.params(), "version": resolved.pk, "key": key}
    sql = f"""
        WITH s AS ({scope.units_sql()}), latest AS ({_LATEST})
        SELECT b.id, s.units, f.value, f.unit, f.note, f.inputs, c.computed_at
        FROM s
        JOIN registry_issuancebatch b ON b.id = s.batch_id
        JOIN latest l ON l.batch_id = s.batch_id
        JOIN impact_computation c ON c.id = l.id
        JOIN impact_figure f ON f.computation_id = l.id AND f.key = %(key)s
        ORDER BY b.id
    """
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        # A raw cursor returns jsonb as text.
        rows = [
            (*row[:5], json.loads(row[5]) if isinstance(row[5], str) else row[5], row[6])
            for row in cursor.fetchall()
        ]
    batches = IssuanceBatch.objects.select_related("consignment").in_bulk([r[0] for r in rows])
    factor_ids = {
        f["id"] for r in rows for f in (r[5] or {}).get("factors", []) if f.get("id") is not None
    }
    factors = {
        f.pk: FactorUsed(
            f.pk,
            f.key,
            f.qualifier,
            f.name,
            f.value,
            f.unit,
            f.source,
            f.source_year,
            f.confidence,
        )
        for f in Factor.objects.filter(pk__in=factor_ids)
    }
    shares: list[BatchShare] = []
    total: Decimal | None = None
    unit = ""
    for batch_id, units, value, figure_unit, note, inputs, computed_at in rows:
        unit = figure_unit
        batch = batches[batch_id]
        share = None if value is None else Decimal(value) * units / batch.quantity
        if share is not None:
            total = (total or Decimal(0)) + share
        shares.append(
            BatchShare(
                batch_id=batch_id,
                block=batch.block,
                consignment=batch.consignment.reference,
                origin_country=batch.origin_country,
                batch_units=batch.quantity,
                units=int(units),
                batch_value=value,
                value=None if share is None else share.quantize(SHOWN_PLACES),
                note=note,
                records=list((inputs or {}).get("records", [])),
                factors=[
                    factors[f["id"]]
                    for f in (inputs or {}).get("factors", [])
                    if f.get("id") in factors
                ],
                computed_at=computed_at,
            )
        )
    return DrillDown(
        resolved,
        key,
        unit,
        None if total is None else total.quantize(SHOWN_PLACES),
        shares,
    )


def methodology_versions(*, published_only: bool = True) -> list[MethodologyVersion]:
    versions = MethodologyVersion.objects.order_by("-number").prefetch_related("factors", "rules")
    if published_only:
        versions = versions.filter(status=VersionStatus.PUBLISHED)
    return list(versions)


@dataclass(frozen=True)
class ScopeBasis:
    """What a scope's figures rest on: per figure key, the units whose batch figure used measured
    records (weighed net mass, lot assays) rather than a default factor; and the countries the
    scope's phones were collected in."""

    measured_units: dict[str, int]
    origin_countries: list[str]


def scope_basis(scope: Scope, version: MethodologyVersion | int | None = None) -> ScopeBasis:
    resolved = resolve_version(version)
    params = {**scope.params(), "version": resolved.pk}
    measured_sql = f"""
        WITH s AS ({scope.units_sql()}), latest AS ({_LATEST})
        SELECT f.key, COALESCE(SUM(s.units) FILTER (
                   WHERE f.inputs->>'source' = 'reception-net-weight'
                      OR f.inputs->>'grade_source' = 'lot-assay'), 0)
        FROM s
        JOIN latest l ON l.batch_id = s.batch_id
        JOIN impact_figure f ON f.computation_id = l.id
        GROUP BY f.key
    """
    countries_sql = f"""
        WITH s AS ({scope.units_sql()})
        SELECT DISTINCT b.origin_country FROM s JOIN registry_issuancebatch b ON b.id = s.batch_id
        ORDER BY 1
    """
    with connection.cursor() as cursor:
        cursor.execute(measured_sql, params)
        measured = {key: int(units) for key, units in cursor.fetchall()}
        cursor.execute(countries_sql, params)
        countries = [country for (country,) in cursor.fetchall()]
    return ScopeBasis(measured, countries)
