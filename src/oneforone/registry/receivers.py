from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from oneforone.accounts.models import User
from oneforone.partners.models import Registration
from oneforone.recycling.models import TreatmentCompletion
from oneforone.registry.actions import issue_batch, release_surplus_unaudited
from oneforone.registry.models import CLAIM_WITHDRAWN_AFTER_REVIEW
from oneforone.shipments.models import Stream


def issue_batch_on_treatment(
    sender: type, *, completion: TreatmentCompletion, actor: User, **kwargs: Any
) -> None:
    # Units stand for phones: a battery consignment's treatment issues none.
    if completion.consignment.stream == Stream.BATTERIES:
        return
    issue_batch(actor=actor, completion=completion)


def release_surplus_on_withdrawn_claims(
    sender: type,
    *,
    registrations: Sequence[Registration],
    actor: User,
    reason: str,
    **kwargs: Any,
) -> None:
    """A device claim moved or was rejected: its registration gives back the units it no
    longer owes, in the resolving action's transaction (whose audit event covers it).

    The operator's own reason may name both partners: it stays in the audit log. Revocations,
    ledger entries and certificate withdrawals are public, so they get a fixed wording."""
    release_surplus_unaudited(
        actor=actor, registrations=registrations, reason=PUBLIC_CLAIM_WITHDRAWN
    )


PUBLIC_CLAIM_WITHDRAWN = CLAIM_WITHDRAWN_AFTER_REVIEW  # stored in English, shown translated
