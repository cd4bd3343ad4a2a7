"""The dispatch gate: what must hold under the Basel Convention and Regulation (EU) 2024/1157
before a consignment leaves the hub, each condition checked on its own with a message that says
what fails and what to do."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Count, Q, Sum
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.translation import gettext

from oneforone.shipments.custody import CustodyError
from oneforone.shipments.models import (
    ChangeRequest,
    Consent,
    Consignment,
    ConsignmentState,
    Decision,
    FinancialGuarantee,
    Notification,
    RouteStop,
)


class DispatchRefused(CustodyError):
    """The dispatch gate refused: every failing condition, each with its own message."""

    def __init__(self, refusals: list[str]) -> None:
        super().__init__("; ".join(refusals))
        self.refusals = refusals


@dataclass(frozen=True)
class GateCondition:
    """One condition of the gate: what it checks, and the refusal when it fails."""

    name: str
    refusal: str = ""

    @property
    def met(self) -> bool:
        return not self.refusal


def current_consents(notification: Notification) -> dict[int, Consent]:
    """Each route stop's latest decision (consents are append-only; the last one counts)."""
    latest: dict[int, Consent] = {}
    for consent in notification.consents.order_by("recorded_at", "id"):
        latest[consent.route_stop_id] = consent
    return latest


def _authority(stop: RouteStop) -> str:
    return f"{stop.competent_authority} ({stop.country}, {stop.get_role_display().lower()})"


def _consent_conditions(notification: Notification, departure_on: dt.date) -> list[GateCondition]:
    latest = current_consents(notification)
    conditions = []
    for stop in notification.route.all():
        name = gettext("Consent of %(authority)s (%(country)s)") % {
            "authority": stop.competent_authority,
            "country": stop.country,
        }
        consent = latest.get(stop.pk)
        if consent is None:
            conditions.append(
                GateCondition(
                    name,
                    f"no decision yet from {_authority(stop)} on notification "
                    f"{notification.number}; record its consent when it arrives",
                )
            )
        elif consent.decision == Decision.OBJECTION:
            conditions.append(
                GateCondition(
                    name,
                    f"{_authority(stop)} objected on {consent.decided_on:%Y-%m-%d}; nothing moves "
                    "under this notification until it consents",
                )
            )
        elif not (consent.valid_from and consent.valid_to) or not (
            consent.valid_from <= departure_on <= consent.valid_to
        ):
            conditions.append(
                GateCondition(
                    name,
                    f"departure on {departure_on:%Y-%m-%d} is outside the consent of "
                    f"{_authority(stop)}, valid {consent.valid_from:%Y-%m-%d} to "
                    f"{consent.valid_to:%Y-%m-%d}; choose a departure in that period or obtain "
                    "a new consent",
                )
            )
        else:
            conditions.append(GateCondition(name))
    return conditions


def _departure_window(notification: Notification, departure_on: dt.date) -> GateCondition:
    first, last = notification.first_departure, notification.last_departure
    refusal = ""
    if not first <= departure_on <= last:
        refusal = (
            f"departure on {departure_on:%Y-%m-%d} is outside the notified period, first "
            f"departure {first:%Y-%m-%d} to last departure {last:%Y-%m-%d}; request a change "
            "of dates or ship under another notification"
        )
    return GateCondition(gettext("Departure within the notified period"), refusal)


def _contract(notification: Notification, departure_on: dt.date) -> GateCondition:
    in_force = notification.contracts.filter(
        valid_from__lte=departure_on, valid_to__gte=departure_on
    ).exists()
    refusal = (
        ""
        if in_force
        else f"no contract between {notification.notifier.name} and "
        f"{notification.consignee.name} is in force on {departure_on:%Y-%m-%d}; record the "
        "signed contract (or its extension)"
    )
    return GateCondition(gettext("Contract notifier-consignee in force"), refusal)


def _guarantee(notification: Notification, departure_on: dt.date) -> GateCondition:
    effective = FinancialGuarantee.objects.filter(
        Q(released_on__isnull=True) | Q(released_on__gt=departure_on),
        notifications=notification,
        valid_from__lte=departure_on,
        valid_to__gte=departure_on,
    ).exists()
    refusal = ""
    if not effective:
        released = notification.guarantees.filter(released_on__lte=departure_on).first()
        why = f" (guarantee {released.reference} was released)" if released else ""
        refusal = (
            f"no financial guarantee covering notification {notification.number} is effective "
            f"on {departure_on:%Y-%m-%d}{why}; record a guarantee valid on that day"
        )
    return GateCondition(gettext("Financial guarantee effective"), refusal)


def _already_dispatched(
    notification: Notification, consignment: Consignment
) -> tuple[int, Decimal]:
    shipped = (
        notification.consignments.exclude(state=ConsignmentState.DRAFT)
        .exclude(pk=consignment.pk)
        .aggregate(n=Count("id"), kg=Sum("net_weight_kg_dispatched"))
    )
    return shipped["n"], shipped["kg"] or Decimal(0)


def consignment_weight(consignment: Consignment) -> Decimal:
    """What the consignment weighs: its dispatched weight, or its lots' before dispatch."""
    if consignment.net_weight_kg_dispatched is not None:
        return consignment.net_weight_kg_dispatched
    weight = consignment.lots.aggregate(kg=Sum("net_weight_kg"))["kg"]
    return weight or Decimal(0)


def _ceilings(notification: Notification, consignment: Consignment) -> list[GateCondition]:
    count, shipped_kg = _already_dispatched(notification, consignment)
    ceiling = notification.intended_shipments
    shipments = GateCondition(
        gettext("Shipments: %(count)s of %(ceiling)s dispatched")
        % {"count": count, "ceiling": ceiling},
        ""
        if count < ceiling
        else f"the shipment ceiling is reached: {count} of {ceiling} shipments under "
        f"notification {notification.number} are dispatched already; request a change of "
        "quantity or file a new notification",
    )
    weight = consignment_weight(consignment)
    total = notification.total_quantity_kg
    after = shipped_kg + weight
    quantity = GateCondition(
        gettext("Quantity: %(shipped)s of %(total)s kg shipped")
        % {
            "shipped": number_format(shipped_kg, 3, force_grouping=True),
            "total": number_format(total, 3, force_grouping=True),
        },
        ""
        if after <= total
        else f"the quantity ceiling would be exceeded: {shipped_kg:,.3f} kg shipped already "
        f"+ {weight:,.3f} kg in this consignment = {after:,.3f} kg, more than the "
        f"{total:,.3f} kg notified; ship less or request a change of quantity",
    )
    return [shipments, quantity]


def _open_changes(notification: Notification) -> GateCondition:
    open_changes = list(
        ChangeRequest.objects.filter(notification=notification, answer="").order_by("requested_at")
    )
    refusal = ""
    if open_changes:
        kinds = ", ".join(
            f"{change.get_kind_display().lower()} (requested {change.requested_at:%Y-%m-%d})"
            for change in open_changes
        )
        refusal = (
            f"a change of notification {notification.number} awaits the authorities' answer: "
            f"{kinds}; record their answer, or withdraw the change, before dispatch"
        )
    return GateCondition(gettext("No change request awaiting an answer"), refusal)


def _carrier(notification: Notification, consignment: Consignment) -> GateCondition:
    notified = notification.carriers.filter(carrier_id=consignment.carrier_id).exists()
    names = ", ".join(c.carrier.name for c in notification.carriers.select_related("carrier"))
    refusal = (
        ""
        if notified
        else f"carrier {consignment.carrier.name} is not named in notification "
        f"{notification.number} (notified: {names}); choose a notified carrier or request a "
        "change of carrier"
    )
    return GateCondition(gettext("Carrier named in the notification"), refusal)


def gate_conditions(consignment: Consignment, *, departure_on: dt.date) -> list[GateCondition]:
    """Every condition of the dispatch gate for a consignment leaving on `departure_on`."""
    notification = consignment.notification
    if notification is None:
        return [
            GateCondition(
                "Notification",
                f"consignment {consignment.reference} is under no notification; every "
                "transboundary shipment of e-waste needs a consented notification: create the "
                "consignment under one",
            )
        ]
    stream = GateCondition(gettext("Notification of this waste stream"))
    if notification.stream != consignment.stream:
        stream = GateCondition(
            stream.name,
            f"notification {notification.number} covers {notification.get_stream_display()}, "
            f"the consignment carries {consignment.get_stream_display()}; use a notification "
            "of that stream",
        )
    return [
        stream,
        *_consent_conditions(notification, departure_on),
        _departure_window(notification, departure_on),
        _contract(notification, departure_on),
        _guarantee(notification, departure_on),
        *_ceilings(notification, consignment),
        _open_changes(notification),
        _carrier(notification, consignment),
    ]


def dispatch_refusals(consignment: Consignment, *, departure_on: dt.date) -> list[str]:
    """Why the consignment cannot leave on `departure_on`: one message per failing condition."""
    return [c.refusal for c in gate_conditions(consignment, departure_on=departure_on) if not c.met]


def dispatch_gate(consignment: Consignment) -> list[GateCondition] | None:
    """The gate's conditions for a draft leaving today (None once it has left), for its page."""
    if consignment.state != ConsignmentState.DRAFT:
        return None
    return gate_conditions(consignment, departure_on=timezone.localdate())
