"""Hub pages: record intake from collectors, seal lots, hand lots over to consignments."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.contrib import messages
from django.db import IntegrityError
from django.db.models import Count, Q, QuerySet, Sum
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from oneforone.accounts.decorators import member_of_kind
from oneforone.accounts.models import Membership, OrganisationKind
from oneforone.accounts.permissions import NotAllowed
from oneforone.collection import actions
from oneforone.collection.forms import ConsignmentForm, IntakeForm, SealLotForm
from oneforone.collection.models import Hub, Intake, Lot
from oneforone.core.money import Money

RECENT_DAYS = 14
RECENT_ROWS = 60
LOT_ROWS = 20

hub_page = member_of_kind(OrganisationKind.COLLECTION_PARTNER)


def explain(error: Exception) -> str:
    """An action's refusal, worded with what to do next."""
    if isinstance(error, NotAllowed):
        return f"{error}. Ask an administrator of your organisation for a member role."
    return f"{str(error)[:1].upper()}{str(error)[1:]}. Reload the page and check the entries."


def hubs_of(membership: Membership) -> QuerySet[Hub]:
    return Hub.objects.filter(organisation=membership.organisation).order_by("name")


def chosen_hub(request: HttpRequest, membership: Membership) -> tuple[QuerySet[Hub], Hub]:
    """The hub a page is about: ?hub=<code> among the organisation's hubs, else its first; 404."""
    hubs = hubs_of(membership)
    code = request.POST.get("hub") or request.GET.get("hub")
    hub = hubs.filter(code=code).first() if code else hubs.first()
    if hub is None:
        raise Http404(
            "No such hub for your organisation."
            if code
            else "Your organisation has no hub yet; ask the operator to register one."
        )
    return hubs, hub


def _hub_url(name: str, hub: Hub) -> str:
    return f"{reverse(name)}?hub={hub.code}"


def _last_price(hub: Hub) -> Decimal | None:
    return (
        Intake.objects.filter(hub=hub)
        .order_by("-recorded_at", "-id")
        .values_list("price_per_phone", flat=True)
        .first()
    )


def _totals(intakes: QuerySet[Intake], currency: str) -> dict[str, Any]:
    sums = intakes.aggregate(
        count=Count("id"), phones=Sum("phones"), kg=Sum("net_weight_kg"), paid=Sum("amount_paid")
    )
    return {
        "count": sums["count"],
        "phones": sums["phones"] or 0,
        "kg": sums["kg"] or 0,
        "paid": Money(sums["paid"] or Decimal(0), currency),
    }


@hub_page
def intake(request: HttpRequest, membership: Membership) -> HttpResponse:
    hubs, hub = chosen_hub(request, membership)
    form_args: dict[str, Any] = {"hubs": hubs, "hub": hub, "last_price": _last_price(hub)}
    if request.method == "POST":
        form = IntakeForm(request.POST, **form_args)
        if form.is_valid():
            hub = form.cleaned_data["hub"]
            try:
                recorded = actions.record_intake(
                    actor=membership.user,
                    hub=hub,
                    collector=form.cleaned_data["collector"],
                    collected_on=form.cleaned_data["collected_on"],
                    phones=form.cleaned_data["phones"],
                    net_weight_kg=form.cleaned_data["net_weight_kg"],
                    batteries_removed=form.cleaned_data["batteries_removed"],
                    price_per_phone=form.cleaned_data["price_per_phone"],
                    currency=hub.currency,
                )
            except (actions.CollectionError, NotAllowed) as error:
                form.add_error(None, explain(error))
            else:
                messages.success(
                    request,
                    (
                        f"Recorded {recorded.phones} phones from {recorded.collector.code}: "
                        f"pay {Money(recorded.amount_paid, recorded.currency)}."
                    ),
                )
                return redirect(_hub_url("collection-intake", hub))
    else:
        form = IntakeForm(**form_args)
    today = timezone.localdate()
    hub_intakes = Intake.objects.filter(hub=hub)
    recent = (
        hub_intakes.filter(collected_on__gte=today - dt.timedelta(days=RECENT_DAYS))
        .select_related("collector", "lot")
        .order_by("-collected_on", "-id")[:RECENT_ROWS]
    )
    return render(
        request,
        "collection/intake.html",
        {
            "form": form,
            "hub": hub,
            "hubs": hubs,
            "switch_url": reverse("collection-intake"),
            "membership": membership,
            "today": today,
            "recent": recent,
            "recent_days": RECENT_DAYS,
            "today_totals": _totals(hub_intakes.filter(collected_on=today), hub.currency),
            "open_totals": _totals(hub_intakes.filter(lot__isnull=True), hub.currency),
        },
    )


def render_lots(
    request: HttpRequest,
    membership: Membership,
    hub: Hub,
    hubs: QuerySet[Hub],
    *,
    seal_form: SealLotForm | None = None,
    consignment_form: ConsignmentForm | None = None,
) -> HttpResponse:
    """The lots page, with a bound form when a post came back with errors."""
    seal_form = seal_form or SealLotForm(hub=hub)
    consignment_form = consignment_form or ConsignmentForm(hub=hub)
    lots = Lot.objects.filter(hub=hub)
    return render(
        request,
        "collection/lots.html",
        {
            "hub": hub,
            "hubs": hubs,
            "switch_url": reverse("collection-lots"),
            "membership": membership,
            "seal_form": seal_form,
            "consignment_form": consignment_form,
            "open_intakes": Intake.objects.filter(hub=hub, lot__isnull=True)
            .select_related("collector")
            .order_by("collected_on", "id"),
            "checked_intakes": _checked(seal_form, "intakes"),
            "unconsigned": lots.filter(consignment__isnull=True).order_by("sealed_at", "id"),
            "checked_lots": _checked(consignment_form, "lots"),
            "lots": lots.select_related("consignment").order_by("-sealed_at", "-id")[:LOT_ROWS],
            "lot_totals": lots.aggregate(
                count=Count("id"),
                phones=Sum("phones"),
                kg=Sum("net_weight_kg"),
                waiting=Count("id", filter=Q(consignment__isnull=True)),
            ),
        },
    )


def _checked(form: SealLotForm | ConsignmentForm, name: str) -> set[str]:
    if not form.is_bound:
        return set()
    return {str(value) for value in form.data.getlist(name)}  # type: ignore[attr-defined]


@hub_page
def lots(request: HttpRequest, membership: Membership) -> HttpResponse:
    hubs, hub = chosen_hub(request, membership)
    return render_lots(request, membership, hub, hubs)


@require_POST
@hub_page
def seal_lot(request: HttpRequest, membership: Membership) -> HttpResponse:
    hubs, hub = chosen_hub(request, membership)
    form = SealLotForm(request.POST, hub=hub)
    if form.is_valid():
        seal_number = form.cleaned_data["seal_number"]
        try:
            lot = actions.seal_lot(
                actor=membership.user,
                hub=hub,
                seal_number=seal_number,
                intakes=list(form.cleaned_data["intakes"]),
            )
        except (actions.CollectionError, NotAllowed) as error:
            form.add_error(None, explain(error))
        except IntegrityError:
            form.add_error(
                "seal_number",
                f"Seal number {seal_number} is already used on another "
                "lot; check the number on the seal, or use a new seal.",
            )
        else:
            messages.success(
                request,
                f"Sealed lot {lot.seal_number}: {lot.phones} phones, {lot.net_weight_kg} kg.",
            )
            return redirect(_hub_url("collection-lots", hub))
    return render_lots(request, membership, hub, hubs, seal_form=form)
