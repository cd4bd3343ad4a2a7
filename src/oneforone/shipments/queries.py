"""Reads of consignments, scoped to what the signed-in organisation may see."""

from __future__ import annotations

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.http import Http404
from django.utils.translation import gettext

from oneforone.accounts.models import Organisation, OrganisationKind
from oneforone.shipments.models import (
    CarrierLeg,
    ConsigneeReceipt,
    Consignment,
    ConsignmentState,
    CustodyStep,
    MovementDocument,
    NotifiedCarrier,
)

# Organisations that read every consignment (the back office and the verifiers).
READ_ALL_KINDS = (OrganisationKind.OPERATOR, OrganisationKind.AUDITOR)

# Who signs the step that leaves each state: the next custodian, as a consignment field path.
NEXT_STEP: dict[str, tuple[str, str]] = {
    ConsignmentState.DRAFT: (CustodyStep.DISPATCH, "origin_hub.organisation"),
    ConsignmentState.DISPATCHED: (CustodyStep.PICKUP, "carrier"),
    ConsignmentState.IN_TRANSIT: (CustodyStep.RECEPTION, "recycler"),
    ConsignmentState.RECEIVED: (CustodyStep.TREATMENT, "recycler"),
}


def visible_consignments(organisation: Organisation | None) -> QuerySet[Consignment]:
    """The organisation's hubs' consignments, or those it carries or recycles; all for operators."""
    consignments = Consignment.objects.select_related(
        "origin_hub__organisation", "carrier", "recycler"
    )
    if organisation is None:
        return consignments.none()
    if organisation.kind in READ_ALL_KINDS:
        return consignments
    # Later carriers see what they carry (or are notified to carry), a consignee what it receives.
    later_carrier = Exists(
        CarrierLeg.objects.filter(consignment=OuterRef("pk"), carrier=organisation)
    ) | Exists(
        NotifiedCarrier.objects.filter(notification=OuterRef("notification"), carrier=organisation)
    )
    return consignments.filter(
        Q(origin_hub__organisation=organisation)
        | Q(carrier=organisation)
        | Q(recycler=organisation)
        | Q(notification__consignee=organisation)
        | later_carrier
    )


def consignment_for(organisation: Organisation | None, reference: str) -> Consignment:
    """The consignment with this reference if the organisation may see it; 404 otherwise."""
    consignment = visible_consignments(organisation).filter(reference=reference).first()
    if consignment is None:
        raise Http404(gettext("No consignment with this reference is visible to you."))
    return consignment


def next_custodian(consignment: Consignment) -> tuple[str, Organisation] | None:
    """The step to sign next and the organisation that signs it (None once treated)."""
    if consignment.state not in NEXT_STEP:
        return None
    if consignment.state == ConsignmentState.IN_TRANSIT and awaits_receipt(consignment):
        assert consignment.notification is not None
        consignee = consignment.notification.consignee
        # A facility that is also the consignee signs both with its reception: one step.
        if consignee.pk != consignment.recycler_id:
            return CustodyStep.RECEIPT, consignee
    step, path = NEXT_STEP[consignment.state]
    target: object = consignment
    for part in path.split("."):
        target = getattr(target, part)
    assert isinstance(target, Organisation)
    return step, target


def step_for(consignment: Consignment, organisation: Organisation | None) -> str | None:
    """The custody step this organisation may sign now, if any."""
    upcoming = next_custodian(consignment)
    if upcoming is None or organisation is None or upcoming[1].pk != organisation.pk:
        return None
    return upcoming[0]


def awaits_receipt(consignment: Consignment) -> bool:
    """Under a movement document the consignee signs its receipt before the facility's reception."""
    return (
        MovementDocument.objects.filter(consignment=consignment).exists()
        and not ConsigneeReceipt.objects.filter(consignment=consignment).exists()
    )
