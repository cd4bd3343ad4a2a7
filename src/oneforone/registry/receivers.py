from __future__ import annotations

from typing import Any

from oneforone.accounts.models import User
from oneforone.recycling.models import TreatmentCompletion
from oneforone.registry.actions import issue_batch


def issue_batch_on_treatment(
    sender: type, *, completion: TreatmentCompletion, actor: User, **kwargs: Any
) -> None:
    issue_batch(actor=actor, completion=completion)
