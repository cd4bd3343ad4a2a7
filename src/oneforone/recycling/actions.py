from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext

from oneforone.accounts.models import User
from oneforone.core import audit
from oneforone.recycling.models import FacilityDecision, Reception, TreatmentCompletion
from oneforone.recycling.reconciliation import battery_reception_flags, reception_flags
from oneforone.recycling.signals import treatment_completed
from oneforone.shipments import custody, movement_actions
from oneforone.shipments.models import (
    Consignment,
    ConsignmentState,
    CustodyStep,
    MovementDocument,
    Stream,
)


@transaction.atomic
def record_reception(
    *,
    actor: User,
    consignment: Consignment,
    net_weight_kg: Decimal,
    counted_phones: int | None = None,
    packages: int | None = None,
    decision: str = FacilityDecision.ACCEPTED,
    refused_phones: int = 0,
    refused_weight_kg: Decimal = Decimal(0),
    refusal_reason: str = "",
) -> Reception:
    """The recycler takes custody, counting and weighing; differences beyond tolerance are flagged.
    The facility accepts the shipment, refuses part of it (phones, kg and why) or refuses it.

    Phones are counted (`counted_phones`); batteries are received by weight and packages
    (`packages`, no phone count): they never issue units, and a partial refusal names kg only."""
    consignment = custody.lock(consignment)
    batteries = consignment.stream == Stream.BATTERIES
    if batteries:
        if counted_phones is not None or refused_phones:
            raise custody.CustodyError(
                gettext(
                    "batteries are received by weight and packages; leave the phone counts empty"
                )
            )
        if packages is None or packages < 1:
            raise custody.CustodyError(
                gettext("enter the number of packages received (at least 1)")
            )
    elif counted_phones is None or counted_phones < 1:
        raise custody.CustodyError(gettext("enter the number of phones counted (at least 1)"))
    if net_weight_kg <= 0:
        raise custody.CustodyError(gettext("enter the net weight received in kg (more than 0)"))
    refused_phones, refused_weight_kg, refusal_reason = _refusal(
        decision, counted_phones, net_weight_kg, refused_phones, refused_weight_kg, refusal_reason
    )
    receipt = (
        movement_actions.receipt_before_reception(
            actor=actor, consignment=consignment, net_weight_kg=net_weight_kg
        )
        if consignment.state == ConsignmentState.IN_TRANSIT
        else None
    )
    counted: dict[str, object] = (
        {"packages": packages} if batteries else {"counted_phones": counted_phones}
    )
    # Signing first checks the signer and the state, so a consignment not in transit (with no
    # dispatched figures yet) is refused with a CustodyError rather than failing below.
    signature = custody.sign(
        actor=actor,
        consignment=consignment,
        step=CustodyStep.RECEPTION,
        custodian=consignment.recycler,
        from_state=ConsignmentState.IN_TRANSIT,
        sealed_fields={
            **counted,
            "net_weight_kg": net_weight_kg,
            "decision": decision,
            "refused_phones": refused_phones,
            "refused_weight_kg": refused_weight_kg,
            "refusal_reason": refusal_reason,
        },
    )
    assert consignment.phones_dispatched is not None
    assert consignment.net_weight_kg_dispatched is not None
    if counted_phones is None:
        flags = battery_reception_flags(
            dispatched_kg=consignment.net_weight_kg_dispatched,
            net_weight_kg=net_weight_kg,
            dispatched_packages=_dispatched_packages(consignment),
            packages=packages or 0,
        )
    else:
        flags = reception_flags(
            dispatched_phones=consignment.phones_dispatched,
            counted_phones=counted_phones,
            net_weight_kg=net_weight_kg,
        )
    reception = Reception.objects.create(
        consignment=consignment,
        stream=consignment.stream,
        counted_phones=counted_phones,
        packages=packages,
        net_weight_kg=net_weight_kg,
        received_at=signature.signed_at,
        recorded_by=actor,
        flags=flags,
        decision=decision,
        refused_phones=refused_phones,
        refused_weight_kg=refused_weight_kg,
        refusal_reason=refusal_reason,
    )
    audit.record(
        actor=actor,
        code="recycling.reception.recorded",
        obj=reception,
        organisation=consignment.recycler,
        data={
            "consignment": consignment.reference,
            "stream": consignment.stream,
            **counted,
            "net_weight_kg": net_weight_kg,
            "flags": flags,
            "decision": decision,
            "refused_phones": refused_phones,
            "refused_weight_kg": refused_weight_kg,
            "signature": signature.hash,
            "receipt_signature": receipt.signature.hash if receipt else None,
        },
    )
    return reception


def _dispatched_packages(consignment: Consignment) -> int | None:
    document = MovementDocument.objects.filter(consignment=consignment).first()
    return document.packages if document is not None else None


@transaction.atomic
def complete_treatment(
    *, actor: User, consignment: Consignment, completed_on: dt.date, operation: str = "R4"
) -> TreatmentCompletion:
    """The recycler certifies treatment; the registry issues the consignment's units with it."""
    consignment = custody.lock(consignment)
    if completed_on > timezone.localdate():
        raise custody.CustodyError(gettext("treatment cannot be completed in the future"))
    signature = custody.sign(
        actor=actor,
        consignment=consignment,
        step=CustodyStep.TREATMENT,
        custodian=consignment.recycler,
        from_state=ConsignmentState.RECEIVED,
        sealed_fields={
            "certificate": "completed recovery",
            "operation": operation,
            "completed_on": completed_on,
        },
    )
    reception = consignment.reception
    if reception.decision == FacilityDecision.REFUSED:
        raise custody.CustodyError(
            gettext(
                "the facility refused this shipment; it is not treated here and issues no units (the notifier takes it back or finds another facility)"
            )
        )
    if completed_on < reception.received_at.date():
        raise custody.CustodyError(
            gettext("treatment cannot be completed before the consignment arrived")
        )
    completion = TreatmentCompletion.objects.create(
        consignment=consignment,
        reception=reception,
        operation=operation,
        completed_on=completed_on,
        recorded_by=actor,
        recorded_at=timezone.now(),
    )
    audit.record(
        actor=actor,
        code="recycling.treatment.completed",
        obj=completion,
        organisation=consignment.recycler,
        data={
            "consignment": consignment.reference,
            "operation": operation,
            "completed_on": completed_on,
            "signature": signature.hash,
        },
    )
    treatment_completed.send(sender=TreatmentCompletion, completion=completion, actor=actor)
    return completion


def _refusal(
    decision: str,
    counted_phones: int | None,
    net_weight_kg: Decimal,
    refused_phones: int,
    refused_weight_kg: Decimal,
    reason: str,
) -> tuple[int, Decimal, str]:
    """The refused phones, kg and reason the decision implies, or a refusal saying what to fix.
    Without a phone count (batteries) only kilograms are refused."""
    reason = reason.strip()
    if decision == FacilityDecision.ACCEPTED:
        if refused_phones or refused_weight_kg:
            raise custody.CustodyError(
                gettext(
                    "an accepted shipment refuses nothing; choose partially refused to refuse a part"
                )
            )
        return 0, Decimal(0), ""
    if decision not in FacilityDecision.values:
        raise custody.CustodyError(gettext("choose accepted, partially refused or refused"))
    if not reason:
        raise custody.CustodyError(gettext("give the reason for the refusal"))
    if decision == FacilityDecision.REFUSED:
        return counted_phones or 0, net_weight_kg, reason
    if counted_phones is None:
        if not 0 < refused_weight_kg < net_weight_kg:
            raise custody.CustodyError(
                gettext(
                    "a partial refusal refuses some of the kg received, not none or all; enter the refused kg (or choose refused)"
                )
            )
        return 0, refused_weight_kg, reason
    if not 0 < refused_phones < counted_phones or not 0 < refused_weight_kg < net_weight_kg:
        raise custody.CustodyError(
            gettext(
                "a partial refusal refuses some of the phones and kg received, not none or all; enter the refused phones and kg (or choose refused)"
            )
        )
    return refused_phones, refused_weight_kg, reason
