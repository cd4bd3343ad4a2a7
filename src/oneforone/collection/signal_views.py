"""Network pages: the operator's flag queue and overview across countries, a collection
partner's home with its hubs, one hub's page and its settings. Each view parses, authorises,
calls at most one action and renders."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Count, Q, Sum
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext, ngettext
from django.views.decorators.http import require_POST

from oneforone.accounts.decorators import member_of_kind
from oneforone.accounts.models import Membership, OrganisationKind
from oneforone.accounts.permissions import NotAllowed
from oneforone.collection import hub_actions, network_queries
from oneforone.collection.flag_actions import FlagError, resolve_flag
from oneforone.collection.models import Collector, Flag, Hub, Intake, Lot
from oneforone.collection.network_queries import FlagFilter, HubRow
from oneforone.collection.signal_forms import (
    WEEKDAYS,
    FlagFilterForm,
    HubSettingsForm,
    RegisterHubForm,
    ResolveFlagForm,
)
from oneforone.core.charts import Bar, horizontal_bars
from oneforone.core.money import Money
from oneforone.core.text import as_sentence

FLAGS_PER_PAGE = 25
HUB_LOTS = 20
HUB_FLAGS = 20
ACTIVE_DAYS = 30  # a collector who sold in the last 30 days counts as active on the hub page

operator_page = member_of_kind(OrganisationKind.OPERATOR, write=True)
network_page = member_of_kind(
    OrganisationKind.COLLECTION_PARTNER, OrganisationKind.OPERATOR, write=True
)


def _is_operator(membership: Membership) -> bool:
    return membership.organisation.kind == OrganisationKind.OPERATOR


def _visible_hub(membership: Membership, code: str) -> Hub:
    """Operator staff see every hub; a collection partner only its own (404 for the others)."""
    hubs = Hub.objects.select_related("organisation")
    if not _is_operator(membership):
        hubs = hubs.filter(organisation=membership.organisation)
    return get_object_or_404(hubs, code=code)


def _totals_per_currency(rows: list[HubRow]) -> list[Money]:
    totals: dict[str, Decimal] = defaultdict(Decimal)
    for row in rows:
        totals[row.payments_due.currency] += row.payments_due.amount
    return [Money(amount, currency) for currency, amount in sorted(totals.items())]


# --- a collection partner's home ----------------------------------------------------------------


@network_page
def home(request: HttpRequest, membership: Membership) -> HttpResponse:
    if _is_operator(membership):
        return redirect("collection-network")
    rows = network_queries.hub_rows(network_queries.hubs_of(membership.organisation))
    return render(
        request,
        "collection/signals/home.html",
        {
            "organisation": membership.organisation,
            "rows": rows,
            "due_totals": _totals_per_currency(rows),
        },
    )


# --- the operator's network overview ------------------------------------------------------------


@operator_page
def network(request: HttpRequest, membership: Membership) -> HttpResponse:
    today = timezone.localdate()
    countries = network_queries.network_by_country(today)
    rows = network_queries.hub_rows(Hub.objects.order_by("country", "name"))
    chart = (
        horizontal_bars(
            [
                Bar(
                    ngettext("%(country)s (%(count)s hub)", "%(country)s (%(count)s hubs)", c.hubs)
                    % {"country": c.name, "count": c.hubs},
                    c.phones_12_months,
                )
                for c in countries
            ],
            title=gettext("Phones collected in the last 12 months, per country"),
        )
        if countries
        else None
    )
    return render(
        request,
        "collection/signals/network.html",
        {
            "countries": countries,
            "rows": rows,
            "chart": chart,
            "today": today,
            "open_flags": sum(c.open_flags for c in countries),
        },
    )


@operator_page
def register_hub(request: HttpRequest, membership: Membership) -> HttpResponse:
    form = RegisterHubForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            hub = hub_actions.register_hub(
                actor=membership.user,
                organisation=data["organisation"],
                code=data["code"],
                name=data["name"],
                country=data["country"].code,
                city=data["city"],
                area=data["area"],
                latitude=data["latitude"],
                longitude=data["longitude"],
            )
        except (hub_actions.HubError, NotAllowed) as error:
            form.add_error(None, as_sentence(error))
        else:
            messages.success(
                request,
                gettext(
                    "Registered %(name)s; it pays collectors in %(currency)s. Set its hours and location "
                    "next."
                )
                % {"name": hub.name, "currency": hub.currency},
            )
            return redirect("collection-hub-settings", code=hub.code)
    return render(
        request,
        "collection/signals/hub_register.html",
        {"form": form},
        status=400 if form.is_bound else 200,
    )


# --- the operator's flag queue ------------------------------------------------------------------


def _render_flags(
    request: HttpRequest, *, bound: tuple[int, ResolveFlagForm] | None = None, status: int = 200
) -> HttpResponse:
    filters = FlagFilterForm(request.GET or None)
    chosen = FlagFilter()
    if filters.is_bound and filters.is_valid():
        data = filters.cleaned_data
        chosen = FlagFilter(
            kind=data["kind"],
            hub=data["hub"],
            country=data["country"],
            state=data["state"] or "open",
        )
    page = Paginator(network_queries.flag_queue(chosen), FLAGS_PER_PAGE).get_page(
        request.GET.get("page")
    )
    items = [
        {
            "flag": flag,
            "evidence": network_queries.evidence_lines(flag.evidence),
            "form": bound[1] if bound and bound[0] == flag.pk else ResolveFlagForm(),
        }
        for flag in page
    ]
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "collection/signals/flags.html",
        {
            "filters": filters,
            "chosen": chosen,
            "page": page,
            "items": items,
            "query": query.urlencode(),
            "open_count": Flag.objects.filter(resolved_at__isnull=True).count(),
        },
        status=status,
    )


@operator_page
def flags(request: HttpRequest, membership: Membership) -> HttpResponse:
    return _render_flags(request)


@require_POST
@operator_page
def resolve(request: HttpRequest, membership: Membership, pk: int) -> HttpResponse:
    flag = get_object_or_404(Flag, pk=pk)
    form = ResolveFlagForm(request.POST)
    if form.is_valid():
        try:
            resolve_flag(
                actor=membership.user,
                flag=flag,
                resolution=form.cleaned_data["resolution"],
                reason=form.cleaned_data["reason"],
            )
        except (FlagError, NotAllowed) as error:
            form.add_error(None, as_sentence(error))
        else:
            messages.success(
                request,
                gettext("Flag resolved: %(flag)s at %(name)s.")
                % {"flag": flag.get_kind_display(), "name": flag.hub.name},
            )
            query = request.GET.urlencode()
            return redirect(f"{reverse('collection-flags')}{'?' if query else ''}{query}")
    return _render_flags(request, bound=(flag.pk, form), status=400)


# --- one hub ------------------------------------------------------------------------------------


@network_page
def hub_detail(request: HttpRequest, membership: Membership, code: str) -> HttpResponse:
    hub = _visible_hub(membership, code)
    row = network_queries.hub_rows([hub])[0]
    since = row.today - dt.timedelta(days=ACTIVE_DAYS)
    collectors = (
        Collector.objects.filter(hub=hub)
        .annotate(
            recent_phones=Sum("intakes__phones", filter=Q(intakes__collected_on__gt=since)),
            open_flags=Count("flags", filter=Q(flags__resolved_at__isnull=True), distinct=True),
        )
        .order_by("-active", "code")
    )
    lots = list(Lot.objects.filter(hub=hub).select_related("consignment")[:HUB_LOTS])
    held = set(
        network_queries.open_flags_on_lots(Lot.objects.filter(pk__in=[lot.pk for lot in lots]))
    )
    return render(
        request,
        "collection/signals/hub.html",
        {
            "hub": hub,
            "row": row,
            "todays": Intake.objects.filter(hub=hub, collected_on=row.today)
            .select_related("collector")
            .order_by("-collected_at", "-id"),
            "collectors": collectors,
            "active_days": ACTIVE_DAYS,
            "lots": [(lot, lot.seal_number in held) for lot in lots],
            "flags": _hub_flags(hub),
            "can_change": hub_actions.may_change_hub(membership.user, hub),
            "is_operator": _is_operator(membership),
            "weekdays": _weekdays(hub.open_weekdays),
        },
    )


def _hub_flags(hub: Hub) -> list[Flag]:
    open_flags = list(
        Flag.objects.filter(hub=hub, resolved_at__isnull=True)
        .select_related("intake", "lot", "collector")
        .order_by("raised_at", "id")[:HUB_FLAGS]
    )
    resolved = list(
        Flag.objects.filter(hub=hub, resolved_at__isnull=False)
        .select_related("intake", "lot", "collector")
        .order_by("-resolved_at", "-id")[: max(HUB_FLAGS - len(open_flags), 0)]
    )
    return open_flags + resolved


def _weekdays(days: list[int]) -> str:
    names = dict(WEEKDAYS)
    return ", ".join(str(names[d]) for d in sorted(days))


@network_page
def hub_settings(request: HttpRequest, membership: Membership, code: str) -> HttpResponse:
    hub = _visible_hub(membership, code)
    if not hub_actions.may_change_hub(membership.user, hub):
        raise PermissionDenied(
            gettext("Only an administrator of the hub's organisation or the operator.")
        )
    if request.method == "POST":
        form = HubSettingsForm(request.POST)
        if form.is_valid():
            try:
                hub_actions.change_hub_hours_and_location(
                    actor=membership.user, hub=hub, **form.cleaned_data
                )
            except (hub_actions.HubError, NotAllowed) as error:
                form.add_error(None, as_sentence(error))
            else:
                messages.success(
                    request,
                    gettext("Saved the hours and location of %(name)s.") % {"name": hub.name},
                )
                return redirect("collection-hub", code=hub.code)
    else:
        form = HubSettingsForm.for_hub(hub)
    return render(
        request,
        "collection/signals/hub_settings.html",
        {"hub": hub, "form": form},
        status=400 if form.is_bound else 200,
    )
