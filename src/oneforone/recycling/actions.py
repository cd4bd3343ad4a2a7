from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from oneforone.accounts.models import User
from oneforone.core import audit
from oneforone.recycling.models import Reception, TreatmentCompletion
from oneforone.recycling.reconciliation import reception_flags
from oneforone.recycling.signals import treatment_completed
from oneforone.shipments import custody
from oneforone.shipments.models import Consignment, ConsignmentState, CustodyStep


@transaction.atomic
def record_reception(
    *, actor: User, consignment: Consignment, counted_phones: int, net_weight_kg: Decimal
) -> Reception:
    """The recycler takes custody, counting and weighing; differences beyond tolerance are flagged."""
    consignment = custody.lock(consignment)
    # Signing first checks the signer and the state, so a consignment not in transit (with no
    # dispatched figures yet) is refused with a CustodyError rather than failing below.
    signature = custody.sign(
        actor=actor,
        consignment=consignment,
        step=CustodyStep.RECEPTION,
        custodian=consignment.recycler,
        from_state=ConsignmentState.IN_TRANSIT,
        sealed_fields={"counted_phones": counted_phones, "net_weight_kg": net_weight_kg},
    )
    assert consignment.phones_dispatched is not None
    flags = reception_flags(
        dispatched_phones=consignment.phones_dispatched,
        counted_phones=counted_phones,
        net_weight_kg=net_weight_kg,
    )
    reception = Reception.objects.create(
        consignment=consignment,
        counted_phones=counted_phones,
        net_weight_kg=net_weight_kg,
        received_at=signature.signed_at,
        recorded_by=actor,
        flags=flags,
    )
    audit.record(
        actor=actor,
        code="recycling.reception.recorded",
        obj=reception,
        organisation=consignment.recycler,
        data={
            "consignment": consignment.reference,
            "counted_phones": counted_phones,
            "net_weight_kg": net_weight_kg,
            "flags": flags,
            "signature": signature.hash,
        },
    )
    return reception


@transaction.atomic
def complete_treatment(
    *, actor: User, consignment: Consignment, completed_on: dt.date, operation: str = "R4"
) -> TreatmentCompletion:
    """The recycler certifies treatment; the registry issues the consignment's units with it."""
    consignment = custody.lock(consignment)
    if completed_on > timezone.localdate():
        raise custody.CustodyError("treatment cannot be completed in the future")
    signature = custody.sign(
        actor=actor,
        consignment=consignment,
        step=CustodyStep.TREATMENT,
        custodian=consignment.recycler,
        from_state=ConsignmentState.RECEIVED,
        sealed_fields={"operation": operation, "completed_on": completed_on},
    )
    reception = consignment.reception
    if completed_on < reception.received_at.date():
        raise custody.CustodyError("treatment cannot be completed before the consignment arrived")
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
