"""Offline-first sync of intake records from hub devices.

A hub device records purchases while offline, each under a UUID it makes and with its own edit
counter (`revision`), and sends them later in batches. Each record of a batch is applied in its
own savepoint and answered on its own; the batch and its answer are stored, so the same batch
sent again (a retry after a lost answer) gets the stored answer and changes nothing.

The conflict rule, per record (docs/collection-sync.md):
- a record the server does not know is created, with the revision the device gave it;
- the highest revision wins: a higher revision replaces an open record (`updated`), a lower one
  is ignored and answered `conflict` with the revision the server keeps;
- the same revision with the same content is `unchanged`; with other content the first one the
  server received stays and the later one is a `conflict`;
- a record that is paid, packed in a lot or reversed is never edited: a higher revision of it
  is a `conflict` asking for a correction (on the intake page);
- a record that breaks a rule (unknown collector, price above the cap, bad IMEI) is `rejected`
  with the reason and nothing of it is written; send it again, fixed, in a new batch.
So a device's edits end in the same state whatever the order or repetition of its batches, as
long as it pays a record only in its last revision (after paying, it records corrections).
"""

from __future__ import annotations

import datetime as dt
import enum
import uuid
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from decimal import Decimal
from typing import Any

from django.db import DataError, IntegrityError, connection, transaction
from django.utils import timezone

from oneforone.accounts.models import User
from oneforone.accounts.permissions import NotAllowed, require_member
from oneforone.collection import actions
from oneforone.collection.actions import CollectionError
from oneforone.collection.models import Collector, Hub, Intake, PaymentMethod, SyncBatch
from oneforone.core import audit
from oneforone.core.money import CurrencyError


class Outcome(enum.StrEnum):
    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"
    CONFLICT = "conflict"
    REJECTED = "rejected"


class SyncError(Exception):
    """The whole batch is refused (nothing of it is applied)."""


@dataclass(frozen=True)
class IntakeRecord:
    """One purchase record as a hub device sends it. The collector is named by code, or by the
    UUID of a collector the device registered offline (synced before the record)."""

    client_uuid: uuid.UUID
    revision: int
    collected_at: dt.datetime
    phones: int
    net_weight_kg: Decimal
    price_per_phone: Decimal
    collector_code: str | None = None
    collector_uuid: uuid.UUID | None = None
    batteries_removed: int = 0
    battery_weight_kg: Decimal = Decimal(0)
    condition: str = "whole"
    latitude: Decimal | None = None
    longitude: Decimal | None = None
    gps_accuracy_m: int | None = None
    imeis: tuple[str, ...] = ()
    photos: tuple[str, ...] = ()
    note: str = ""
    paid_with: str | None = None
    payment_reference: str = ""


@dataclass(frozen=True)
class RecordResult:
    client_uuid: str
    outcome: Outcome
    message: str
    revision: int | None  # the revision the server keeps, if it keeps the record


@dataclass(frozen=True)
class BatchResult:
    batch_uuid: uuid.UUID
    replayed: bool
    results: list[RecordResult]

    def counts(self) -> dict[str, int]:
        return {o.value: sum(1 for r in self.results if r.outcome == o) for o in Outcome}


def _lock_batch(batch_uuid: uuid.UUID) -> None:
    """Two uploads of one batch at once: the second waits and then finds the first's answer."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [f"sync:{batch_uuid}"])


def _stored(batch: SyncBatch) -> BatchResult:
    return BatchResult(
        batch_uuid=batch.batch_uuid,
        replayed=True,
        results=[
            RecordResult(
                client_uuid=r["client_uuid"],
                outcome=Outcome(r["outcome"]),
                message=r["message"],
                revision=r["revision"],
            )
            for r in batch.result["records"]
        ],
    )


@transaction.atomic
def sync_batch(
    *,
    actor: User,
    hub: Hub,
    batch_uuid: uuid.UUID,
    device_id: str,
    records: Sequence[IntakeRecord],
    body_sha256: str,
) -> BatchResult:
    """Apply a device's batch of intake records, each on its own; store and return the answer."""
    require_member(actor, hub.organisation)
    _lock_batch(batch_uuid)
    earlier = SyncBatch.objects.filter(batch_uuid=batch_uuid).first()
    if earlier is not None:
        if earlier.body_sha256 != body_sha256 or earlier.hub_id != hub.pk:
            raise SyncError(
                f"batch {batch_uuid} was received before with other content; give every new "
                "batch a new batch_uuid"
            )
        return _stored(earlier)
    results = [_apply_in_savepoint(actor, hub, record) for record in records]
    result = BatchResult(batch_uuid=batch_uuid, replayed=False, results=results)
    batch = SyncBatch.objects.create(
        batch_uuid=batch_uuid,
        device_id=device_id.strip()[:100],
        hub=hub,
        received_at=timezone.now(),
        received_by=actor,
        records=len(records),
        body_sha256=body_sha256,
        result={"records": [{**asdict(r), "outcome": r.outcome.value} for r in results]},
    )
    audit.record(
        actor=actor,
        code="collection.sync.batch",
        obj=batch,
        organisation=hub.organisation,
        data={"batch_uuid": str(batch_uuid), "device_id": batch.device_id, **result.counts()},
    )
    return result


def _apply_in_savepoint(actor: User, hub: Hub, record: IntakeRecord) -> RecordResult:
    try:
        with transaction.atomic():
            return _apply(actor, hub, record)
    except (CollectionError, NotAllowed, CurrencyError, ValueError) as error:
        message = str(error)
    except (IntegrityError, DataError) as error:
        message = str(error).splitlines()[0]
    return RecordResult(str(record.client_uuid), Outcome.REJECTED, message, None)


def _apply(actor: User, hub: Hub, record: IntakeRecord) -> RecordResult:
    uuid_text = str(record.client_uuid)
    existing = (
        Intake.objects.select_for_update(of=("self",))
        .select_related("collector")
        .filter(client_uuid=record.client_uuid)
        .first()
    )
    if existing is not None and existing.hub_id != hub.pk:
        raise CollectionError(f"record {uuid_text} belongs to another hub")
    collector = _collector(hub, record)
    figures = _figures(record, collector)
    if existing is None:
        intake = actions.record_intake(
            actor=actor,
            hub=hub,
            client_uuid=record.client_uuid,
            revision=record.revision,
            currency=hub.currency,
            **figures,
        )
        return RecordResult(uuid_text, Outcome.CREATED, "recorded", intake.revision)
    kept = existing.revision
    if record.revision < kept:
        return RecordResult(
            uuid_text,
            Outcome.CONFLICT,
            f"the server keeps revision {kept}, a later edit; this revision is ignored",
            kept,
        )
    if record.revision == kept:
        if _same_content(existing, figures):
            return RecordResult(uuid_text, Outcome.UNCHANGED, "already recorded", kept)
        return RecordResult(
            uuid_text,
            Outcome.CONFLICT,
            f"revision {kept} was received before with other figures; the first one stays. "
            "Edit the record again (a higher revision) if this one is right",
            kept,
        )
    if not actions.editable(existing):
        return RecordResult(
            uuid_text,
            Outcome.CONFLICT,
            f"{actions.why_locked(existing)}; revision {kept} stays (corrections: the record's page)",
            kept,
        )
    actions.revise_intake(actor=actor, intake=existing, revision=record.revision, **figures)
    return RecordResult(uuid_text, Outcome.UPDATED, f"revision {kept} replaced", record.revision)


def _collector(hub: Hub, record: IntakeRecord) -> Collector:
    collectors = Collector.objects.filter(hub=hub)
    if record.collector_uuid is not None:
        found = collectors.filter(client_uuid=record.collector_uuid).first()
        name = f"collector {record.collector_uuid}"
    elif record.collector_code:
        found = collectors.filter(code=record.collector_code.strip()).first()
        name = f"collector {record.collector_code}"
    else:
        raise CollectionError("name the collector by code or by the UUID the device gave them")
    if found is None:
        raise CollectionError(
            f"{name} is not registered at {hub.name}; register the collector first, then send "
            "this record again in a new batch"
        )
    return found


def _figures(record: IntakeRecord, collector: Collector) -> dict[str, Any]:
    if record.paid_with is not None and record.paid_with not in PaymentMethod.values:
        raise CollectionError(f"unknown payment method {record.paid_with!r}")
    return {
        "collector": collector,
        "collected_at": record.collected_at,
        "phones": record.phones,
        "net_weight_kg": record.net_weight_kg,
        "price_per_phone": record.price_per_phone,
        "batteries_removed": record.batteries_removed,
        "battery_weight_kg": record.battery_weight_kg,
        "condition": record.condition,
        "latitude": record.latitude,
        "longitude": record.longitude,
        "gps_accuracy_m": record.gps_accuracy_m,
        "imeis": list(record.imeis),
        "photos": [digest.lower() for digest in record.photos],
        "note": record.note,
        "paid_with": PaymentMethod(record.paid_with) if record.paid_with else None,
        "payment_reference": record.payment_reference,
    }


def _same_content(intake: Intake, figures: dict[str, Any]) -> bool:
    """The stored record says what the device sent (numbers compared as numbers)."""
    stored = {
        "collector": intake.collector,
        "collected_at": intake.collected_at,
        "phones": intake.phones,
        "net_weight_kg": intake.net_weight_kg,
        "price_per_phone": intake.price_per_phone,
        "batteries_removed": intake.batteries_removed,
        "battery_weight_kg": intake.battery_weight_kg,
        "condition": intake.condition,
        "latitude": intake.latitude,
        "longitude": intake.longitude,
        "gps_accuracy_m": intake.gps_accuracy_m,
        "note": intake.note,
    }
    sent = {name: figures[name] for name in stored}
    sent["note"] = sent["note"].strip()
    if stored != sent:
        return False
    if set(intake.imeis.values_list("imei", flat=True)) != set(
        actions.clean_imeis(figures["imeis"])
    ):
        return False
    if set(intake.photos.values_list("sha256", flat=True)) != set(figures["photos"]):
        return False
    payment = intake.payments.filter(reverses__isnull=True).order_by("id").first()
    if figures["paid_with"] is None:
        return True
    return payment is not None and (payment.method, payment.reference) == (
        figures["paid_with"],
        figures["payment_reference"].strip(),
    )
