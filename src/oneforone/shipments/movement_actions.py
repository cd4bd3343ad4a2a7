"""Movement documents and custody beyond the hub: the movement document numbered n/N at dispatch,
carrier legs (pick-up, then each handover to the next notified carrier) and the consignee's receipt.

The facility's reception (with its decision) and the completion certificate are the recycling
app's actions; revision requests of sealed fields are in `revision_actions`."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext, ngettext

from oneforone.accounts.models import Membership, Organisation, OrganisationKind, User
from oneforone.core import audit
from oneforone.shipments import custody
from oneforone.shipments.codes import CodeError, codes_valid_on, require_code
from oneforone.shipments.custody import CustodyError
from oneforone.shipments.models import (
    BATTERY_UN_NUMBERS,
    CarrierLeg,
    CodeList,
    ConsigneeReceipt,
    Consignment,
    ConsignmentState,
    CustodySignature,
    CustodyStep,
    MovementDocument,
    Notification,
    NotifiedCarrier,
    Stream,
)


def document_number(document: MovementDocument) -> str:
    return f"{document.serial}/{document.notification.intended_shipments}"


def prepare_movement_document(
    *,
    actor: User,
    consignment: Consignment,
    notification: Notification | None,
    departure_on: dt.date | None,
    packaging_type: str,
    packages: int | None,
) -> dict[str, Any]:
    """Called by `sign_dispatch` just before its signature, inside its transaction and after the
    dispatched figures are written: checks the stream, creates the movement document of a
    consignment under a notification, and returns the fields the dispatch signature also seals.

    `notification` is the consignment's notification as the dispatch gate row-locked it: the
    lock is held until the dispatch commits, so two dispatches never take the same n."""
    assert notification is None or notification.pk == consignment.notification_id
    sealed: dict[str, Any] = _dangerous_goods(consignment)
    if consignment.stream == Stream.BATTERIES and (
        notification is None or notification.stream != Stream.BATTERIES
    ):
        raise CustodyError(
            gettext(
                "batteries travel only under a notification for batteries; attach a batteries "
                "notification to the consignment before dispatch"
            )
        )
    if notification is None:
        return sealed
    if notification.stream != consignment.stream:
        raise CustodyError(
            gettext(
                "notification %(number)s covers %(notification)s, but the consignment carries "
                "%(consignment)s; attach a notification for this stream"
            )
            % {
                "number": notification.number,
                "notification": notification.get_stream_display(),
                "consignment": consignment.get_stream_display().lower(),
            }
        )
    taken = notification.movement_documents.aggregate(last=Max("serial"))["last"] or 0
    if taken >= notification.intended_shipments:
        raise CustodyError(
            ngettext(
                "notification %(number)s allows %(count)s shipment and all of them are used; "
                "a new notification is needed",
                "notification %(number)s allows %(count)s shipments and all of them are used; "
                "a new notification is needed",
                notification.intended_shipments,
            )
            % {"number": notification.number, "count": notification.intended_shipments}
        )
    packaging = (packaging_type or (notification.packaging_types or [""])[0]).strip()
    if packaging not in notification.packaging_types:
        raise CustodyError(
            gettext("packaging type %(packaging)s is not notified; use one of %(types)s")
            % {
                "packaging": packaging or gettext("(none)"),
                "types": ", ".join(notification.packaging_types) or gettext("the notified types"),
            }
        )
    count = packages if packages is not None else consignment.lots.count()
    if count < 1:
        raise CustodyError(gettext("enter the number of packages (at least 1)"))
    assert consignment.net_weight_kg_dispatched is not None
    document = MovementDocument.objects.create(
        consignment=consignment,
        notification=notification,
        serial=taken + 1,
        actual_quantity_kg=consignment.net_weight_kg_dispatched,
        actual_departure=departure_on or timezone.localdate(),
        packaging_type=packaging,
        packages=count,
        created_at=timezone.now(),
        created_by=actor,
    )
    return {
        **sealed,
        "notification": notification.number,
        "movement_document": document_number(document),
        "actual_quantity_kg": document.actual_quantity_kg,
        "actual_departure": document.actual_departure,
        "packaging_type": document.packaging_type,
        "packages": document.packages,
    }


def _dangerous_goods(consignment: Consignment) -> dict[str, Any]:
    if consignment.stream != Stream.BATTERIES:
        return {}
    return {
        "stream": consignment.stream,
        "un_number": consignment.un_number,
        "dangerous_goods_class": consignment.dangerous_goods_class,
        "packing_instruction": consignment.packing_instruction,
        "damaged": consignment.damaged,
    }


def battery_fields(*, un_number: str, packing_instruction: str, damaged: bool) -> dict[str, Any]:
    """The dangerous-goods data of a battery consignment, checked before the database does."""
    un_number = un_number.strip().upper().replace(" ", "")
    if un_number not in BATTERY_UN_NUMBERS:
        raise CustodyError(
            gettext(
                "UN number %(un_number)s is not a lithium battery entry; use one of %(allowed)s"
            )
            % {
                "un_number": un_number or gettext("(none)"),
                "allowed": ", ".join(BATTERY_UN_NUMBERS),
            }
        )
    allowed = ("P908", "LP904") if damaged else ("P909",)
    instruction = packing_instruction.strip().upper() or allowed[0]
    if instruction not in allowed:
        message = (
            gettext(
                "damaged or defective batteries for recycling are packed under %(allowed)s, "
                "not %(instruction)s"
            )
            if damaged
            else gettext(
                "intact batteries for recycling are packed under %(allowed)s, not %(instruction)s"
            )
        )
        raise CustodyError(
            message % {"allowed": gettext(" or ").join(allowed), "instruction": instruction}
        )
    return {
        "un_number": un_number,
        "dangerous_goods_class": "9",
        "packing_instruction": instruction,
        "damaged": damaged,
    }


# --- Carrier legs ---------------------------------------------------------------------------


def notified_carriers(consignment: Consignment) -> list[NotifiedCarrier]:
    if consignment.notification_id is None:
        return []
    return list(
        NotifiedCarrier.objects.filter(notification_id=consignment.notification_id)
        .select_related("carrier")
        .order_by("sequence")
    )


def _means(code: str, *, on: dt.date) -> str:
    """A means of transport code of the movement document, checked against the dated code list
    "means of transport" on the leg's date (like every other code)."""
    code = code.strip().upper()
    try:
        require_code(CodeList.TRANSPORT, code, on=on)
    except CodeError as error:
        valid = ", ".join(
            f"{c.code} ({c.label.lower()})" for c in codes_valid_on(CodeList.TRANSPORT, on)
        )
        raise CustodyError(
            gettext(
                "means of transport %(code)s is not usable on %(on)s (%(error)s); use %(valid)s"
            )
            % {
                "code": code or gettext("(none)"),
                "on": format(on, "%Y-%m-%d"),
                "error": error,
                "valid": valid or gettext("a code of the means of transport list"),
            }
        ) from error
    return code


def first_leg_means(consignment: Consignment, means_of_transport: str, *, on: dt.date) -> str:
    """The pick-up's means of transport: as entered, else the first notified carrier's, else road;
    checked on the pick-up's date."""
    if means_of_transport.strip():
        return _means(means_of_transport, on=on)
    carriers = notified_carriers(consignment)
    return _means(carriers[0].means_of_transport if carriers else "R", on=on)


def check_first_carrier(consignment: Consignment) -> None:
    """Under a notification, the carrier that picks up must be a notified one."""
    carriers = notified_carriers(consignment)
    if carriers and consignment.carrier_id not in {c.carrier_id for c in carriers}:
        raise CustodyError(
            gettext(
                "%(name)s is not a carrier of notification %(notification)s; a change request must add "
                "it first"
            )
            % {"name": consignment.carrier.name, "notification": consignment.notification}
        )


def record_first_leg(
    *,
    consignment: Consignment,
    signature: CustodySignature,
    vehicle: str,
    means_of_transport: str,
    transferred_on: dt.date,
) -> CarrierLeg:
    """The pick-up is leg 1; called by `sign_pickup` inside its transaction."""
    return CarrierLeg.objects.create(
        consignment=consignment,
        movement_document=_document(consignment),
        sequence=1,
        carrier=consignment.carrier,
        means_of_transport=means_of_transport,
        vehicle=vehicle.strip(),
        transferred_on=transferred_on,
        signature=signature,
    )


def _document(consignment: Consignment) -> MovementDocument | None:
    return MovementDocument.objects.filter(consignment=consignment).first()


def next_carrier(consignment: Consignment, actor: User | None = None) -> Organisation | None:
    """Who signs the next handover: the next notified carrier in order, or (without a
    notification) the actor's carrier organisation other than the current one."""
    legs = list(consignment.legs.order_by("sequence"))
    if not legs:
        return None
    carriers = notified_carriers(consignment)
    if carriers:
        used = {leg.carrier_id for leg in legs}
        upcoming = [c.carrier for c in carriers if c.carrier_id not in used]
        return upcoming[0] if upcoming else None
    if actor is None:
        return None
    membership = (
        Membership.objects.filter(user=actor, organisation__kind=OrganisationKind.CARRIER)
        .exclude(organisation_id=legs[-1].carrier_id)
        .select_related("organisation")
        .first()
    )
    return membership.organisation if membership else None


@transaction.atomic
def sign_carrier_handover(
    *,
    actor: User,
    consignment: Consignment,
    vehicle: str,
    means_of_transport: str,
    transferred_on: dt.date,
) -> CarrierLeg:
    """The next carrier takes custody from the previous one; the consignment stays in transit."""
    consignment = custody.lock(consignment)
    custody.require_state(consignment, ConsignmentState.IN_TRANSIT)
    if not vehicle.strip():
        raise CustodyError(gettext("enter the vehicle plate or the vessel and voyage"))
    if transferred_on > timezone.localdate():
        raise CustodyError(
            gettext("the transfer date is in the future; enter the day of the handover")
        )
    means = _means(means_of_transport, on=transferred_on)
    last = consignment.legs.order_by("-sequence").first()
    if last is None:
        raise CustodyError(gettext("the first carrier has not signed the pick-up yet"))
    if transferred_on < last.transferred_on:
        raise CustodyError(
            gettext(
                "the transfer date is before leg %(sequence)s started (%(transferred_on)s); enter the "
                "day of the handover"
            )
            % {"sequence": last.sequence, "transferred_on": format(last.transferred_on, "%Y-%m-%d")}
        )
    if ConsigneeReceipt.objects.filter(consignment=consignment).exists():
        raise CustodyError(
            gettext("the consignee already signed its receipt; no further carrier leg")
        )
    carrier = next_carrier(consignment, actor)
    if carrier is None:
        raise CustodyError(
            gettext(
                "no further carrier is notified for this consignment; a change request must add one"
            )
            if consignment.notification_id
            else gettext("only a carrier other than the current one can take over the consignment")
        )
    sequence = last.sequence + 1
    signature = custody.sign(
        actor=actor,
        consignment=consignment,
        step=CustodyStep.HANDOVER,
        custodian=carrier,
        from_state=ConsignmentState.IN_TRANSIT,
        stays=True,
        leg=sequence,
        sealed_fields={
            "leg": sequence,
            "from_carrier": last.carrier.name,
            "carrier": carrier.name,
            "means_of_transport": means,
            "vehicle_or_vessel": vehicle.strip(),
            "transferred_on": transferred_on,
            "phones": consignment.phones_dispatched,
            "container_number": consignment.container_number,
        },
    )
    leg = CarrierLeg.objects.create(
        consignment=consignment,
        movement_document=_document(consignment),
        sequence=sequence,
        carrier=carrier,
        means_of_transport=means,
        vehicle=vehicle.strip(),
        transferred_on=transferred_on,
        signature=signature,
    )
    audit.record(
        actor=actor,
        code="shipments.consignment.handed_over",
        obj=consignment,
        organisation=carrier,
        data={
            "reference": consignment.reference,
            "leg": sequence,
            "carrier": carrier.pk,
            "signature": signature.hash,
        },
    )
    return leg


# --- Consignee receipt ----------------------------------------------------------------------


def consignee_of(consignment: Consignment) -> Organisation:
    notification = consignment.notification
    return notification.consignee if notification is not None else consignment.recycler


@transaction.atomic
def sign_consignee_receipt(
    *, actor: User, consignment: Consignment, received_on: dt.date, quantity_kg: Decimal
) -> ConsigneeReceipt:
    """The consignee signs that the shipment arrived (date and quantity); the facility's
    reception with its decision follows."""
    consignment = custody.lock(consignment)
    receipt = receipt_unaudited(
        actor=actor, consignment=consignment, received_on=received_on, quantity_kg=quantity_kg
    )
    audit.record(
        actor=actor,
        code="shipments.consignment.receipt_signed",
        obj=consignment,
        organisation=receipt.organisation,
        data={
            "reference": consignment.reference,
            "received_on": received_on,
            "quantity_kg": quantity_kg,
            "signature": receipt.signature.hash,
        },
    )
    return receipt


def receipt_unaudited(
    *, actor: User, consignment: Consignment, received_on: dt.date, quantity_kg: Decimal
) -> ConsigneeReceipt:
    """Sign the consignee's receipt of a locked consignment; the calling action audits it."""
    custody.require_state(consignment, ConsignmentState.IN_TRANSIT)
    if quantity_kg <= 0:
        raise CustodyError(gettext("enter the quantity received in kg (more than 0)"))
    if received_on > timezone.localdate():
        raise CustodyError(gettext("the date received is in the future; enter the day it arrived"))
    last = consignment.legs.order_by("-sequence").first()
    if last is not None and received_on < last.transferred_on:
        raise CustodyError(
            gettext(
                "the date received is before the last carrier took over (%(transferred_on)s); enter "
                "the day it arrived"
            )
            % {"transferred_on": format(last.transferred_on, "%Y-%m-%d")}
        )
    if ConsigneeReceipt.objects.filter(consignment=consignment).exists():
        raise CustodyError(gettext("the consignee already signed its receipt"))
    consignee = consignee_of(consignment)
    signature = custody.sign(
        actor=actor,
        consignment=consignment,
        step=CustodyStep.RECEIPT,
        custodian=consignee,
        from_state=ConsignmentState.IN_TRANSIT,
        stays=True,
        sealed_fields={"received_on": received_on, "quantity_kg": quantity_kg},
    )
    return ConsigneeReceipt.objects.create(
        consignment=consignment,
        organisation=consignee,
        received_on=received_on,
        quantity_kg=quantity_kg,
        signature=signature,
    )


def receipt_before_reception(
    *, actor: User, consignment: Consignment, net_weight_kg: Decimal
) -> ConsigneeReceipt | None:
    """Under a movement document the consignee signs its receipt before the facility decides.
    When the facility is itself the consignee, its reception signs that receipt too (blocks 18
    and 19 of the movement document, same signer, same day); another consignee signs first."""
    if not MovementDocument.objects.filter(consignment=consignment).exists():
        return None
    if ConsigneeReceipt.objects.filter(consignment=consignment).exists():
        return None
    consignee = consignee_of(consignment)
    if consignee.pk != consignment.recycler_id:
        raise CustodyError(
            gettext(
                "the consignee (%(name)s) signs its receipt of the shipment before the facility "
                "records its reception"
            )
            % {"name": consignee.name}
        )
    return receipt_unaudited(
        actor=actor,
        consignment=consignment,
        received_on=timezone.localdate(),
        quantity_kg=net_weight_kg,
    )
