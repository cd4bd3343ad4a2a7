"""docs/methodology.md, generated from the methodology data (`oneforone methodology-doc`).

The factors, sources and rules come from the published versions; the worked example is computed
by `impact.method.compute`, the code that computes the stored figures. A test fails when the
checked-in file differs from what this module generates.
"""

from __future__ import annotations

from decimal import Decimal

from oneforone.collection import money_queries
from oneforone.collection.models import LivingWageBenchmark
from oneforone.impact import actions
from oneforone.impact import method as m
from oneforone.impact.models import MethodologyVersion
from oneforone.impact.queries import methodology_versions

DASHBOARD = """\
## Dashboard figures

Every figure on a dashboard or the public home page is a query over the records behind it
(`src/oneforone/impact/queries.py`); nothing is typed in or stored twice.

| figure | computed as | records |
|---|---|---|
| devices registered | Σ (quantity − devices excluded) of registrations: a device held, declined or withdrawn as a double claim is not counted | `partners_registration` |
| units owed | Σ quantity × units per device (the factor in force when registered) | `partners_registration.units_owed` |
| units allocated | Σ length of allocated unit ranges | `registry_allocation` |
| devices compensated | Σ per registration of ⌊units allocated ÷ units per device⌋ | both |
| devices still owed | devices registered − devices compensated | both |
| phones at hubs | intakes not yet in a dispatched consignment | `collection_intake`, `collection_lot`, `shipments_consignment` |
| phones in transit | dispatched count of consignments dispatched or picked up | `shipments_consignment` |
| phones received | the recycler's count for consignments received, not yet treated | `recycling_reception` |
| phones treated | units issued (one per counted phone) | `registry_issuancebatch` |
| e-waste diverted (kg) | the service: Σ net weight weighed at reception of treated consignments; a partner: Σ over its allocations of units × (batch kg ÷ batch units) | `registry_issuancebatch.net_weight_kg` (from `recycling_reception`) |
| living-wage months | Σ income paid to collectors ÷ monthly living wage of the hub's country, area and year | `collection_intake.amount_paid`, `collection_livingwagebenchmark` |
"""  # noqa: RUF001 - the minus sign of the formulas

IMPACT = """\
## Impact figures per batch, under a methodology version

A methodology version is a set of factors (each with its unit, source, year and confidence) and
rules. A published version is frozen: the database refuses any change to it, its factors or its
rules, and a change is a new version (drafted, then published by operator staff). When a batch
is issued, and again when a lot assay of its consignment is recorded, its figures are computed
under every published version; when a version is published, every batch is computed under it
(`oneforone compute-impact --version N` does the same from the command line, with progress).
Figures are stored append-only per batch, version and figure, with the records and factors they
were computed from; publishing a version never changes a figure stored under an older one.

| figure | computed as | records first, defaults after |
|---|---|---|
| e-waste diverted (kg) | the recycler's weighed net mass (less any refused part); only without it, counted phones × default mass per phone | `recycling_reception`; factor `phone-mass` |
| metal content (g), per metal | grade (g/t) × mass (t): the consignment's lot assays (mean weighted by sample mass) beat the version's grade per tonne; grades are never applied per phone | `recycling_lotassay`; factor `grade` |
| metal collected, pre-processed, recovered (g) | content × collection yield, × pre-processing yield, × smelter yield: the recovery chain | factors `collection-yield`, `pre-processing-yield`, `smelter-yield` |
| avoided emissions (kg CO2e) | Σ recovered kg × (primary production GHG − recycling GHG), for metals with both factors | factors `ghg-primary`, `ghg-recycled` |
| transport (t-km, kg CO2e) | Σ per carrier leg of shipped net t × km × the mode's intensity | `shipments_carrierleg`; factors `route-distance`, `transport-intensity` |
| living-wage months | Σ income paid for the batch's phones ÷ monthly living wage of the place and year; none: **no benchmark** | `registry_batchincome`, `collection_livingwagebenchmark` |
| not recovered | lines stating what the process does not recover as material | rule `not-recovered` |

**Avoided emissions are not a reduction of a partner's own emissions.** They are reported apart
from a partner's scope 1-3 inventory and never netted against it (WBCSD avoided-emissions
guidance); transport emissions are reported as emitted, beside them.

**Transport distances.** Carrier legs record the means of transport (road, sea) but not yet a
measured distance; a measured distance, where a leg has one, beats the default. Until then each
leg takes the version's route default for its origin country and mode (`route-distance`, e.g.
`GH-S` for the sea leg from Ghana to Antwerp, `GH-R` for a road leg in Ghana). These defaults
have a **low** confidence: they are rounded port-to-port and hub-to-port distances. A mode with
no intensity in the version (road in 2026.1) still counts its t-km but no emissions, and the
figure says so.

**Sums over a scope.** A certificate, a partner, a programme, an origin country or a period is
Σ over its allocated units of the batch's figure × units ÷ batch units, under one version
(default: the latest published); the service's own figures count every issued unit that is
not cancelled, allocated or not. Certificates, dashboards, exports and the API read figures
through that one query (`impact.queries.impact_figures`); `impact.queries.drill_down` lists,
for a figure of a scope, the batches, the records behind them and the factors with their
sources. The API serves both under `/api/v1/impact/`; the versions are public at
`/methodology/`.
"""  # noqa: RUF001 - the minus sign of the formulas

LIVING_WAGES = """\
## Living-wage months

Income is what hubs paid collectors (phones × price per phone, in local currency, exactly as
recorded). For a partner, each allocated unit carries its batch's income divided by the batch's
counted phones (`registry_batchincome`, frozen at issuance). Income is grouped by country, area
(urban/rural) and year and divided by the benchmark for that place and year, or the latest earlier
one; a later benchmark is never used backwards, and where none exists (Nigeria today) the line says
**no benchmark** and adds nothing, instead of guessing.
"""

HANDLING_FEES = """\
Handling fees paid to collection partners (storage, record keeping) are not yet recorded, so the
figure is a lower bound of the income the service brings into the networks.
"""

# The worked example's batch: a Ghanaian hub in Accra (urban).
EXAMPLE_PHONES = 250
EXAMPLE_PRICE = Decimal("2.60")
EXAMPLE_WEIGHT_KG = Decimal("13.9")
EXAMPLE_SHARE = 100


def _number(value: Decimal | None, places: int = 2) -> str:
    if value is None:
        return "–"
    quantum = Decimal(1).scaleb(-places)
    text = f"{value.quantize(quantum):,}"
    return text


def _factor_value(value: Decimal) -> str:
    text = format(value.normalize(), "f")
    whole, _, fraction = text.partition(".")
    grouped = f"{int(whole):,}"
    return f"{grouped}.{fraction}" if fraction else grouped


def _version_section(version: MethodologyVersion) -> list[str]:
    lines = [
        f"### {version.label}: {version.title}",
        "",
        f"Version {version.number}, published {version.published_at:%Y-%m-%d}. "
        f"{version.change_notes}",
        "",
        "| factor | for | value | unit | source | confidence |",
        "|---|---|---|---|---|---|",
    ]
    for f in version.factors.all():
        source = f.source + (f" ({f.source_year})" if f.source_year else "")
        if f.note:
            source += f"; {f.note}"
        lines.append(
            f"| {f.name} (`{f.key}`) | {f.qualifier or '–'} | {_factor_value(f.value)} | "
            f"{f.unit} | {source} | {f.confidence} |"
        )
    lines += ["", "Rules:", ""]
    lines += [f"{i}. **{r.key}**: {r.statement}" for i, r in enumerate(version.rules.all(), 1)]
    return [*lines, ""]


def _example(version: MethodologyVersion) -> list[str]:
    benchmark = money_queries.Benchmarks().for_year("GH", "urban", 2024)
    income = EXAMPLE_PHONES * EXAMPLE_PRICE
    batch = m.BatchInputs(
        batch_id=None,
        phones=EXAMPLE_PHONES,
        origin_country="GH",
        consignment="EXAMPLE",
        net_weight_kg=EXAMPLE_WEIGHT_KG,
        shipped_weight_kg=EXAMPLE_WEIGHT_KG,
        legs=[m.LegInput(id=None, sequence=1, mode="R"), m.LegInput(id=None, sequence=2, mode="S")],
        incomes=[
            m.IncomeInput(
                id=None,
                country="GH",
                area="urban",
                year=2024,
                currency="GHS",
                amount=income,
                benchmark=None
                if benchmark is None
                else m.BenchmarkInput(
                    id=None,
                    country="GH",
                    area="urban",
                    year=benchmark.year,
                    monthly_amount=benchmark.monthly_amount,
                    currency=benchmark.currency,
                    source=benchmark.source,
                ),
            )
        ],
    )
    figures = m.compute(batch, actions.load_method(version))
    lines = [
        "## Worked example",
        "",
        f"Computed by the code under {version.label}. A Ghanaian hub in Accra (urban) buys "
        f"{EXAMPLE_PHONES} phones at GHS {EXAMPLE_PRICE}: GHS {_number(income)} of income. The "
        f"recycler weighs {EXAMPLE_WEIGHT_KG} kg at reception; the consignment went by road to "
        f"Tema, then by sea to Antwerp. A partner receives {EXAMPLE_SHARE} of the batch's "
        f"{EXAMPLE_PHONES} units, so its share of every figure is {EXAMPLE_SHARE}/{EXAMPLE_PHONES}.",
        "",
        "| figure | batch | partner's share | unit | how |",
        "|---|---|---|---|---|",
    ]
    for f in figures:
        if f.key.startswith("not_recovered_"):
            continue
        share = None if f.value is None else f.value * EXAMPLE_SHARE / EXAMPLE_PHONES
        places = 4 if f.unit in ("g", "months") else 3
        lines.append(
            f"| {f.key} | {_number(f.value, places)} | {_number(share, places)} | {f.unit} | "
            f"{f.note} |"
        )
    lines += ["", "Not recovered:", ""]
    lines += [f"- {f.note}" for f in figures if f.key.startswith("not_recovered_")]
    return [*lines, ""]


def _benchmarks() -> list[str]:
    lines = [
        "| country | area | year | monthly living wage | source |",
        "|---|---|---|---|---|",
    ]
    for b in LivingWageBenchmark.objects.order_by("country", "area", "year"):
        lines.append(
            f"| {b.country} | {b.area} | {b.year} | {b.currency} {_number(b.monthly_amount, 0)} "
            f"| {b.source} |"
        )
    lines.append("| NG | – | – | none | WageIndicator 2019 is outdated: no benchmark |")
    return [*lines, ""]


def methodology_markdown() -> str:
    versions = methodology_versions()
    parts = [
        "# How the figures are computed",
        "",
        "<!-- Generated by `oneforone methodology-doc` from the published methodology versions; "
        "do not edit by hand. -->",
        "",
        DASHBOARD,
        IMPACT,
        "## Published versions",
        "",
    ]
    if not versions:
        parts += ["No methodology version is published yet.", ""]
    for version in versions:
        parts += _version_section(version)
    if versions:
        parts += _example(versions[0])
    parts += [LIVING_WAGES, *_benchmarks(), HANDLING_FEES]
    return "\n".join(parts).rstrip() + "\n"
