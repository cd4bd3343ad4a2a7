"""The computation of one batch's impact figures under one methodology version.

A pure function of the batch's records (`BatchInputs`) and the version's factors and rules
(`Method`): no database access, so the same code computes the stored figures and the worked
example of docs/methodology.md. Every figure carries the inputs it used: which records (with
their values) and which factors (by id, key and qualifier).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

KG_PER_TONNE = Decimal(1000)
GRAMS_PER_KG = Decimal(1000)
PRECISION = Decimal("0.0000000001")  # the stored scale (10 decimal places)

EWASTE_MASS = "ewaste_mass_kg"
TRANSPORT_TKM = "transport_tkm"
TRANSPORT_EMISSIONS = "transport_emissions_kg_co2e"
AVOIDED_EMISSIONS = "avoided_emissions_kg_co2e"
LIVING_WAGE_MONTHS = "living_wage_months"
CHAIN = ("content_g", "collected_g", "preprocessed_g", "recovered_g")
NO_BENCHMARK = "no benchmark"


def metal_key(metal: str, stage: str) -> str:
    return f"metal_{metal.lower()}_{stage}"


def not_recovered_key(material: str) -> str:
    return f"not_recovered_{material.replace('-', '_')}"


# --- what the method reads ----------------------------------------------------------------------


@dataclass(frozen=True)
class FactorValue:
    key: str
    qualifier: str
    value: Decimal
    unit: str
    source: str
    source_year: int | None
    confidence: str
    name: str = ""
    id: int | None = None

    def used(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "key": self.key,
            "qualifier": self.qualifier,
            "value": str(self.value),
            "unit": self.unit,
        }


class Method:
    """A methodology version's factors and rules, as the computation reads them."""

    def __init__(
        self, label: str, factors: Iterable[FactorValue], rules: dict[str, dict[str, Any]]
    ) -> None:
        self.label = label
        self.factors = {(f.key, f.qualifier): f for f in factors}
        self.rules = rules

    def factor(self, key: str, qualifier: str = "") -> FactorValue | None:
        return self.factors.get((key, qualifier)) or (
            self.factors.get((key, "")) if qualifier else None
        )

    def rule(self, key: str) -> dict[str, Any]:
        return self.rules.get(key, {})

    @property
    def metals(self) -> list[str]:
        return list(self.rule("metals").get("metals", []))


# --- the batch's records ------------------------------------------------------------------------


@dataclass(frozen=True)
class LegInput:
    id: int | None
    sequence: int
    mode: str
    distance_km: Decimal | None = None  # measured, where the leg records it


@dataclass(frozen=True)
class AssayInput:
    id: int | None
    metal: str
    grade_g_per_t: Decimal
    sample_mass_kg: Decimal
    laboratory: str
    assayed_on: dt.date


@dataclass(frozen=True)
class BenchmarkInput:
    id: int | None
    country: str
    area: str
    year: int
    monthly_amount: Decimal
    currency: str
    source: str


@dataclass(frozen=True)
class IncomeInput:
    id: int | None
    country: str
    area: str
    year: int
    currency: str
    amount: Decimal
    benchmark: BenchmarkInput | None


@dataclass(frozen=True)
class BatchInputs:
    batch_id: int | None
    phones: int
    origin_country: str
    consignment: str
    reception_id: int | None = None
    net_weight_kg: Decimal | None = None  # weighed at the recycler's reception
    shipped_weight_kg: Decimal | None = None  # net weight the consignment was dispatched with
    legs: list[LegInput] = field(default_factory=list)
    assays: list[AssayInput] = field(default_factory=list)
    incomes: list[IncomeInput] = field(default_factory=list)


@dataclass(frozen=True)
class FigureValue:
    key: str
    value: Decimal | None
    unit: str
    note: str = ""
    inputs: dict[str, Any] = field(default_factory=dict)


def _q(value: Decimal) -> Decimal:
    return value.quantize(PRECISION)


# --- the computation ----------------------------------------------------------------------------


def compute(batch: BatchInputs, method: Method) -> list[FigureValue]:
    """Every figure of the batch under the method, in a fixed order."""
    mass = _mass(batch, method)
    figures = [mass]
    assert mass.value is not None
    figures += _metals(batch, method, mass.value)
    recovered = {
        f.inputs["metal"]: f for f in figures if f.key.endswith("_recovered_g") and f.value
    }
    figures.append(_avoided(method, recovered))
    figures += _transport(batch, method, mass.value)
    figures.append(_living_wage(batch))
    figures += _not_recovered(method)
    return figures


def _mass(batch: BatchInputs, method: Method) -> FigureValue:
    order = method.rule("mass").get("order", ["reception-net-weight", "phones-x-default"])
    for source in order:
        if source == "reception-net-weight" and batch.net_weight_kg:
            return FigureValue(
                EWASTE_MASS,
                _q(batch.net_weight_kg),
                "kg",
                "weighed net mass at the recycler's reception",
                {
                    "source": source,
                    "records": [
                        {
                            "type": "reception",
                            "id": batch.reception_id,
                            "consignment": batch.consignment,
                            "net_weight_kg": str(batch.net_weight_kg),
                            "note": "weighed net mass, less any refused part",
                        }
                    ],
                    "factors": [],
                },
            )
        default = method.factor(method.rule("mass").get("default", "phone-mass"))
        if source == "phones-x-default" and default is not None:
            return FigureValue(
                EWASTE_MASS,
                _q(batch.phones * default.value),
                "kg",
                "no weighed mass: counted phones x the default mass per phone",
                {
                    "source": source,
                    "records": [{"type": "batch", "id": batch.batch_id, "phones": batch.phones}],
                    "factors": [default.used()],
                },
            )
    raise ValueError(
        f"methodology {method.label} gives no way to the mass of batch {batch.batch_id}: "
        "add a default mass per phone to the version"
    )


def _grade(
    batch: BatchInputs, method: Method, metal: str
) -> tuple[Decimal, str, list[dict[str, Any]], list[dict[str, Any]]] | None:
    """(grade g/t, source, records, factors): the assays' sample-weighted mean beats the default."""
    for source in method.rule("grade").get("order", ["lot-assay", "grade"]):
        assays = [a for a in batch.assays if a.metal == metal]
        if source == "lot-assay" and assays:
            sampled = sum((a.sample_mass_kg for a in assays), start=Decimal(0))
            grade = sum((a.grade_g_per_t * a.sample_mass_kg for a in assays), Decimal(0)) / sampled
            records = [
                {
                    "type": "assay",
                    "id": a.id,
                    "metal": a.metal,
                    "grade_g_per_t": str(a.grade_g_per_t),
                    "sample_mass_kg": str(a.sample_mass_kg),
                    "laboratory": a.laboratory,
                    "assayed_on": a.assayed_on.isoformat(),
                }
                for a in assays
            ]
            return grade, source, records, []
        literature = method.factor("grade", metal)
        if source == "grade" and literature is not None and literature.qualifier == metal:
            return literature.value, source, [], [literature.used()]
    return None


def _metals(batch: BatchInputs, method: Method, mass_kg: Decimal) -> list[FigureValue]:
    figures: list[FigureValue] = []
    stages = method.rule("recovery-chain").get("stages", [])
    for metal in method.metals:
        grade = _grade(batch, method, metal)
        if grade is None:
            continue
        grade_g_per_t, source, records, factors = grade
        amount = grade_g_per_t * mass_kg / KG_PER_TONNE
        figures.append(
            FigureValue(
                metal_key(metal, CHAIN[0]),
                _q(amount),
                "g",
                f"{metal} in the e-waste: {'assayed' if source == 'lot-assay' else 'default'} "
                "grade per tonne x mass",
                {
                    "metal": metal,
                    "grade_source": source,
                    "grade_g_per_t": str(grade_g_per_t),
                    "mass_kg": str(mass_kg),
                    "records": records,
                    "factors": factors,
                },
            )
        )
        for stage_key, figure_stage in zip(stages, CHAIN[1:], strict=False):
            factor = method.factor(stage_key, metal)
            if factor is None:
                raise ValueError(
                    f"methodology {method.label} has no {stage_key} for {metal}: add it to the "
                    "version (a stage of the recovery chain)"
                )
            amount = amount * factor.value
            figures.append(
                FigureValue(
                    metal_key(metal, figure_stage),
                    _q(amount),
                    "g",
                    f"{metal} x {stage_key} {factor.value.normalize()}",
                    {"metal": metal, "records": [], "factors": [factor.used()]},
                )
            )
    return figures


def _avoided(method: Method, recovered: dict[str, FigureValue]) -> FigureValue:
    rule = method.rule("avoided-emissions")
    total = Decimal(0)
    lines: list[dict[str, Any]] = []
    factors: list[dict[str, Any]] = []
    skipped: list[str] = []
    for metal, figure in recovered.items():
        primary = method.factor(rule.get("primary", "ghg-primary"), metal)
        recycled = method.factor(rule.get("recycled", "ghg-recycled"), metal)
        if (
            primary is None
            or recycled is None
            or primary.qualifier != metal
            or recycled.qualifier != metal
        ):
            skipped.append(metal)
            continue
        assert figure.value is not None
        avoided = figure.value / GRAMS_PER_KG * (primary.value - recycled.value)
        total += avoided
        lines.append({"metal": metal, "recovered_g": str(figure.value), "kg_co2e": str(avoided)})
        factors += [primary.used(), recycled.used()]
    note = "avoided emissions, reported apart from scope 1-3 and never netted"
    if skipped:
        note += f"; not counted for lack of a primary or recycling factor: {', '.join(skipped)}"
    return FigureValue(
        AVOIDED_EMISSIONS,
        _q(total),
        "kg CO2e",
        note,
        {"metals": lines, "not_counted": skipped, "records": [], "factors": factors},
    )


def _transport(batch: BatchInputs, method: Method, mass_kg: Decimal) -> list[FigureValue]:
    rule = method.rule("transport-emissions")
    shipped_kg = batch.shipped_weight_kg or mass_kg
    tonnes = shipped_kg / KG_PER_TONNE
    tkm_total = Decimal(0)
    emitted = Decimal(0)
    legs: list[dict[str, Any]] = []
    factors: dict[tuple[str, str], dict[str, Any]] = {}
    uncounted: list[str] = []
    for leg in sorted(batch.legs, key=lambda leg: leg.sequence):
        line: dict[str, Any] = {
            "type": "carrier_leg",
            "id": leg.id,
            "sequence": leg.sequence,
            "mode": leg.mode,
        }
        default = method.factor("route-distance", f"{batch.origin_country}-{leg.mode}")
        if leg.distance_km is not None:
            distance, line["distance_source"] = leg.distance_km, "measured"
        elif default is not None and default.qualifier:
            distance, line["distance_source"] = default.value, "route default (low confidence)"
            factors[(default.key, default.qualifier)] = default.used()
        else:
            line["distance_source"] = "none"
            uncounted.append(f"leg {leg.sequence} ({leg.mode}): no distance")
            legs.append(line)
            continue
        tkm = tonnes * distance
        line.update(distance_km=str(distance), tkm=str(tkm))
        tkm_total += tkm
        intensity = method.factor(rule.get("intensity", "transport-intensity"), leg.mode)
        if intensity is None or intensity.qualifier != leg.mode:
            uncounted.append(f"leg {leg.sequence} ({leg.mode}): no emission intensity")
        else:
            line["kg_co2e"] = str(tkm * intensity.value)
            emitted += tkm * intensity.value
            factors[(intensity.key, intensity.qualifier)] = intensity.used()
        legs.append(line)
    records: list[dict[str, Any]] = [
        {"type": "consignment", "consignment": batch.consignment, "shipped_kg": str(shipped_kg)},
        *legs,
    ]
    note = "emitted by transport (sea and road t-km), reported apart from avoided emissions"
    if uncounted:
        note += "; not counted: " + "; ".join(uncounted)
    inputs = {"records": records, "factors": list(factors.values()), "not_counted": uncounted}
    return [
        FigureValue(TRANSPORT_TKM, _q(tkm_total), "t-km", "tonne-kilometres shipped", inputs),
        FigureValue(TRANSPORT_EMISSIONS, _q(emitted), "kg CO2e", note[:300], inputs),
    ]


def _living_wage(batch: BatchInputs) -> FigureValue:
    months: Decimal | None = None
    lines: list[dict[str, Any]] = []
    missing: list[str] = []
    for income in batch.incomes:
        line: dict[str, Any] = {
            "type": "batch_income",
            "id": income.id,
            "country": income.country,
            "area": income.area,
            "year": income.year,
            "currency": income.currency,
            "amount": str(income.amount),
        }
        benchmark = income.benchmark
        if benchmark is None or benchmark.currency != income.currency:
            line["benchmark"] = NO_BENCHMARK
            missing.append(f"{income.country} {income.area} {income.year}")
        else:
            share = income.amount / benchmark.monthly_amount
            months = (months or Decimal(0)) + share
            line["benchmark"] = {
                "id": benchmark.id,
                "year": benchmark.year,
                "monthly_amount": str(benchmark.monthly_amount),
                "currency": benchmark.currency,
                "source": benchmark.source,
            }
            line["months"] = str(share)
        lines.append(line)
    note = "income paid to collectors / monthly living wage"
    if missing:
        note = f"{NO_BENCHMARK} for {', '.join(missing)}" + (
            "; months counted for the other places" if months is not None else ""
        )
    return FigureValue(
        LIVING_WAGE_MONTHS,
        None if months is None else _q(months),
        "months",
        note[:300],
        {"records": lines, "factors": [], "no_benchmark": missing},
    )


def _not_recovered(method: Method) -> list[FigureValue]:
    return [
        FigureValue(
            not_recovered_key(material["key"]),
            None,
            "",
            material["statement"][:300],
            {"records": [], "factors": []},
        )
        for material in method.rule("not-recovered").get("materials", [])
    ]
