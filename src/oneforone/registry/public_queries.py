"""Reads behind the public registry: batches with their unit figures, a unit's history, ledger
proofs. Shared by the pages (`public_views.py`, `views.py`) and the public API (`public_api.py`).

What is public: batches (origin country, vintage, collection period, consignment reference,
recycler, weight), unit blocks and what happened to them, cancellations and revocations with
their reasons, certificates, the ledger's hashes and daily roots. A partner's name appears only
beside units of a registration that has a certificate (the name is printed on it); reservations
appear without their partner or quota label; nothing about collectors or hubs appears at all.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.contrib.postgres.lookups import DataContains
from django.db.backends.postgresql.psycopg_any import NumericRange
from django.db.models import (
    BigIntegerField,
    Exists,
    F,
    OuterRef,
    QuerySet,
    Subquery,
    Sum,
)
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils.formats import date_format, number_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from oneforone.core import ledger as hashing
from oneforone.registry import ledger, serials
from oneforone.registry.models import (
    Allocation,
    Cancellation,
    CancellationReason,
    Certificate,
    IssuanceBatch,
    LedgerEntry,
    LedgerRoot,
    Reservation,
    service_reason,
)

# Certificate codes: C- and ten characters without 0, 1, I or O.
CERTIFICATE_CODE = re.compile(r"^C-[2-9A-HJ-NP-Z]{10}$")

# A day's root is published once the day is over and an hour has passed (actions.ROOT_GRACE).
SEAL_DELAY = dt.timedelta(days=1, hours=1)

# Entries of these kinds carry a partner's quota label or an operator's free text in `data`:
# their hash and inclusion proof are public, their fields are not.
WITHHELD_KINDS = frozenset({"reserve", "release"})

# Marked for the catalogue only: the JSON documents give it in English, the ledger page
# translates it (`gettext(METHOD)`).
METHOD = gettext_noop(
    "Each ledger entry's hash is SHA-256 (hex) of the canonical JSON of its fields (keys sorted, "
    'separators "," and ":", ASCII only, \\u-escaped): account, sequence, kind, delta, batch, '
    "units ([first, last + 1) or null), reference, data, recorded_at (ISO 8601, UTC) and "
    "prev_hash (the hash of the account's previous entry, or 64 zeros for its first). The entries "
    "recorded on one UTC day, in id order, are the leaves of a Merkle tree: leaf = SHA-256(0x00 "
    "|| entry hash bytes), node = SHA-256(0x01 || left || right), an odd node at the end of a "
    "level is carried up unchanged; the root is published as hex after 01:00 UTC the next day. "
    "A certificate's snapshot_sha256 is SHA-256 of the canonical JSON of its snapshot."
)


# --- batches --------------------------------------------------------------------------------


def _total(rows: QuerySet[Any]) -> Coalesce:
    """The summed `quantity` of `rows` (already filtered on OuterRef("pk")), as a subquery."""
    per_batch = rows.order_by().values("batch").annotate(n=Sum("quantity")).values("n")[:1]
    return Coalesce(Subquery(per_batch, output_field=BigIntegerField()), 0)


def batches() -> QuerySet[IssuanceBatch]:
    """Every batch with units `allocated`, `reserved` (set aside, not yet allocated),
    `cancelled` and `available`, each a correlated SQL aggregate; newest first.

    issued (`quantity`) = allocated + reserved + cancelled + available.
    """
    this_batch = OuterRef("pk")
    held_in_reservation = Reservation.objects.filter(
        DataContains(F("units"), OuterRef("units")),
        batch=OuterRef("batch"),
        released_at__isnull=True,
    )
    return (
        IssuanceBatch.objects.select_related("consignment__recycler", "treatment")
        .annotate(
            allocated=_total(Allocation.objects.filter(batch=this_batch)),
            reserved_total=_total(
                Reservation.objects.filter(batch=this_batch, released_at__isnull=True)
            ),
            reserved_allocated=_total(
                Allocation.objects.filter(batch=this_batch).filter(Exists(held_in_reservation))
            ),
            cancelled=_total(Cancellation.objects.filter(batch=this_batch)),
        )
        .annotate(reserved=F("reserved_total") - F("reserved_allocated"))
        .annotate(available=F("quantity") - F("allocated") - F("reserved") - F("cancelled"))
        .order_by("-issued_at", "-id")
    )


def batch_row(batch: IssuanceBatch) -> dict[str, Any]:
    """A batch from `batches()` as public JSON (also the CSV's columns)."""
    return {
        "id": batch.pk,
        "block": batch.block,
        "first_unit": batch.units.lower,
        "last_unit": batch.units.upper - 1,
        "origin_country": batch.origin_country,
        "vintage_year": batch.vintage_year,
        "collected_from": batch.collected_from.isoformat(),
        "collected_until": batch.collected_until.isoformat(),
        "consignment": batch.consignment.reference,
        "recycler": batch.consignment.recycler.name,
        "treatment_operation": batch.treatment.operation,
        "treatment_completed": batch.treatment.completed_on.isoformat(),
        "net_weight_kg": str(batch.net_weight_kg),
        "issued_at": batch.issued_at.isoformat(),
        "units_issued": batch.quantity,
        "units_allocated": batch.allocated,  # type: ignore[attr-defined]
        "units_reserved": batch.reserved,  # type: ignore[attr-defined]
        "units_cancelled": batch.cancelled,  # type: ignore[attr-defined]
        "units_available": batch.available,  # type: ignore[attr-defined]
    }


BATCH_COLUMNS = [
    "id",
    "block",
    "first_unit",
    "last_unit",
    "origin_country",
    "vintage_year",
    "collected_from",
    "collected_until",
    "consignment",
    "recycler",
    "treatment_operation",
    "treatment_completed",
    "net_weight_kg",
    "issued_at",
    "units_issued",
    "units_allocated",
    "units_reserved",
    "units_cancelled",
    "units_available",
]


@dataclass
class BlockRecord:
    """One allocation, reservation or cancellation of a batch, as the public sees it."""

    record: str  # allocation | reservation | cancellation
    id: int
    block: str
    first: int
    last: int
    at: dt.datetime
    status: str  # active | revoked | released | cancelled
    partner: str = ""
    certificates: list[str] = field(default_factory=list)
    reason: str = ""
    ended_at: dt.datetime | None = None
    parent_block: str = ""
    parent_id: int | None = None

    @property
    def units(self) -> int:
        return self.last - self.first + 1

    def as_json(self) -> dict[str, Any]:
        return {
            "record": self.record,
            "block": self.block,
            "first_unit": self.first,
            "last_unit": self.last,
            "units": self.units,
            "status": self.status,
            "at": self.at.isoformat(),
            "ended_at": self.ended_at.isoformat() if self.ended_at else None,
            "partner": self.partner or None,
            "certificates": self.certificates,
            "reason": self.reason or None,
            "parent_block": self.parent_block or None,
        }


def cancellation_records(batch: IssuanceBatch) -> list[BlockRecord]:
    return [
        BlockRecord(
            "cancellation",
            c.pk,
            batch.block_of(c.units.lower, c.units.upper),
            c.units.lower,
            c.units.upper - 1,
            c.cancelled_at,
            "cancelled",
            reason=_cancellation_reason(c),
        )
        for c in Cancellation.objects.filter(batch=batch).order_by("cancelled_at", "units")
    ]


def _cancellation_reason(cancellation: Cancellation) -> str:
    if cancellation.reason == CancellationReason.OTHER:
        return cancellation.explanation
    label = cancellation.get_reason_display()
    return f"{label[0].lower()}{label[1:]}: {cancellation.explanation}"


def allocation_records(
    batch: IssuanceBatch, allocations: Iterable[Allocation]
) -> list[BlockRecord]:
    """Allocations (from `batch_allocations`) as public records: the partner's name and the
    certificate codes only where the registration has a certificate."""
    allocations = list(allocations)
    codes, partners = _certificates_of({a.registration_id for a in allocations})
    records = []
    for a in allocations:
        block = batch.block_of(a.units.lower, a.units.upper)
        revocation = getattr(a, "revocation", None) if a.revoked_at else None
        records.append(
            BlockRecord(
                "allocation",
                a.pk,
                block,
                a.units.lower,
                a.units.upper - 1,
                a.allocated_at,
                "revoked" if a.revoked_at else "active",
                partner=partners.get(a.registration_id, ""),
                certificates=codes.get((a.registration_id, block), []),
                reason=revocation.reason if revocation else "",
                ended_at=a.revoked_at,
                parent_block=batch.block_of(a.parent.units.lower, a.parent.units.upper)
                if a.parent
                else "",
                parent_id=a.parent_id,
            )
        )
    return records


def _certificates_of(
    registration_ids: set[int],
) -> tuple[dict[tuple[int, str], list[str]], dict[int, str]]:
    """(registration, block) -> the codes of the certificates listing the block, oldest first;
    registration -> the partner's name as its certificates print it. One query."""
    codes: dict[tuple[int, str], list[str]] = {}
    partners: dict[int, str] = {}
    for registration_id, code, snapshot in (
        Certificate.objects.filter(registration_id__in=registration_ids)
        .order_by("registration_id", "version")
        .values_list("registration_id", "code", "snapshot")
    ):
        partners[registration_id] = snapshot["partner"]
        for block in snapshot["unit_blocks"]:
            codes.setdefault((registration_id, block), []).append(code)
    return codes, partners


def reservation_records(
    batch: IssuanceBatch, reservations: Iterable[Reservation]
) -> list[BlockRecord]:
    """Reservations without partner or label: a partner's quota is its own business."""
    return [
        BlockRecord(
            "reservation",
            r.pk,
            batch.block_of(r.units.lower, r.units.upper),
            r.units.lower,
            r.units.upper - 1,
            r.reserved_at,
            "released" if r.released_at else "active",
            ended_at=r.released_at,
            parent_block=batch.block_of(r.parent.units.lower, r.parent.units.upper)
            if r.parent
            else "",
            parent_id=r.parent_id,
        )
        for r in reservations
    ]


def batch_allocations(batch: IssuanceBatch) -> QuerySet[Allocation]:
    return (
        Allocation.history.filter(batch=batch)
        .select_related("revocation", "parent")
        .order_by("units", "allocated_at", "id")
    )


# --- a unit or a block ----------------------------------------------------------------------


class UnitNotFound(Exception):
    pass


def locate(block: serials.Block) -> IssuanceBatch:
    """The batch holding every unit of a parsed serial or block; UnitNotFound says why not."""
    wanted = NumericRange(block.first, block.last + 1)
    batch = batches().filter(units__contains=wanted).first()
    if batch is None:
        if IssuanceBatch.objects.filter(units__overlap=wanted).exists():
            raise UnitNotFound(
                _("%(block)s spans more than one batch; look up a block of one batch")
                % {"block": block}
            )
        raise UnitNotFound(_("no unit %(block)s has been issued") % {"block": block})
    if (batch.origin_country, batch.vintage_year) != (block.country, block.year):
        actual = serials.format_block(
            batch.origin_country, batch.vintage_year, block.first, block.last
        )
        raise UnitNotFound(
            _(
                "no unit %(block)s has been issued: those numbers were issued as %(actual)s "
                "(origin %(origin)s, vintage %(vintage)s)"
            )
            % {
                "block": block,
                "actual": actual,
                "origin": batch.origin_country,
                "vintage": batch.vintage_year,
            }
        )
    return batch


@dataclass
class HistoryEvent:
    at: dt.datetime
    kind: str
    block: str
    text: str
    certificate: str = ""

    def as_json(self) -> dict[str, Any]:
        return {
            "at": self.at.isoformat(),
            "kind": self.kind,
            "block": self.block,
            "text": self.text,
            "certificate": self.certificate or None,
        }


@dataclass
class Lineage:
    parent: BlockRecord
    children: list[BlockRecord]


@dataclass
class UnitHistory:
    batch: IssuanceBatch
    block: serials.Block
    events: list[HistoryEvent]
    allocations: list[BlockRecord]
    reservations: list[BlockRecord]
    cancellations: list[BlockRecord]
    lineage: list[Lineage]
    entries: list[LedgerEntry]
    more_entries: bool

    @property
    def is_block(self) -> bool:
        return self.block.first != self.block.last


ENTRY_LIMIT = 200


def unit_history(batch: IssuanceBatch, block: serials.Block) -> UnitHistory:
    """Everything recorded about the units of `block` (one unit or a block of one batch)."""
    wanted = NumericRange(block.first, block.last + 1)
    allocation_rows = list(batch_allocations(batch).filter(units__overlap=wanted))
    revoked_ids = [a.pk for a in allocation_rows if a.revoked_at]
    sibling_rows = list(  # children of a revoked range that hold none of the wanted units
        batch_allocations(batch).filter(parent_id__in=revoked_ids).exclude(units__overlap=wanted)
    )
    records = allocation_records(batch, allocation_rows + sibling_rows)
    allocations = records[: len(allocation_rows)]
    lineage = [
        Lineage(parent, [r for r in records if r.parent_id == parent.id])
        for parent in allocations
        if parent.status == "revoked"
    ]
    reservations = reservation_records(
        batch,
        Reservation.objects.filter(batch=batch, units__overlap=wanted)
        .select_related("parent")
        .order_by("reserved_at", "units"),
    )
    cancellations = [
        c for c in cancellation_records(batch) if c.first <= block.last and c.last >= block.first
    ]
    certificates = list(
        Certificate.objects.filter(code__in={c for r in allocations for c in r.certificates})
        .select_related("withdrawal")
        .order_by("issued_at", "version")
    )
    events = _events(batch, block, allocations, reservations, cancellations, certificates)
    entries = list(
        LedgerEntry.objects.filter(batch=batch, units__overlap=wanted).order_by("id")[
            : ENTRY_LIMIT + 1
        ]
    )
    entries += LedgerEntry.objects.filter(
        reference__in=[f"certificate:{c.code}" for c in certificates]
    ).order_by("id")
    entries.sort(key=lambda e: e.pk)
    return UnitHistory(
        batch=batch,
        block=block,
        events=events,
        allocations=allocations,
        reservations=reservations,
        cancellations=cancellations,
        lineage=[item for item in lineage if item.children],
        entries=entries[:ENTRY_LIMIT],
        more_entries=len(entries) > ENTRY_LIMIT,
    )


# Events recorded in one transaction share a timestamp: a cancellation revokes, withdraws the
# certificate, grants the rest again and re-allocates, in this order.
ORDER = {
    kind: n
    for n, kind in enumerate(
        [
            "issued",
            "cancelled",
            "released",
            "revoked",
            "certificate withdrawn",
            "reserved",
            "allocated",
            "certificate issued",
        ]
    )
}


def _events(
    batch: IssuanceBatch,
    block: serials.Block,
    allocations: list[BlockRecord],
    reservations: list[BlockRecord],
    cancellations: list[BlockRecord],
    certificates: list[Certificate],
) -> list[HistoryEvent]:
    events = [
        HistoryEvent(
            batch.issued_at,
            "issued",
            batch.block,
            _(
                "Issued in batch %(batch)s (%(units)s units) for consignment %(consignment)s, "
                "treated by %(recycler)s on %(day)s"
            )
            % {
                "batch": batch.pk,
                "units": number_format(batch.quantity, force_grouping=True),
                "consignment": batch.consignment.reference,
                "recycler": batch.consignment.recycler.name,
                "day": date_format(batch.treatment.completed_on, "j M Y"),
            },
        )
    ]
    for r in reservations:
        text = _("Reserved for a partner's quota")
        if r.parent_block:
            text = _("Reserved again for the same quota, as part of %(block)s") % {
                "block": r.parent_block
            }
        events.append(HistoryEvent(r.at, "reserved", r.block, text))
        if r.ended_at:
            events.append(HistoryEvent(r.ended_at, "released", r.block, _("Reservation released")))
    for c in cancellations:
        events.append(
            HistoryEvent(
                c.at, "cancelled", c.block, _("Cancelled because %(reason)s") % {"reason": c.reason}
            )
        )
    for a in allocations:
        owner = a.partner or _("a registration not yet fully compensated")
        if a.parent_block:
            text = _("Granted again to %(owner)s, as a child block of revoked %(block)s") % {
                "owner": owner,
                "block": a.parent_block,
            }
        else:
            text = _("Allocated to %(owner)s") % {"owner": owner}
        code = a.certificates[0] if a.certificates else ""
        events.append(HistoryEvent(a.at, "allocated", a.block, text, code))
        if a.ended_at:
            events.append(
                HistoryEvent(
                    a.ended_at,
                    "revoked",
                    a.block,
                    _("Revoked because %(reason)s") % {"reason": service_reason(a.reason)},
                )
            )
    for certificate in certificates:
        text = _("Certificate version %(version)s issued to %(partner)s") % {
            "version": certificate.version,
            "partner": certificate.snapshot["partner"],
        }
        events.append(
            HistoryEvent(certificate.issued_at, "certificate issued", "", text, certificate.code)
        )
        withdrawal = getattr(certificate, "withdrawal", None)
        if withdrawal is not None:
            events.append(
                HistoryEvent(
                    withdrawal.withdrawn_at,
                    "certificate withdrawn",
                    "",
                    _("Certificate withdrawn because %(reason)s")
                    % {"reason": withdrawal.reason_shown},
                    certificate.code,
                )
            )
    events.sort(key=lambda e: (e.at, ORDER[e.kind]))
    return events


# --- ledger ---------------------------------------------------------------------------------


def seal_day(entry: LedgerEntry) -> tuple[dt.date, dt.datetime]:
    """The UTC day whose root will cover the entry, and when that root is published at the
    earliest."""
    day = entry.recorded_at.astimezone(dt.UTC).date()
    return day, dt.datetime.combine(day, dt.time.min, tzinfo=dt.UTC) + SEAL_DELAY


def entry_json(entry: LedgerEntry) -> dict[str, Any]:
    """An entry, its hash, and its proof or when it will be sealed; fields withheld for
    WITHHELD_KINDS."""
    day, after = seal_day(entry)
    withheld = entry.kind in WITHHELD_KINDS
    return {
        "id": entry.pk,
        "kind": entry.kind,
        "fields": None if withheld else ledger.hashed_fields(entry),
        "fields_withheld": withheld,
        "entry_hash": entry.entry_hash,
        "proof": ledger.inclusion_proof(entry),
        "sealed_in_root_of": day.isoformat(),
        "root_published_after": after.isoformat(),
    }


def certificate_entry(
    certificate: Certificate, kind: str = "certificate.issued"
) -> LedgerEntry | None:
    return (
        LedgerEntry.objects.filter(reference=f"certificate:{certificate.code}", kind=kind)
        .order_by("id")
        .first()
    )


def certificate_json(certificate: Certificate, *, base_url: str) -> dict[str, Any]:
    """Everything a verifier needs, for /verify/<code>.json."""

    def link(other: Certificate | None) -> dict[str, Any] | None:
        if other is None:
            return None
        return {
            "code": other.code,
            "version": other.version,
            "url": base_url + reverse("verify", args=[other.code]),
        }

    withdrawal = getattr(certificate, "withdrawal", None)
    issued = certificate_entry(certificate)
    withdrawn = certificate_entry(certificate, "certificate.withdrawn") if withdrawal else None
    return {
        "code": certificate.code,
        "url": base_url + reverse("verify", args=[certificate.code]),
        "status": "withdrawn" if withdrawal else "valid",
        "version": certificate.version,
        "issued_at": certificate.issued_at.isoformat(),
        "supersedes": link(certificate.supersedes),
        "superseded_by": link(getattr(certificate, "superseded_by", None)),
        "withdrawal": {
            "withdrawn_at": withdrawal.withdrawn_at.isoformat(),
            "reason": withdrawal.reason,
            "entry_hash": withdrawn.entry_hash if withdrawn else None,
        }
        if withdrawal
        else None,
        "snapshot": certificate.snapshot,
        "snapshot_sha256": certificate.snapshot_sha256,
        "ledger_entry": entry_json(issued) if issued else None,
        "roots_url": base_url + reverse("ledger-roots-json"),
        "method": METHOD,
    }


def roots_json(roots: Iterable[LedgerRoot]) -> dict[str, Any]:
    return {
        "method": METHOD,
        "roots": [
            {
                "day": r.day.isoformat(),
                "entries": r.entries,
                "first_entry": r.first_entry,
                "last_entry": r.last_entry,
                "root": r.root,
                "published_at": r.published_at.isoformat(),
            }
            for r in roots
        ],
    }


def proof_checks(entry_hash: str, proof: dict[str, Any] | None) -> bool:
    """Whether the proof leads from the entry hash to its stated root (for the page's tick)."""
    return (
        proof is not None and hashing.root_from_proof(entry_hash, proof["proof"]) == proof["root"]
    )
