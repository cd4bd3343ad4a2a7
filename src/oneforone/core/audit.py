"""The append-only, hash-chained audit log that every action writes to."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import models, transaction
from django.utils import timezone

from oneforone.core.db import advisory_xact_lock
from oneforone.core.models import AuditEvent

if TYPE_CHECKING:
    from oneforone.accounts.models import Organisation, User

GENESIS_HASH = "0" * 64
# Serialises writers of the chain; held until the action's transaction commits.
_AUDIT_CHAIN_LOCK = 0x0401_0001


def _canonical(event: AuditEvent) -> bytes:
    body = {
        "occurred_at": event.occurred_at.isoformat(),
        "actor": event.actor_id,
        "organisation": event.organisation_id,
        "code": event.code,
        "object_type": event.object_type,
        "object_id": event.object_id,
        "data": event.data,
        "previous_hash": event.previous_hash,
    }
    return json.dumps(body, sort_keys=True, cls=DjangoJSONEncoder, separators=(",", ":")).encode()


def compute_hash(event: AuditEvent) -> str:
    return hashlib.sha256(_canonical(event)).hexdigest()


def lock_chain() -> None:
    """Take the audit chain's lock now rather than at the action's end.

    Writers that take other locks the actions also take (the unit ledger's) call this first, so
    that every transaction takes the audit lock before them: one order, no deadlock."""
    advisory_xact_lock(_AUDIT_CHAIN_LOCK)


def record(
    *,
    actor: User,
    code: str,
    obj: models.Model | None = None,
    organisation: Organisation | None = None,
    data: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append one event; must run inside the action's transaction."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("audit.record must be called inside the action's transaction")
    advisory_xact_lock(_AUDIT_CHAIN_LOCK)
    last = AuditEvent.objects.order_by("-id").values_list("hash", flat=True).first()
    event = AuditEvent(
        occurred_at=timezone.now(),
        actor=actor,
        organisation=organisation,
        code=code,
        object_type=obj._meta.label_lower if obj is not None else "",
        object_id=str(obj.pk) if obj is not None else "",
        # Round-trip through JSON so the hash covers exactly what PostgreSQL stores.
        data=json.loads(json.dumps(data or {}, cls=DjangoJSONEncoder)),
        previous_hash=last or GENESIS_HASH,
    )
    event.hash = compute_hash(event)
    event.save(force_insert=True)
    return event


@dataclass(frozen=True)
class ChainBreak:
    event_id: int
    reason: str


def verify_chain(batch_size: int = 10_000) -> ChainBreak | None:
    """Recompute every hash in order; return the first entry that does not match, if any."""
    previous = GENESIS_HASH
    for event in _in_order(batch_size):
        if event.previous_hash != previous:
            return ChainBreak(event.pk, "previous_hash does not match the entry before it")
        if compute_hash(event) != event.hash:
            return ChainBreak(event.pk, "content does not match its hash")
        previous = event.hash
    return None


def _in_order(batch_size: int) -> Iterator[AuditEvent]:
    return AuditEvent.objects.order_by("id").iterator(chunk_size=batch_size)
