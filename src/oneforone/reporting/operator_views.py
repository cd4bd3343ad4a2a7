"""The operator's overview of the whole service, mounted at /operator/overview/, and the lists of
records behind its figures (intakes, payments) that other pages do not give operator staff.
Operator staff only; each view parses, authorises, reads and renders."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

from django import forms
from django.core.paginator import Paginator
from django.db.models import Sum
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format, number_format
from django.utils.translation import gettext as _

from oneforone.accounts.decorators import member_of_kind
from oneforone.accounts.models import Membership, OrganisationKind
from oneforone.collection.models import Area
from oneforone.core.charts import Bar, horizontal_bars, line_series, total_against_parts
from oneforone.reporting import operator_queries as queries
from oneforone.reporting.operator_forms import PeriodForm

operator_page = member_of_kind(OrganisationKind.OPERATOR)

ROWS_PER_PAGE = 50
BACKLOG_COLOR = "#b91c1c"
STAGE_COLORS = ["#9ca3af", "#0e7490", "#ca8a04", "#166534"]


def _url(name: str, **params: Any) -> str:
    query = urlencode({k: v for k, v in params.items() if v not in ("", None)})
    return f"{reverse(name)}{'?' if query else ''}{query}"


def _bucket_label(bucket: dt.date, grain: str) -> str:
    return date_format(bucket, "j M" if grain == "week" else "M Y")


def _day(day: dt.date) -> str:
    return date_format(day, "j M Y")


@operator_page
def overview(request: HttpRequest, membership: Membership) -> HttpResponse:
    today = timezone.localdate()
    form = PeriodForm(request.GET or None, today=today)
    start, end, grain = form.period()
    period = {"start": start.isoformat(), "end": end.isoformat()}

    backlog = queries.backlog(today, timezone.now())
    flow = queries.throughput(start, end, grain)
    compliance = queries.compliance(membership.organisation, today)
    wages = queries.living_wages()

    backlog_chart = total_against_parts(
        Bar(_("Backlog"), backlog.units_backlog, BACKLOG_COLOR),
        _("Pipeline"),
        [
            Bar(_("At hubs"), backlog.at_hubs, STAGE_COLORS[0]),
            Bar(_("In transit"), backlog.in_transit, STAGE_COLORS[1]),
            Bar(_("Received"), backlog.received, STAGE_COLORS[2]),
            Bar(_("Treated, not allocated"), backlog.treated_not_allocated, STAGE_COLORS[3]),
        ],
        title=_(
            "Units owed and not allocated (%(backlog)s) against phones in the pipeline by stage "
            "(%(pipeline)s)"
        )
        % {
            "backlog": number_format(backlog.units_backlog, force_grouping=True),
            "pipeline": number_format(backlog.in_pipeline, force_grouping=True),
        },
        unit=" ",
    )
    country_chart = (
        line_series(
            [_bucket_label(b, grain) for b in flow.buckets],
            [(country, values) for country, values in flow.per_country.items()],
            title=(
                _("Phones bought per month and country, %(start)s to %(end)s")
                if grain == "month"
                else _("Phones bought per week and country, %(start)s to %(end)s")
            )
            % {"start": _day(start), "end": _day(end)},
        )
        if flow.per_country
        else None
    )
    hubs_chart = (
        horizontal_bars(
            [Bar(h.name, h.phones) for h in flow.hubs[:12]],
            title=_("Phones bought per hub, %(start)s to %(end)s")
            % {"start": _day(start), "end": _day(end)},
        )
        if flow.hubs
        else None
    )
    areas = dict(Area.choices)
    context: dict[str, Any] = {
        "form": form,
        "period": period,
        "grain": grain,
        "start": start,
        "end": end,
        "today": today,
        "backlog": backlog,
        "estimate": backlog.estimate,
        "backlog_chart": backlog_chart,
        "flow": flow,
        "country_chart": country_chart,
        "hubs_chart": hubs_chart,
        "hub_rows": [
            (h, _url("operator-overview-intakes", hub=h.code, **period)) for h in flow.hubs
        ],
        "country_rows": [
            (c, n, _url("operator-overview-intakes", country=c, **period))
            for c, n in flow.countries
        ],
        "compliance": compliance,
        "deadline_links": {
            "overdue": _url("shipments-deadlines", status="overdue"),
            "due": _url("shipments-deadlines", status="due"),
        },
        "deadline_rows": [
            (
                d,
                _url("shipments-deadlines", status="overdue", kind=d.kind),
                _url("shipments-deadlines", status="due", kind=d.kind),
            )
            for d in compliance.deadlines
        ],
        "flag_rows": [
            (label, n, _url("collection-flags", state="open", kind=kind))
            for kind, label, n in compliance.open_flags
        ],
        "wages": wages,
        "wage_rows": [
            (
                line,
                areas.get(line.area, line.area),
                _url(
                    "operator-overview-payments",
                    country=line.country,
                    area=line.area,
                    year=line.year,
                ),
            )
            for line in wages.lines
        ],
        "window_days": queries.THROUGHPUT_WINDOW_DAYS,
    }
    return render(request, "reporting/operator/overview.html", context)


# --- the records behind the figures ---------------------------------------------------------------


class IntakeFilter(forms.Form):
    start = forms.DateField()
    end = forms.DateField()
    hub = forms.SlugField(required=False)
    country = forms.RegexField(regex=r"^[A-Za-z]{2}$", required=False)


@operator_page
def intakes(request: HttpRequest, membership: Membership) -> HttpResponse:
    today = timezone.localdate()
    form = IntakeFilter(request.GET)
    if form.is_valid():
        data = form.cleaned_data
        start, end, hub, country = data["start"], data["end"], data["hub"], data["country"]
    else:
        start, end = PeriodForm(None, today=today).period()[:2]
        hub = country = ""
    rows = queries.intakes(start=start, end=end, hub=hub, country=country)
    page = Paginator(rows, ROWS_PER_PAGE).get_page(request.GET.get("page"))
    total = rows.aggregate(phones=Sum("phones"))["phones"] or 0
    return render(
        request,
        "reporting/operator/intakes.html",
        {
            "form": form,
            "page": page,
            "start": start,
            "end": end,
            "hub": hub,
            "country": country.upper(),
            "total": total,
            "back": _url("operator-overview", start=start.isoformat(), end=end.isoformat()),
        },
    )


class PaymentFilter(forms.Form):
    country = forms.RegexField(regex=r"^[A-Za-z]{2}$")
    area = forms.ChoiceField(choices=Area.choices)
    year = forms.IntegerField(min_value=2000, max_value=2100)


@operator_page
def payments(request: HttpRequest, membership: Membership) -> HttpResponse:
    form = PaymentFilter(request.GET)
    if not form.is_valid():
        return render(
            request,
            "reporting/operator/payments.html",
            {"form": form, "page": None, "area_codes": Area.values},
            status=400,
        )
    data = form.cleaned_data
    rows = queries.payments(country=data["country"], area=data["area"], year=data["year"])
    totals = list(rows.order_by().values("currency").annotate(amount=Sum("amount")))
    page = Paginator(rows, ROWS_PER_PAGE).get_page(request.GET.get("page"))
    return render(
        request,
        "reporting/operator/payments.html",
        {
            "form": form,
            "page": page,
            "country": data["country"].upper(),
            "area": dict(Area.choices)[data["area"]],
            "year": data["year"],
            "totals": [(t["currency"], Decimal(t["amount"])) for t in totals],
        },
    )
