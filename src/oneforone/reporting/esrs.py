"""The partner's figures laid out for ESRS E5 (resource use and circular economy), disclosure
requirement E5-2 (actions and resources), as the voluntary metrics of an action.

The one-for-one compensation is an action beyond the partner's value chain: the phones recycled
were never the partner's waste, so nothing here belongs in E5-5 (resource outflows, own waste).
Every figure is read from `impact.queries.impact_figures` or the reporting queries for the same
scope; nothing is computed again here. Texts follow the active language.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font

from oneforone.impact import method
from oneforone.impact import queries as impact_queries
from oneforone.impact.models import Factor
from oneforone.registry import serials
from oneforone.reporting import queries
from oneforone.reporting.queries import Scope, add_months

METAL_NAMES = {"Au": "gold", "Ag": "silver", "Cu": "copper", "Pd": "palladium", "Co": "cobalt"}


@dataclass(frozen=True)
class Metric:
    key: str
    label: str
    value: Decimal | int | None
    unit: str
    basis: str
    source: str


@dataclass(frozen=True)
class EsrsSheet:
    scope: Scope
    header: list[tuple[str, str]]
    metrics: list[Metric]
    notes: list[str]

    def metric(self, key: str) -> Metric:
        return next(m for m in self.metrics if m.key == key)


def impact_scope(scope: Scope) -> impact_queries.Scope:
    """The impact query's scope for the same partner, programme and months of allocation."""
    return impact_queries.Scope(
        partner=scope.partner,
        programme=scope.programme,
        allocated_from=scope.first,
        allocated_until=add_months(scope.last, 1) - dt.timedelta(days=1),
    )


def metal_name(symbol: str) -> str:
    names = {
        "gold": _("gold"),
        "silver": _("silver"),
        "copper": _("copper"),
        "palladium": _("palladium"),
        "cobalt": _("cobalt"),
    }
    return names.get(METAL_NAMES.get(symbol, ""), symbol)


class _Sources:
    """The sources of a methodology version's factors, by key and qualifier."""

    def __init__(self, factors: list[Factor]) -> None:
        self.factors = factors

    def of(self, *keys: str, qualifiers: tuple[str, ...] | None = None) -> str:
        """The sources of the factors `keys`; with `qualifiers`, only the unqualified factors and
        those whose qualifier is, or starts with, one of them (a metal; a country's routes)."""
        found: list[str] = []
        for f in self.factors:
            if f.key not in keys:
                continue
            if qualifiers is not None and f.qualifier and not f.qualifier.startswith(qualifiers):
                continue
            text = f"{f.name}: {f.source}" + (f" ({f.source_year})" if f.source_year else "")
            if text not in found:
                found.append(text)
        return "; ".join(found)


def _mass_source(measured: int, units: int, sources: _Sources) -> str:
    reception = _("the recycler's reception records (net weight)")
    if units and measured >= units:
        return reception
    return "; ".join(filter(None, [reception if measured else "", sources.of("phone-mass")]))


def _share(measured: int, units: int, measured_text: str, default_text: str) -> str:
    if units == 0:
        return _("no units in the period")
    if measured >= units:
        return measured_text
    if measured == 0:
        return default_text
    return _("%(measured)s for %(count)s of %(units)s units; %(default)s for the rest") % {
        "measured": measured_text,
        "count": f"{measured:,}",
        "units": f"{units:,}",
        "default": default_text,
    }


def build(scope: Scope) -> EsrsSheet:
    """The sheet of one partner (and programme) for the months of `scope`."""
    figures = impact_queries.impact_figures(impact_scope(scope))
    basis = impact_queries.scope_basis(impact_scope(scope), figures.version)
    registry = queries.impact(scope)
    sources = _Sources(list(figures.version.factors.all()))
    units = figures.units
    countries = ", ".join(serials.country_name(c) for c in basis.origin_countries) or "-"
    metrics = _registry_metrics(registry) + _impact_metrics(figures, basis, sources, units)
    version = figures.version
    version_url = settings.PUBLIC_BASE_URL.rstrip("/") + reverse(
        "methodology-version", args=[version.number]
    )
    period = f"{scope.first:%Y-%m} - {scope.last:%Y-%m}"
    header = [
        (_("Standard"), _("ESRS E5 Resource use and circular economy")),
        (
            _("Disclosure requirement"),
            _("E5-2 Actions and resources related to resource use and circular economy"),
        ),
        (
            _("Reported as"),
            _(
                "Voluntary metrics of an action. Not E5-5 (resource outflows): the recycled "
                "phones were never the undertaking's own waste."
            ),
        ),
        (_("Undertaking"), scope.partner.name),
        (_("Programme"), scope.programme.name if scope.programme else _("all programmes")),
        (_("Period"), period),
        (
            _("Action"),
            _(
                "One-for-one compensation: for each device registered, one end-of-life phone "
                "is collected in %(countries)s, shipped to a certified recycler and recycled; "
                "each recycled phone is a serial-numbered unit allocated to one device."
            )
            % {"countries": countries},
        ),
        (_("Countries of collection"), countries),
        (
            _("Methodology"),
            _("%(label)s (version %(number)s)")
            % {
                "label": version.label,
                "number": version.number,
            },
        ),
        (_("Methodology link"), version_url),
        (_("Drawn up"), f"{timezone.localdate():%Y-%m-%d}"),
    ]
    return EsrsSheet(scope, header, metrics, _notes(figures))


def _registry_metrics(registry: queries.Impact) -> list[Metric]:
    counted = _("counted from the registry's records")
    return [
        Metric(
            "devices_registered",
            _("Devices registered in the period"),
            registry.devices_registered,
            _("devices"),
            counted,
            _("Your registrations (cancelled ones and double claims left out)"),
        ),
        Metric(
            "devices_compensated",
            _("Devices compensated in the period"),
            registry.devices_compensated,
            _("devices"),
            counted,
            _("Units allocated to your registrations"),
        ),
        Metric(
            "devices_owed",
            _("Devices owed at the end of the period"),
            registry.devices_owed,
            _("devices"),
            counted,
            _("Registered and not yet compensated"),
        ),
        Metric(
            "units_allocated",
            _("Units allocated in the period"),
            registry.units_allocated,
            _("units"),
            counted,
            _("One unit per phone counted and treated by the recycler"),
        ),
    ]


def _impact_metrics(
    figures: impact_queries.ImpactFigures,
    basis: impact_queries.ScopeBasis,
    sources: _Sources,
    units: int,
) -> list[Metric]:
    default = _("default factor")
    recovered: list[str] = []
    metrics = [
        Metric(
            method.EWASTE_MASS,
            _("E-waste diverted from dumpsites (mass)"),
            figures.value(method.EWASTE_MASS),
            "kg",
            _share(
                basis.measured_units.get(method.EWASTE_MASS, 0),
                units,
                _("measured: net mass weighed at the recycler's reception"),
                _("default factor: counted phones x mass per phone"),
            ),
            _mass_source(basis.measured_units.get(method.EWASTE_MASS, 0), units, sources),
        )
    ]
    for key in sorted(figures.figures):
        if not key.startswith("metal_") or not key.endswith("_recovered_g"):
            continue
        symbol = key.removeprefix("metal_").removesuffix("_recovered_g").capitalize()
        recovered.append(symbol)
        content = method.metal_key(symbol, "content_g")
        grade = _share(
            basis.measured_units.get(content, 0),
            units,
            _("measured: lot assay grade"),
            _("default factor: grade per tonne"),
        )
        chain = _("%(grade)s, x recovery chain yields (default factors)") % {"grade": grade}
        metrics.append(
            Metric(
                key,
                _("Metal recovered: %(metal)s (%(symbol)s)")
                % {"metal": metal_name(symbol), "symbol": symbol},
                figures.value(key),
                "g",
                chain,
                sources.of(
                    "grade",
                    "collection-yield",
                    "pre-processing-yield",
                    "smelter-yield",
                    qualifiers=(symbol,),
                ),
            )
        )
    metrics += [
        Metric(
            method.AVOIDED_EMISSIONS,
            _("Avoided emissions from recovered metals (reported apart from scope 1-3)"),
            figures.value(method.AVOIDED_EMISSIONS),
            "kg CO2e",
            default,
            sources.of("ghg-primary", "ghg-recycled", qualifiers=tuple(recovered)),
        ),
        Metric(
            method.TRANSPORT_EMISSIONS,
            _("Emissions of shipping the phones (reported apart, not netted)"),
            figures.value(method.TRANSPORT_EMISSIONS),
            "kg CO2e",
            _("carrier legs x distance (measured or route default) x default intensity"),
            "; ".join(
                filter(
                    None,
                    [
                        sources.of("transport-intensity"),
                        sources.of(
                            "route-distance",
                            qualifiers=tuple(f"{c}-" for c in basis.origin_countries),
                        ),
                    ],
                )
            ),
        ),
        Metric(
            method.LIVING_WAGE_MONTHS,
            _("Living-wage months paid into the collection networks"),
            figures.value(method.LIVING_WAGE_MONTHS),
            _("months"),
            _("measured: income paid to collectors / dated living-wage benchmark"),
            _("payment ledger; benchmark per country, area and year (living-wage export)"),
        ),
    ]
    return metrics


def _notes(figures: impact_queries.ImpactFigures) -> list[str]:
    notes = [
        _(
            "Not E5-5: the phones collected and recycled were not the undertaking's products "
            "or waste. These figures must not be added to, or subtracted from, the "
            "undertaking's own waste or resource outflows."
        ),
        _(
            "Not an offset: avoided emissions are reported apart from the scope 1-3 "
            "inventory and are never netted against it."
        ),
        _(
            "Not a claim that the undertaking's own devices were recycled: each registered "
            "device is compensated by another end-of-life phone, recycled once and allocated "
            "once (a serial-numbered unit)."
        ),
        _(
            "Only units allocated in the period count; devices owed are registered and not "
            "yet compensated."
        ),
        _(
            "Living-wage months leave out places without a living-wage benchmark; they are "
            "shown as such in the living-wage export."
        ),
        _(
            "Figures are computed under methodology version %(label)s; a later version never "
            "changes them."
        )
        % {"label": figures.version.label},
    ]
    for key, figure in sorted(figures.figures.items()):
        if key.startswith("not_recovered_") and figure.note:
            notes.append(_("Not recovered: %(statement)s") % {"statement": figure.note})
    return notes


def rows(sheet: EsrsSheet) -> list[list[object]]:
    """Every line of the sheet as CSV rows: section, item, value, unit, basis, source."""
    lines: list[list[object]] = [
        [_("section"), _("item"), _("value"), _("unit"), _("basis"), _("source")]
    ]
    lines += [[_("disclosure"), label, value, "", "", ""] for label, value in sheet.header]
    lines += [
        [_("voluntary metric (E5-2)"), m.label, _plain(m.value), m.unit, m.basis, m.source]
        for m in sheet.metrics
    ]
    lines += [[_("not claimed"), note, "", "", "", ""] for note in sheet.notes]
    return lines


def _plain(value: Decimal | int | None) -> object:
    if value is None:
        return ""
    return value if isinstance(value, int) else value.normalize()


def as_csv(sheet: EsrsSheet) -> str:
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows(sheet))
    return buffer.getvalue()


def as_xlsx(sheet: EsrsSheet) -> bytes:
    """Two sheets: E5-2 (the disclosure and its voluntary metrics) and the notes."""
    book = Workbook()
    main = book.active
    assert main is not None
    main.title = "E5-2"
    bold = Font(bold=True)
    wrap = Alignment(wrap_text=True, vertical="top")
    main.append([_("ESRS E5 Resource use and circular economy: E5-2, voluntary metrics")])
    main["A1"].font = Font(bold=True, size=13)
    for label, value in sheet.header:
        main.append([label, value])
        main.cell(main.max_row, 1).font = bold
    main.append([])
    main.append([_("Metric"), _("Value"), _("Unit"), _("Basis"), _("Source")])
    for cell in main[main.max_row]:
        cell.font = bold
    for m in sheet.metrics:
        number = (
            None if m.value is None else m.value if isinstance(m.value, int) else float(m.value)
        )
        main.append([m.label, number, m.unit, m.basis, m.source])
    for column, width in zip("ABCDE", (48, 60, 12, 50, 70), strict=True):
        main.column_dimensions[column].width = width
    for row in main.iter_rows():
        for cell in row:
            cell.alignment = wrap
    notes = book.create_sheet(_("Notes"))
    notes.append([_("What these figures do not claim")])
    notes["A1"].font = bold
    for note in sheet.notes:
        notes.append([note])
    notes.column_dimensions["A"].width = 120
    for row in notes.iter_rows():
        for cell in row:
            cell.alignment = wrap
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
