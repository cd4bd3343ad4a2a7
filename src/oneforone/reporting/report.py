"""One partner report: the figures and charts that the dashboard, the exports and the PDF all
show, computed once per request with a fixed number of queries."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.utils.formats import date_format, number_format
from django.utils.functional import Promise
from django.utils.safestring import SafeString
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from oneforone.core.charts import Bar, horizontal_bars, line_chart, stacked_columns
from oneforone.impact import queries as impact_queries
from oneforone.impact.cards import ImpactCards, cards_of
from oneforone.impact.models import MethodologyVersion
from oneforone.partners.models import Programme
from oneforone.registry import serials
from oneforone.reporting import queries
from oneforone.reporting.queries import Impact, Month, Scope

PIPELINE_COLORS = ["#b91c1c", "#9ca3af", "#0e7490", "#ca8a04", "#166534"]

SOURCES: dict[str, Promise] = {
    "devices_registered": _(
        "Your registrations made in the period (cancelled ones left out), devices listed twice "
        "across partners excluded."
    ),
    "devices_compensated": _(
        "Units allocated to your registrations in the period; a device counts once its "
        "registration's units cover it."
    ),
    "devices_owed": _("Devices registered and not yet compensated at the end of the period."),
    "units_allocated": _(
        "Serial-numbered units (one per counted, treated phone) allocated to you in the period."
    ),
    "weight_kg": _(
        "Net weight measured by the recycler at reception; each unit carries its batch's weight "
        "divided by its phones."
    ),
    "living_wage_months": _(
        "Income paid to collectors and collection partners behind your units, divided by the "
        "monthly living-wage benchmark of the place and year (source per line)."
    ),
}
# The unit words of the figures, for people (the exports keep the codes).
UNIT_NAMES: dict[str, Promise] = {
    "devices": _("devices"),
    "units": _("units"),
    "months": _("months"),
}


@dataclass(frozen=True)
class PartnerReport:
    scope: Scope
    months: list[Month]
    impact: Impact
    origins: dict[str, int]
    pipeline: impact_queries.Pipeline
    history_chart: SafeString
    origin_chart: SafeString
    pipeline_chart: SafeString
    programmes: list[queries.ProgrammeRow]
    # The methodology's figures for the units allocated in the period (None: nothing published).
    methodology: ImpactCards | None = None
    metals_chart: str = ""

    def figures(self) -> list[tuple[str, Promise, object, str]]:
        """(key, label, value, unit) of every figure, in the order reports list them."""
        i = self.impact
        return [
            ("devices_registered", _("Devices registered"), i.devices_registered, "devices"),
            ("devices_compensated", _("Devices compensated"), i.devices_compensated, "devices"),
            ("devices_owed", _("Devices owed at the end"), i.devices_owed, "devices"),
            ("units_allocated", _("Units allocated"), i.units_allocated, "units"),
            ("weight_kg", _("E-waste diverted"), i.weight_kg, "kg"),
            ("living_wage_months", _("Living-wage months"), i.living_wages.months, "months"),
        ]


def shown(value: object, unit: str = "", places: int | None = None) -> str:
    """A figure as the active language writes it (grouping and decimal sign), with its unit."""
    if places is None:
        places = 0 if isinstance(value, int) else 1
    number = number_format(value, places, use_l10n=True, force_grouping=True)  # type: ignore[arg-type]
    name = UNIT_NAMES.get(unit, unit)
    return f"{number} {name}".strip()


def month_label(month: dt.date) -> str:
    return date_format(month, "M y")


def impact_scope(scope: Scope) -> impact_queries.Scope:
    """The same units as the dashboard's compensation figures: allocated in the period."""
    return impact_queries.Scope(
        partner=scope.partner,
        programme=scope.programme,
        allocated_from=scope.first,
        allocated_until=queries.add_months(scope.last, 1) - dt.timedelta(days=1),
    )


def methodology_cards(scope: Scope, version: MethodologyVersion | None) -> ImpactCards | None:
    if version is None:
        return None
    return cards_of(impact_queries.impact_figures(impact_scope(scope), version))


def build(
    scope: Scope, programmes: list[Programme], version: MethodologyVersion | None = None
) -> PartnerReport:
    rows = queries.month_rows(scope)
    months = queries.monthly(scope, rows)
    impact = queries.impact(scope, months)
    by_month = queries.origins_by_month(scope)
    pipeline = impact_queries.pipeline()
    countries = sorted(
        {c for counts in by_month.values() for c in counts},
        key=lambda c: -sum(counts.get(c, 0) for counts in by_month.values()),
    )
    origins = {
        serials.country_name(c): sum(counts.get(c, 0) for counts in by_month.values())
        for c in countries
    }
    labels = [month_label(m.month) for m in months]
    period = scope.label
    history_chart = line_chart(
        labels,
        [
            (gettext("Registered"), [m.registered_to_date for m in months]),
            (gettext("Compensated"), [m.compensated_to_date for m in months]),
            (gettext("Owed"), [m.owed for m in months]),
        ],
        area=1,
        title=gettext("Devices registered, compensated and owed, running totals by month"),
        desc=gettext(
            "%(period)s: %(registered)s devices registered and %(compensated)s compensated in "
            "the period; %(owed)s owed at its end."
        )
        % {
            "period": period,
            "registered": shown(impact.devices_registered),
            "compensated": shown(impact.devices_compensated),
            "owed": shown(impact.devices_owed),
        },
        x_label=gettext("Month"),
        y_label=gettext("Devices (to date)"),
    )
    origin_chart = stacked_columns(
        labels,
        [
            (serials.country_name(c), [by_month.get(m.month, {}).get(c, 0) for m in months])
            for c in countries
        ],
        title=gettext("Where your recycled phones came from, by month of issuance"),
        desc=(
            ", ".join(f"{name}: {shown(n, 'units')}" for name, n in origins.items())
            or gettext("No unit issued in %(period)s is allocated to you.") % {"period": period}
        ),
        x_label=gettext("Month the units were issued"),
        y_label=gettext("Units allocated to you"),
    )
    owed = months[-1].owed if months else 0
    stages = [
        Bar(gettext("You are owed"), owed, PIPELINE_COLORS[0]),
        Bar(gettext("At hubs"), pipeline.at_hubs, PIPELINE_COLORS[1]),
        Bar(gettext("In transit"), pipeline.in_transit, PIPELINE_COLORS[2]),
        Bar(gettext("Received"), pipeline.received, PIPELINE_COLORS[3]),
        Bar(gettext("Treated, free"), pipeline.units_available, PIPELINE_COLORS[4]),
    ]
    pipeline_chart = horizontal_bars(
        stages,
        width=380,
        label_w=112,
        title=gettext("Devices you are owed against phones on their way"),
        desc=gettext(
            "You are owed %(owed)s devices; the service's supply: %(stages)s phones (shared by "
            "every partner, oldest registrations first)."
        )
        % {
            "owed": shown(owed),
            "stages": ", ".join(f"{b.label.lower()} {shown(int(b.value))}" for b in stages[1:]),
        },
    )
    methodology = methodology_cards(scope, version)
    return PartnerReport(
        scope,
        months,
        impact,
        origins,
        pipeline,
        history_chart,
        origin_chart,
        pipeline_chart,
        queries.by_programme(scope, rows, programmes),
        methodology,
        methodology.chart() if methodology and methodology.metals else "",
    )
