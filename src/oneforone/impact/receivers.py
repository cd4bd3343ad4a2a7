"""Figures follow the records: a new batch, or a new assay of a batch's consignment, queues its
computation under every published version once the transaction that wrote it commits."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction

from oneforone.recycling.models import LotAssay
from oneforone.registry.models import IssuanceBatch


def _enqueue(batch_id: int, reason: str, since: dt.datetime) -> None:
    from oneforone.impact.tasks import compute_batch_figures

    compute_batch_figures.enqueue(batch_id, reason, since.isoformat())


def batch_issued(sender: type, *, instance: IssuanceBatch, created: bool, **kwargs: Any) -> None:
    if created:
        batch_id, since = instance.pk, instance.issued_at
        transaction.on_commit(lambda: _enqueue(batch_id, "issuance", since))


def assay_recorded(sender: type, *, instance: LotAssay, created: bool, **kwargs: Any) -> None:
    if not created:
        return
    batch_id = (
        IssuanceBatch.objects.filter(consignment_id=instance.consignment_id)
        .values_list("id", flat=True)
        .first()
    )
    if batch_id is not None:
        since = instance.recorded_at
        transaction.on_commit(lambda: _enqueue(batch_id, "assay", since))
