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
from django.utils.translation import gettext, ngettext

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


def _iso(day: dt.date | dt.datetime | None) -> str:
    """Dates in the gate's refusals are written as on the notification documents."""
    return f"{day:%Y-%m-%d}" if day else ""


def _kg(weight: Decimal) -> str:
    return number_format(weight, 3, force_grouping=True)


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
                    gettext(
                        "no decision yet from %(authority)s on notification %(number)s; record "
                        "its consent when it arrives"
                    )
                    % {"authority": _authority(stop), "number": notification.number},
                )
            )
        elif consent.decision == Decision.OBJECTION:
            conditions.append(
                GateCondition(
                    name,
                    gettext(
                        "%(authority)s objected on %(date)s; nothing moves under this "
                        "notification until it consents"
                    )
                    % {"authority": _authority(stop), "date": _iso(consent.decided_on)},
                )
            )
        elif not (consent.valid_from and consent.valid_to) or not (
            consent.valid_from <= departure_on <= consent.valid_to
        ):
            conditions.append(
                GateCondition(
                    name,
                    gettext(
                        "departure on %(departure)s is outside the consent of %(authority)s, "
                        "valid %(start)s to %(end)s; choose a departure in that period or "
                        "obtain a new consent"
                    )
                    % {
                        "departure": _iso(departure_on),
                        "authority": _authority(stop),
                        "start": _iso(consent.valid_from),
                        "end": _iso(consent.valid_to),
                    },
                )
            )
        else:
            conditions.append(GateCondition(name))
    return conditions


def _departure_window(notification: Notification, departure_on: dt.date) -> GateCondition:
    first, last = notification.first_departure, notification.last_departure
    refusal = ""
    if not first <= departure_on <= last:
        refusal = gettext(
            "departure on %(departure)s is outside the notified period, first departure "
            "%(first)s to last departure %(last)s; request a change of dates or ship under "
            "another notification"
        ) % {"departure": _iso(departure_on), "first": _iso(first), "last": _iso(last)}
    return GateCondition(gettext("Departure within the notified period"), refusal)


def _contract(notification: Notification, departure_on: dt.date) -> GateCondition:
    in_force = notification.contracts.filter(
        valid_from__lte=departure_on, valid_to__gte=departure_on
    ).exists()
    refusal = (
        ""
        if in_force
        else gettext(
            "no contract between %(notifier)s and %(consignee)s is in force on %(date)s; record "
            "the signed contract (or its extension)"
        )
        % {
            "notifier": notification.notifier.name,
            "consignee": notification.consignee.name,
            "date": _iso(departure_on),
        }
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
        facts = {"number": notification.number, "date": _iso(departure_on)}
        if released:
            refusal = gettext(
                "no financial guarantee covering notification %(number)s is effective on "
                "%(date)s (guarantee %(guarantee)s was released); record a guarantee valid on "
                "that day"
            ) % {**facts, "guarantee": released.reference}
        else:
            refusal = (
                gettext(
                    "no financial guarantee covering notification %(number)s is effective on "
                    "%(date)s; record a guarantee valid on that day"
                )
                % facts
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
        else ngettext(
            "the shipment ceiling is reached: %(count)s of %(ceiling)s shipment under "
            "notification %(number)s is dispatched already; request a change of quantity or "
            "file a new notification",
            "the shipment ceiling is reached: %(count)s of %(ceiling)s shipments under "
            "notification %(number)s are dispatched already; request a change of quantity or "
            "file a new notification",
            ceiling,
        )
        % {"count": count, "ceiling": ceiling, "number": notification.number},
    )
    weight = consignment_weight(consignment)
    total = notification.total_quantity_kg
    after = shipped_kg + weight
    quantity = GateCondition(
        gettext("Quantity: %(shipped)s of %(total)s kg shipped")
        % {
            "shipped": _kg(shipped_kg),
            "total": _kg(total),
        },
        ""
        if after <= total
        else gettext(
            "the quantity ceiling would be exceeded: %(shipped)s kg shipped already + %(weight)s "
            "kg in this consignment = %(after)s kg, more than the %(total)s kg notified; ship "
            "less or request a change of quantity"
        )
        % {
            "shipped": _kg(shipped_kg),
            "weight": _kg(weight),
            "after": _kg(after),
            "total": _kg(total),
        },
    )
    return [shipments, quantity]


def _open_changes(notification: Notification) -> GateCondition:
    open_changes = list(
        ChangeRequest.objects.filter(notification=notification, answer="").order_by("requested_at")
    )
    refusal = ""
    if open_changes:
        kinds = ", ".join(
            gettext("%(kind)s (requested %(date)s)")
            % {"kind": change.get_kind_display().lower(), "date": _iso(change.requested_at)}
            for change in open_changes
        )
        refusal = gettext(
            "a change of notification %(number)s awaits the authorities' answer: %(changes)s; "
            "record their answer, or withdraw the change, before dispatch"
        ) % {"number": notification.number, "changes": kinds}
    return GateCondition(gettext("No change request awaiting an answer"), refusal)


def _carrier(notification: Notification, consignment: Consignment) -> GateCondition:
    notified = notification.carriers.filter(carrier_id=consignment.carrier_id).exists()
    names = ", ".join(c.carrier.name for c in notification.carriers.select_related("carrier"))
    refusal = (
        ""
        if notified
        else gettext(
            "carrier %(carrier)s is not named in notification %(number)s (notified: "
            "%(notified)s); choose a notified carrier or request a change of carrier"
        )
        % {"carrier": consignment.carrier.name, "number": notification.number, "notified": names}
    )
    return GateCondition(gettext("Carrier named in the notification"), refusal)


def gate_conditions(consignment: Consignment, *, departure_on: dt.date) -> list[GateCondition]:
    """Every condition of the dispatch gate for a consignment leaving on `departure_on`."""
    notification = consignment.notification
    if notification is None:
        return [
            GateCondition(
                gettext("Notification"),
                gettext(
                    "consignment %(reference)s is under no notification; every transboundary "
                    "shipment of e-waste needs a consented notification: create the consignment "
                    "under one"
                )
                % {"reference": consignment.reference},
            )
        ]
    stream = GateCondition(gettext("Notification of this waste stream"))
    if notification.stream != consignment.stream:
        stream = GateCondition(
            stream.name,
            gettext(
                "notification %(number)s covers %(notified)s, the consignment carries "
                "%(carried)s; use a notification of that stream"
            )
            % {
                "number": notification.number,
                "notified": notification.get_stream_display(),
                "carried": consignment.get_stream_display(),
            },
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
