"""Hub pages: record intake from collectors, seal lots, hand lots over to consignments."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from typing import Any

from django.contrib import messages
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.db.models import Count, Exists, OuterRef, Q, QuerySet, Sum
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.text import capfirst
from django.utils.translation import gettext
from django.views.decorators.http import require_POST

from oneforone.accounts.decorators import member_of_kind
from oneforone.accounts.models import Membership, OrganisationKind
from oneforone.accounts.permissions import NotAllowed
from oneforone.collection import actions, prices
from oneforone.collection.forms import ConsignmentForm, IntakeForm, SealLotForm, open_intakes
from oneforone.collection.models import Hub, Intake, Lot, LotKind, Payment, PaymentMethod
from oneforone.core.money import Money

RECENT_DAYS = 14
RECENT_ROWS = 60
LOT_ROWS = 20

hub_page = member_of_kind(OrganisationKind.COLLECTION_PARTNER)


def explain(error: Exception) -> str:
    """An action's refusal, worded with what to do next."""
    if isinstance(error, NotAllowed):
        return gettext(
            "%(refusal)s. Ask an administrator of your organisation for a member role."
        ) % {"refusal": error}
    text = str(error)
    return gettext("%(refusal)s. Reload the page and check the entries.") % {
        "refusal": capfirst(text)
    }


def hubs_of(membership: Membership) -> QuerySet[Hub]:
    return Hub.objects.filter(organisation=membership.organisation).order_by("name")


def chosen_hub(request: HttpRequest, membership: Membership) -> tuple[QuerySet[Hub], Hub]:
    """The hub a page is about: ?hub=<code> among the organisation's hubs, else its first; 404."""
    hubs = hubs_of(membership)
    code = request.POST.get("hub") or request.GET.get("hub")
    hub = hubs.filter(code=code).first() if code else hubs.first()
    if hub is None:
        raise Http404(
            gettext("No such hub for your organisation.")
            if code
            else gettext("Your organisation has no hub yet; ask the operator to register one.")
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


def cap_note(hub: Hub, on: dt.date) -> str:
    """The country's price cap, for the price field, so nobody learns it from a refusal."""
    cap = prices.cap_for(hub.country, on)
    if cap is None or cap.currency != hub.currency:
        return gettext("no price cap is set for %(country)s yet") % {"country": hub.country}
    figures = {
        "cap": Money(cap.max_per_phone, cap.currency),
        "floor": Money(cap.min_per_phone, cap.currency),
        "country": hub.country,
    }
    if cap.min_per_phone > 0:
        return gettext("at most %(cap)s, at least %(floor)s a phone (%(country)s cap)") % figures
    return gettext("at most %(cap)s a phone (%(country)s cap)") % figures


def _collected_at(hub: Hub, data: dict[str, Any]) -> dt.datetime | None:
    """The date and time typed on the hub's clock; None (the action decides) without a time."""
    if data.get("collected_time") is None:
        return None
    return dt.datetime.combine(
        data["collected_on"], data["collected_time"], actions.hub_timezone(hub)
    )


def _store_photos(membership: Membership, hub: Hub, files: list[UploadedFile]) -> list[str]:
    return [
        actions.store_photo(
            actor=membership.user,
            hub=hub,
            data=file.read(),
            content_type=file.content_type or "",
        ).sha256
        for file in files
    ]


def _sent_before(hub: Hub, client_uuid: uuid.UUID | None) -> Intake | None:
    if client_uuid is None:
        return None
    return (
        Intake.objects.filter(hub=hub, client_uuid=client_uuid).select_related("collector").first()
    )


@hub_page
def intake(request: HttpRequest, membership: Membership) -> HttpResponse:
    hubs, hub = chosen_hub(request, membership)
    today = actions.local_date(hub, timezone.now())
    form_args: dict[str, Any] = {
        "hubs": hubs,
        "hub": hub,
        "last_price": _last_price(hub),
        "cap_note": cap_note(hub, today),
    }
    if request.method == "POST":
        form = IntakeForm(request.POST, request.FILES, **form_args)
        if form.is_valid():
            data = form.cleaned_data
            hub = data["hub"]
            sent_before = _sent_before(hub, data["client_uuid"])
            if sent_before is not None:
                messages.success(
                    request,
                    gettext("Already recorded: %(phones)s phones from %(code)s; nothing was added.")
                    % {"phones": sent_before.phones, "code": sent_before.collector.code},
                )
                return redirect(_hub_url("collection-intake", hub))
            try:
                with transaction.atomic():
                    recorded = actions.record_intake(
                        actor=membership.user,
                        hub=hub,
                        collector=data["collector"],
                        collected_on=data["collected_on"],
                        collected_at=_collected_at(hub, data),
                        phones=data["phones"],
                        net_weight_kg=data["net_weight_kg"],
                        condition=data["condition"],
                        batteries_removed=data["batteries_removed"],
                        battery_weight_kg=data["battery_weight_kg"],
                        price_per_phone=data["price_per_phone"],
                        currency=hub.currency,
                        imeis=data["imeis"],
                        photos=_store_photos(membership, hub, data["photos"]),
                        note=data["note"],
                        latitude=data["latitude"],
                        longitude=data["longitude"],
                        gps_accuracy_m=data["gps_accuracy_m"],
                        paid_with=PaymentMethod(data["paid_with"]) if data["paid_with"] else None,
                        payment_reference=data["payment_reference"],
                        client_uuid=data["client_uuid"],
                    )
            except (actions.CollectionError, NotAllowed) as error:
                form.add_error(None, explain(error))
            except IntegrityError:
                # The same record sent twice at once: the other request recorded it.
                if _sent_before(hub, data["client_uuid"]) is None:
                    raise
                return redirect(_hub_url("collection-intake", hub))
            else:
                paid = gettext("paid") if data["paid_with"] else gettext("to pay")
                messages.success(
                    request,
                    (
                        gettext("Recorded %(phones)s phones from %(code)s: %(amount)s %(paid)s.")
                        % {
                            "phones": recorded.phones,
                            "code": recorded.collector.code,
                            "amount": Money(recorded.amount_paid, recorded.currency),
                            "paid": paid,
                        }
                    ),
                )
                return redirect(_hub_url("collection-intake", hub))
    else:
        form = IntakeForm(**form_args)
    hub_intakes = Intake.objects.filter(hub=hub)
    recent = (
        hub_intakes.filter(collected_on__gte=today - dt.timedelta(days=RECENT_DAYS))
        .select_related("collector", "lot")
        .annotate(paid=Exists(Payment.objects.filter(intake=OuterRef("pk"))))
        .order_by("-collected_on", "-collected_at", "-id")[:RECENT_ROWS]
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
    battery_form: SealLotForm | None = None,
    consignment_form: ConsignmentForm | None = None,
) -> HttpResponse:
    """The lots page, with a bound form when a post came back with errors."""
    seal_form = seal_form or SealLotForm(hub=hub)
    battery_form = battery_form or SealLotForm(hub=hub, kind=LotKind.BATTERIES)
    consignment_form = consignment_form or ConsignmentForm(hub=hub)
    lots = Lot.objects.filter(hub=hub)
    shown = list(lots.select_related("consignment").order_by("-sealed_at", "-id")[:LOT_ROWS])
    reconciliations = actions.lot_reconciliations(shown)
    return render(
        request,
        "collection/lots.html",
        {
            "hub": hub,
            "hubs": hubs,
            "switch_url": reverse("collection-lots"),
            "membership": membership,
            "seal_form": seal_form,
            "battery_form": battery_form,
            "consignment_form": consignment_form,
            "open_intakes": open_intakes(hub, LotKind.PHONES)
            .select_related("collector")
            .order_by("collected_on", "id"),
            "open_battery_intakes": open_intakes(hub, LotKind.BATTERIES)
            .select_related("collector")
            .order_by("collected_on", "id"),
            "checked_intakes": _checked(seal_form, "intakes"),
            "checked_battery_intakes": _checked(battery_form, "intakes"),
            "unconsigned": lots.filter(consignment__isnull=True, kind=LotKind.PHONES).order_by(
                "sealed_at", "id"
            ),
            "checked_lots": _checked(consignment_form, "lots"),
            "lots": [(lot, reconciliations[lot.pk]) for lot in shown],
            "lot_totals": lots.aggregate(
                count=Count("id"),
                phones=Sum("phones"),
                kg=Sum("net_weight_kg", filter=Q(kind=LotKind.PHONES)),
                batteries=Sum("batteries"),
                battery_kg=Sum("net_weight_kg", filter=Q(kind=LotKind.BATTERIES)),
                waiting=Count("id", filter=Q(consignment__isnull=True, kind=LotKind.PHONES)),
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
    kind = LotKind.BATTERIES if request.POST.get("kind") == LotKind.BATTERIES else LotKind.PHONES
    form = SealLotForm(request.POST, hub=hub, kind=kind)
    if form.is_valid():
        seal_number = form.cleaned_data["seal_number"]
        try:
            lot = actions.seal_lot(
                actor=membership.user,
                hub=hub,
                seal_number=seal_number,
                intakes=list(form.cleaned_data["intakes"]),
                kind=kind,
            )
        except (actions.CollectionError, NotAllowed) as error:
            form.add_error(None, explain(error))
        except IntegrityError:
            form.add_error(
                "seal_number",
                gettext(
                    "Seal number %(seal_number)s is already used on another lot; check the number on the "
                    "seal, or use a new seal."
                )
                % {"seal_number": seal_number},
            )
        else:
            count = (
                gettext("%(count)s batteries") % {"count": lot.batteries}
                if kind == LotKind.BATTERIES
                else gettext("%(count)s phones") % {"count": lot.phones}
            )
            messages.success(
                request,
                gettext("Sealed lot %(seal_number)s: %(count)s, %(net_weight_kg)s kg.")
                % {
                    "seal_number": lot.seal_number,
                    "count": count,
                    "net_weight_kg": lot.net_weight_kg,
                },
            )
            return redirect(_hub_url("collection-lots", hub))
    if kind == LotKind.BATTERIES:
        return render_lots(request, membership, hub, hubs, battery_form=form)
    return render_lots(request, membership, hub, hubs, seal_form=form)
