"""What the consignment page shows of the movement: document n/N, legs, receipts, revisions."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ObjectDoesNotExist

from oneforone.accounts.models import Membership
from oneforone.shipments.models import Code, CodeList, Consignment, ConsignmentState, RevisionStatus
from oneforone.shipments.movement_actions import document_number, next_carrier
from oneforone.shipments.movement_forms import (
    HandoverForm,
    RevisionAnswerForm,
    RevisionRequestForm,
)
from oneforone.shipments.revision_actions import REVISABLE, parties, waiting_parties


def _related(consignment: Consignment, name: str) -> Any:
    try:
        return getattr(consignment, name)
    except ObjectDoesNotExist:
        return None


def movement_context(
    consignment: Consignment, membership: Membership, posted: forms.Form | None
) -> dict[str, Any]:
    """The movement part of the consignment page, with the forms this viewer may use."""
    organisation = membership.organisation
    document = _related(consignment, "movement_document")
    legs = list(consignment.legs.select_related("carrier", "signature__signed_by"))
    labels: dict[str, str] = (
        dict(
            Code.objects.filter(
                code_list=CodeList.TRANSPORT, code__in={leg.means_of_transport for leg in legs}
            ).values_list("code", "label")
        )
        if legs
        else {}
    )
    for leg in legs:
        leg.means_label = labels.get(leg.means_of_transport, "").lower()  # type: ignore[attr-defined]
    party_ids = {o.pk for o in parties(consignment)}
    is_party = organisation is not None and organisation.pk in party_ids
    revisions = list(
        consignment.revision_requests.select_related(
            "organisation", "requested_by"
        ).prefetch_related("answers__organisation")
    )
    for revision in revisions:
        revision.label = REVISABLE[(revision.target, revision.field)].label  # type: ignore[attr-defined]
        waiting = waiting_parties(revision) if revision.status == RevisionStatus.PENDING else []
        revision.waiting = waiting  # type: ignore[attr-defined]
        revision.may_answer = (  # type: ignore[attr-defined]
            membership.can_write and organisation is not None and organisation in waiting
        )
    upcoming = (
        next_carrier(consignment, membership.user)
        if consignment.state == ConsignmentState.IN_TRANSIT
        and legs
        and _related(consignment, "consignee_receipt") is None
        else None
    )
    may_hand_over = membership.can_write and upcoming is not None and upcoming.pk == organisation.pk
    return {
        "movement_document": document,
        "movement_number": document_number(document) if document else "",
        "legs": legs,
        "consignee_receipt": _related(consignment, "consignee_receipt"),
        "handover_form": (posted if isinstance(posted, HandoverForm) else HandoverForm())
        if may_hand_over
        else None,
        "revisions": revisions,
        "revision_form": (
            posted if isinstance(posted, RevisionRequestForm) else RevisionRequestForm()
        )
        if is_party and membership.can_write and consignment.state != ConsignmentState.DRAFT
        else None,
        "answer_form": RevisionAnswerForm(),
    }
