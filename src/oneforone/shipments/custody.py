"""Signing a custody step: the signer's organisation takes custody, the covered fields are sealed."""

from __future__ import annotations

import hashlib
import json
from typing import TYPE_CHECKING, Any

from django.core.serializers.json import DjangoJSONEncoder
from django.utils import timezone
from django.utils.translation import gettext, gettext_lazy, pgettext_lazy

from oneforone.accounts.models import Organisation, User
from oneforone.accounts.permissions import require_member
from oneforone.core.audit import GENESIS_HASH
from oneforone.shipments.models import (
    TRANSITIONS,
    Consignment,
    ConsignmentState,
    CustodySignature,
    CustodyStep,
)

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise


class CustodyError(Exception):
    pass


# The state a step starts from, as the end of "this step needs it to be ...".
STATE_WORDS: dict[str, StrOrPromise] = {
    ConsignmentState.DRAFT: pgettext_lazy("consignment state", "draft"),
    ConsignmentState.DISPATCHED: pgettext_lazy("consignment state", "dispatched"),
    ConsignmentState.IN_TRANSIT: pgettext_lazy("consignment state", "in transit"),
    ConsignmentState.RECEIVED: pgettext_lazy("consignment state", "received"),
    ConsignmentState.TREATED: pgettext_lazy("consignment state", "treated"),
}
# A broken link of the signature chain, one whole sentence per step.
BROKEN_SIGNATURE: dict[str, StrOrPromise] = {
    CustodyStep.DISPATCH: gettext_lazy("dispatch signature does not match its hash"),
    CustodyStep.PICKUP: gettext_lazy("pickup signature does not match its hash"),
    CustodyStep.HANDOVER: gettext_lazy("handover signature does not match its hash"),
    CustodyStep.RECEIPT: gettext_lazy("receipt signature does not match its hash"),
    CustodyStep.RECEPTION: gettext_lazy("reception signature does not match its hash"),
    CustodyStep.TREATMENT: gettext_lazy("treatment signature does not match its hash"),
}


def signature_hash(signature: CustodySignature) -> str:
    body = {
        "consignment": signature.consignment.reference,
        "step": signature.step,
        "organisation": signature.organisation_id,
        "signed_by": signature.signed_by_id,
        "signed_at": signature.signed_at.isoformat(),
        "sealed_fields": signature.sealed_fields,
        "previous_hash": signature.previous_hash,
    }
    encoded = json.dumps(body, sort_keys=True, cls=DjangoJSONEncoder, separators=(",", ":"))
    return hashlib.sha256(encoded.encode()).hexdigest()


def lock(consignment: Consignment) -> Consignment:
    """Re-read the consignment with a row lock; every custody step starts here."""
    return (
        Consignment.objects.select_for_update(of=("self",))
        .select_related("origin_hub__organisation", "carrier", "recycler")
        .get(pk=consignment.pk)
    )


def require_state(consignment: Consignment, from_state: str) -> None:
    """Refuse a step unless the consignment is in the state the step starts from."""
    if consignment.state != from_state:
        raise CustodyError(
            gettext("consignment %(reference)s is %(state)s; this step needs it to be %(needed)s")
            % {
                "reference": consignment.reference,
                "state": consignment.get_state_display().lower(),
                "needed": STATE_WORDS.get(from_state, from_state.replace("_", " ")),
            }
        )


def sign(
    *,
    actor: User,
    consignment: Consignment,
    step: str,
    custodian: Organisation,
    from_state: str,
    sealed_fields: dict[str, Any],
    stays: bool = False,
    leg: int = 0,
) -> CustodySignature:
    """Move a locked consignment one state on, signed by a member of the custodian organisation.
    A step that `stays` (a carrier handover, the consignee's receipt) is signed without a move.

    Callers are actions: they hold the row lock and their transaction records the audit event.
    """
    require_member(actor, custodian)
    require_state(consignment, from_state)
    previous = consignment.signatures.order_by("-id").values_list("hash", flat=True).first()
    signature = CustodySignature(
        consignment=consignment,
        step=step,
        organisation=custodian,
        signed_by=actor,
        signed_at=timezone.now(),
        sealed_fields=json.loads(json.dumps(sealed_fields, cls=DjangoJSONEncoder)),
        previous_hash=previous or GENESIS_HASH,
        leg=leg,
    )
    signature.hash = signature_hash(signature)
    signature.save(force_insert=True)
    if not stays:
        consignment.state = TRANSITIONS[from_state]
        consignment.save(update_fields=["state"])
    return signature


def verify_signatures(consignment: Consignment) -> list[str]:
    """Problems found when re-checking a consignment's signature chain (empty when intact)."""
    problems = []
    previous = GENESIS_HASH
    for signature in consignment.signatures.order_by("id"):
        if signature.previous_hash != previous or signature_hash(signature) != signature.hash:
            broken = BROKEN_SIGNATURE.get(signature.step)
            problems.append(
                str(broken) if broken else f"{signature.step} signature does not match its hash"
            )
        previous = signature.hash
    return problems
