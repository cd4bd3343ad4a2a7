"""The public registry's JSON API under /api/v1/public/: no key, rate limited per client address.

The same reads as the public pages (`public_queries.py`), so the same things are public.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Q
from django.http import HttpRequest
from django.urls import reverse
from ninja import Router, Schema, Status
from ninja.decorators import decorate_view

from oneforone.core.apitools import ErrorOut
from oneforone.core.ratelimit import rate_limited
from oneforone.registry import public_queries, serials
from oneforone.registry.models import IssuanceBatch, LedgerRoot

router = Router(auth=None, tags=["public registry"])

# One bucket per client address for the whole public API (settings.RATE_LIMITS["public-api"]).
limited = decorate_view(rate_limited("public-api", limit=120, window=dt.timedelta(minutes=1)))


class BatchOut(Schema):
    id: int
    block: str
    first_unit: int
    last_unit: int
    origin_country: str
    vintage_year: int
    collected_from: str
    collected_until: str
    consignment: str
    recycler: str
    treatment_operation: str
    treatment_completed: str
    net_weight_kg: str
    issued_at: str
    units_issued: int
    units_allocated: int
    units_reserved: int
    units_cancelled: int
    units_available: int
    url: str


class BatchPage(Schema):
    items: list[BatchOut]
    next_cursor: int | None


class BlockOut(Schema):
    record: str
    block: str
    first_unit: int
    last_unit: int
    units: int
    status: str
    at: str
    ended_at: str | None
    partner: str | None
    certificates: list[str]
    reason: str | None
    parent_block: str | None


class BatchDetail(BatchOut):
    cancellations: list[BlockOut]
    allocations: list[BlockOut]
    allocations_total: int
    allocations_offset: int


class EventOut(Schema):
    at: str
    kind: str
    block: str
    text: str
    certificate: str | None


class EntryOut(Schema):
    id: int
    kind: str
    account: str
    sequence: int
    delta: int
    units: list[int] | None
    recorded_at: str
    entry_hash: str
    url: str


class UnitOut(Schema):
    serial: str
    is_block: bool
    units: int
    batch: BatchOut
    events: list[EventOut]
    allocations: list[BlockOut]
    reservations: list[BlockOut]
    cancellations: list[BlockOut]
    lineage: list[dict[str, Any]]
    ledger_entries: list[EntryOut]
    ledger_entries_truncated: bool


class RootOut(Schema):
    day: str
    entries: int
    first_entry: int
    last_entry: int
    root: str
    published_at: str


class RootsOut(Schema):
    method: str
    roots: list[RootOut]


def _batch(batch: IssuanceBatch) -> dict[str, Any]:
    return public_queries.batch_row(batch) | {"url": reverse("registry-batch", args=[batch.pk])}


@router.get("/batches", response=BatchPage, summary="Issuance batches, newest first")
@limited
def list_batches(request: HttpRequest, cursor: int | None = None, limit: int = 50) -> Any:
    """Pass the previous page's `next_cursor` as `cursor` for the next page (limit 1..500)."""
    limit = max(1, min(limit, 500))
    rows = public_queries.batches()
    if cursor is not None:
        last = IssuanceBatch.objects.filter(pk=cursor).values("issued_at").first()
        if last is not None:
            rows = rows.filter(
                Q(issued_at__lt=last["issued_at"]) | Q(issued_at=last["issued_at"], pk__lt=cursor)
            )
    page = list(rows[: limit + 1])
    return {
        "items": [_batch(b) for b in page[:limit]],
        "next_cursor": page[limit - 1].pk if len(page) > limit else None,
    }


@router.get(
    "/batches/{batch_id}",
    response={200: BatchDetail, 404: ErrorOut},
    summary="One batch: its facts, unit figures, cancellations and allocations",
)
@limited
def get_batch(request: HttpRequest, batch_id: int, offset: int = 0, limit: int = 500) -> Any:
    """Allocations are paged by `offset` and `limit` (1..5000); `allocations_total` counts them."""
    batch = public_queries.batches().filter(pk=batch_id).first()
    if batch is None:
        return Status(404, {"code": "not_found", "message": f"no batch {batch_id}"})
    limit = max(1, min(limit, 5000))
    offset = max(0, offset)
    allocations = public_queries.batch_allocations(batch)
    return Status(
        200,
        _batch(batch)
        | {
            "cancellations": [r.as_json() for r in public_queries.cancellation_records(batch)],
            "allocations": [
                r.as_json()
                for r in public_queries.allocation_records(
                    batch, allocations[offset : offset + limit]
                )
            ],
            "allocations_total": allocations.count(),
            "allocations_offset": offset,
        },
    )


@router.get(
    "/units/{serial}",
    response={200: UnitOut, 400: ErrorOut, 404: ErrorOut},
    summary="A unit's history (or a block's): records in time order and ledger entries",
)
@limited
def get_unit(request: HttpRequest, serial: str) -> Any:
    try:
        block = serials.parse(serial)
    except serials.SerialError as error:
        return Status(400, {"code": "bad_serial", "message": str(error)})
    try:
        batch = public_queries.locate(block)
    except public_queries.UnitNotFound as error:
        return Status(404, {"code": "not_found", "message": str(error)})
    history = public_queries.unit_history(batch, block)
    return Status(
        200,
        {
            "serial": str(block),
            "is_block": history.is_block,
            "units": block.quantity,
            "batch": _batch(batch),
            "events": [e.as_json() for e in history.events],
            "allocations": [r.as_json() for r in history.allocations],
            "reservations": [r.as_json() for r in history.reservations],
            "cancellations": [r.as_json() for r in history.cancellations],
            "lineage": [
                {"parent": item.parent.block, "children": [c.block for c in item.children]}
                for item in history.lineage
            ],
            "ledger_entries": [
                {
                    "id": e.pk,
                    "kind": e.kind,
                    "account": e.account,
                    "sequence": e.sequence,
                    "delta": e.delta,
                    "units": [e.units.lower, e.units.upper] if e.units else None,
                    "recorded_at": e.recorded_at.isoformat(),
                    "entry_hash": e.entry_hash,
                    "url": reverse("ledger-entry-json", args=[e.entry_hash]),
                }
                for e in history.entries
            ],
            "ledger_entries_truncated": history.more_entries,
        },
    )


@router.get(
    "/ledger/roots", response=RootsOut, summary="Published daily ledger roots, newest first"
)
@limited
def ledger_roots(request: HttpRequest) -> Any:
    return public_queries.roots_json(LedgerRoot.objects.order_by("-day"))
