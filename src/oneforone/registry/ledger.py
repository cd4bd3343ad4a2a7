"""The unit ledger: every issuance, reservation, allocation, cancellation and certificate event.

Writes happen inside the registry's actions (`record`); `verify` recomputes everything from the
entries and compares it with the registry's tables; `publish_roots` seals each finished UTC day
under a Merkle root.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import connection
from django.db.backends.postgresql.psycopg_any import NumericRange
from django.utils import timezone
from psycopg.types.json import Jsonb

from oneforone.core import audit
from oneforone.core import ledger as hashing
from oneforone.core.db import copy_rows
from oneforone.registry import supply
from oneforone.registry.models import IssuanceBatch, LedgerEntry, LedgerRoot

SUPPLY = "supply"
LOCK_BUCKETS = 256


def batch_account(batch_id: int) -> str:
    return f"batch:{batch_id}"


def registration_account(registration_id: int) -> str:
    return f"registration:{registration_id}"


def reservation_account(reservation_id: int) -> str:
    return f"reservation:{reservation_id}"


def cancelled_account(batch_id: int) -> str:
    return f"cancelled:{batch_id}"


@dataclass(frozen=True)
class Leg:
    account: str
    delta: int
    batch_id: int | None = None
    units: tuple[int, int] | None = None


@dataclass(frozen=True)
class Event:
    """One business event: legs that sum to zero, posted as one entry per leg."""

    kind: str
    legs: Sequence[Leg]
    reference: str = ""
    data: dict[str, Any] = field(default_factory=dict)


def move(
    kind: str,
    source: str,
    target: str,
    *,
    quantity: int,
    batch_id: int | None,
    units: tuple[int, int] | None = None,
    reference: str = "",
    data: dict[str, Any] | None = None,
) -> Event:
    return Event(
        kind,
        [Leg(source, -quantity, batch_id, units), Leg(target, quantity, batch_id, units)],
        reference,
        data or {},
    )


def hashed_fields(entry: Any) -> dict[str, Any]:
    """Exactly what an entry's hash covers; `entry` is a LedgerEntry or a row with its names."""
    units = [entry.units.lower, entry.units.upper] if entry.units is not None else None
    return {
        "account": entry.account,
        "sequence": entry.sequence,
        "kind": entry.kind,
        "delta": entry.delta,
        "batch": entry.batch_id,
        "units": units,
        "reference": entry.reference,
        "data": entry.data,
        "recorded_at": entry.recorded_at.astimezone(dt.UTC).isoformat(),
        "prev_hash": entry.prev_hash,
    }


def record(events: Sequence[Event], *, now: dt.datetime | None = None) -> None:
    """Append the events' entries, chaining each account's entries; call inside a transaction."""
    if not events:
        return
    for event in events:
        if sum(leg.delta for leg in event.legs) != 0:
            raise ValueError(f"ledger event {event.kind} does not balance: {event.legs}")
    now = (now or timezone.now()).astimezone(dt.UTC)
    accounts = sorted({leg.account for event in events for leg in event.legs})
    # Locks in one order everywhere: the audit chain's (every action ends by taking it, and the
    # treatment action takes it before issuing units), then the ledger's account buckets.
    audit.lock_chain()
    heads = _lock_and_read_heads(accounts)
    entries = []
    for event in events:
        data = hashing_safe(event.data)
        for leg in event.legs:
            sequence, prev_hash = heads.get(leg.account, (0, hashing.GENESIS))
            entry = LedgerEntry(
                account=leg.account,
                sequence=sequence + 1,
                kind=event.kind,
                delta=leg.delta,
                batch_id=leg.batch_id,
                units=NumericRange(*leg.units) if leg.units else None,
                reference=event.reference,
                data=data,
                recorded_at=now,
                prev_hash=prev_hash,
            )
            entry.entry_hash = hashing.entry_hash(hashed_fields(entry))
            heads[leg.account] = (entry.sequence, entry.entry_hash)
            entries.append(entry)
    copy_rows(
        LedgerEntry._meta.db_table,
        _COPY_COLUMNS,
        (
            (
                e.account,
                e.sequence,
                e.kind,
                e.delta,
                e.batch_id,
                e.units,
                e.reference,
                Jsonb(e.data),
                e.recorded_at,
                e.prev_hash,
                e.entry_hash,
            )
            for e in entries
        ),
    )


_COPY_COLUMNS = (
    "account",
    "sequence",
    "kind",
    "delta",
    "batch_id",
    "units",
    "reference",
    "data",
    "recorded_at",
    "prev_hash",
    "entry_hash",
)


def hashing_safe(data: dict[str, Any]) -> dict[str, Any]:
    """Data as it will read back from jsonb: plain JSON values only (no floats to round)."""
    text = hashing.canonical_json(data)
    if any(isinstance(v, float) for v in _walk(data)):
        raise ValueError("ledger data must not contain floats; use strings for decimals")
    loaded: dict[str, Any] = json.loads(text)
    return loaded


def _walk(value: Any) -> Iterator[Any]:
    if isinstance(value, dict):
        for v in value.values():
            yield from _walk(v)
    elif isinstance(value, list):
        for v in value:
            yield from _walk(v)
    else:
        yield value


def _lock_and_read_heads(accounts: list[str]) -> dict[str, tuple[int, str]]:
    """Serialise writers per account, then read each account's last sequence number and hash.

    Accounts are locked by bucket (at most LOCK_BUCKETS advisory locks, taken in a fixed order
    so that no two writers deadlock): one lock per account would exhaust PostgreSQL's lock table
    when an allocation run touches tens of thousands of registrations."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_advisory_xact_lock(4011, bucket) FROM ("
            "  SELECT DISTINCT abs(hashtext(a) %% %s) AS bucket FROM unnest(%s::text[]) AS a"
            ") AS buckets ORDER BY bucket",
            [LOCK_BUCKETS, accounts],
        )
        cursor.execute(
            """
            SELECT DISTINCT ON (account) account, sequence, entry_hash
            FROM registry_ledgerentry WHERE account = ANY(%s)
            ORDER BY account, sequence DESC
            """,
            [accounts],
        )
        return {row[0]: (row[1], row[2]) for row in cursor.fetchall()}


# --- verification -------------------------------------------------------------------------


@dataclass
class LedgerReport:
    entries: int = 0
    accounts: int = 0
    roots: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def verify(*, stop_at_first: bool = False) -> LedgerReport:
    """Recompute every chain, every event's balance, every certificate event, every account's
    balance against the registry's tables and every published root from the entries."""
    report = LedgerReport()
    balances: dict[str, int] = defaultdict(int)
    previous: Any = None
    # Plain rows (named tuples) rather than model instances: half the time of a full pass.
    rows = LedgerEntry.objects.order_by("account", "sequence").values_list(*_ROW_FIELDS, named=True)
    for entry in rows.iterator(chunk_size=5000):
        report.entries += 1
        if previous is None or previous.account != entry.account:
            report.accounts += 1
            expected_sequence, expected_prev = 1, hashing.GENESIS
        else:
            expected_sequence, expected_prev = previous.sequence + 1, previous.entry_hash
        problem = _entry_problem(entry, expected_sequence, expected_prev)
        if problem:
            report.problems.append(problem)
            if stop_at_first:
                return report
        balances[entry.account] += entry.delta
        previous = entry
    report.problems.extend(_event_problems())
    report.problems.extend(_certificate_problems())
    if sum(balances.values()) != 0:
        report.problems.append(
            f"the ledger does not balance: accounts sum to {sum(balances.values())}"
        )
    report.problems.extend(_balance_problems(balances))
    report.problems.extend(_root_problems(report))
    return report


_ROW_FIELDS = ("id", *_COPY_COLUMNS)


def _entry_problem(entry: Any, sequence: int, prev_hash: str) -> str | None:
    where = f"entry {entry.id} ({entry.account} #{entry.sequence}, {entry.kind})"
    if entry.sequence != sequence:
        return f"{where}: sequence {entry.sequence} where {sequence} was expected (an entry is missing or reordered)"
    if entry.prev_hash != prev_hash:
        return f"{where}: does not chain to the account's previous entry (an entry was changed, removed or reordered)"
    if hashing.entry_hash(hashed_fields(entry)) != entry.entry_hash:
        return f"{where}: its hash does not match its content (the entry was changed)"
    return None


def _event_problems() -> list[str]:
    """Every event's entries sum to zero. The chains cannot show an entry removed from the end of
    an account, or one appended with a correct hash; the other legs of its event can."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT kind, reference, SUM(delta), array_agg(id ORDER BY id)
            FROM registry_ledgerentry
            GROUP BY kind, reference HAVING SUM(delta) <> 0
            ORDER BY MIN(id)
            """
        )
        return [
            f"event {kind} {reference or '(no reference)'}: entries "
            f"{', '.join(str(i) for i in ids)} sum to {total:+d}, not 0 "
            "(an entry of the event was removed, changed or forged)"
            for kind, reference, total, ids in (
                (k, r, int(t), i) for k, r, t, i in cursor.fetchall()
            )
        ]


def _certificate_problems() -> list[str]:
    """Certificate events move no units, so balances cannot miss them: every certificate and
    withdrawal has its entry, and every certificate entry its row."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT 'certificate ' || c.code || ' (version ' || c.version || ') has no '
                   || e.kind || ' entry in the ledger'
            FROM registry_certificate c
            CROSS JOIN (VALUES ('certificate.issued'), ('certificate.withdrawn')) AS e(kind)
            WHERE (e.kind = 'certificate.issued' OR EXISTS (
                       SELECT 1 FROM registry_certificatewithdrawal w
                       WHERE w.certificate_id = c.id))
              AND NOT EXISTS (SELECT 1 FROM registry_ledgerentry l
                              WHERE l.reference = 'certificate:' || c.code AND l.kind = e.kind)
            UNION ALL
            SELECT 'entry ' || l.id || ' (' || l.account || ' #' || l.sequence || ', ' || l.kind
                   || '): ' || l.reference || ' was not ' || CASE l.kind
                       WHEN 'certificate.issued' THEN 'issued' ELSE 'withdrawn' END
            FROM registry_ledgerentry l
            WHERE l.kind IN ('certificate.issued', 'certificate.withdrawn')
              AND NOT EXISTS (
                  SELECT 1 FROM registry_certificate c
                  LEFT JOIN registry_certificatewithdrawal w ON w.certificate_id = c.id
                  WHERE l.reference = 'certificate:' || c.code
                    AND (l.kind = 'certificate.issued' OR w.id IS NOT NULL))
            """
        )
        return [row[0] for row in cursor.fetchall()]


def table_balances() -> dict[str, int]:
    """What every account should hold, computed from the registry's tables alone: free and
    reserved units as the allocator sees them (`supply`), allocated and cancelled units summed."""
    expected: dict[str, int] = {
        batch_account(pk): 0 for pk in IssuanceBatch.objects.values_list("pk", flat=True)
    }
    for stretch in supply.free_stretches():
        expected[batch_account(stretch.batch_id)] += stretch.size
    for stretches in supply.reserved_stretches().values():
        for stretch in stretches:
            account = reservation_account(stretch.reservation_id or 0)
            expected[account] = expected.get(account, 0) + stretch.size
    statements = [
        "SELECT 'supply', -COALESCE(SUM(quantity), 0) FROM registry_issuancebatch",
        """
        SELECT 'registration:' || registration_id, SUM(quantity) FROM registry_allocation
        WHERE revoked_at IS NULL GROUP BY registration_id
        """,
        "SELECT 'cancelled:' || batch_id, SUM(quantity) FROM registry_cancellation GROUP BY batch_id",
    ]
    with connection.cursor() as cursor:
        for sql in statements:
            cursor.execute(sql)
            expected.update((account, int(value)) for account, value in cursor.fetchall())
    return expected


def _balance_problems(balances: dict[str, int]) -> list[str]:
    expected = table_balances()
    problems = []
    for account in sorted(set(balances) | set(expected)):
        have, want = balances.get(account, 0), expected.get(account, 0)
        if have != want:
            problems.append(
                f"account {account}: the ledger says {have} units, the registry holds {want}"
            )
    return problems


def _root_problems(report: LedgerReport) -> list[str]:
    problems = []
    for root in LedgerRoot.objects.order_by("day"):
        report.roots += 1
        hashes = day_entry_hashes(root.day)
        if len(hashes) != root.entries or not hashes:
            problems.append(
                f"ledger root of {root.day}: published over {root.entries} entries, "
                f"{len(hashes)} are there now"
            )
        elif hashing.merkle_root(hashes) != root.root:
            problems.append(
                f"ledger root of {root.day}: the day's entries no longer give the published root"
            )
    return problems


# --- daily Merkle roots -------------------------------------------------------------------


def _day_bounds(day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    start = dt.datetime.combine(day, dt.time.min, tzinfo=dt.UTC)
    return start, start + dt.timedelta(days=1)


def day_entries(day: dt.date) -> list[tuple[int, str]]:
    start, end = _day_bounds(day)
    return list(
        LedgerEntry.objects.filter(recorded_at__gte=start, recorded_at__lt=end)
        .order_by("id")
        .values_list("id", "entry_hash")
    )


def day_entry_hashes(day: dt.date) -> list[str]:
    return [h for _, h in day_entries(day)]


def inclusion_proof(entry: LedgerEntry) -> dict[str, Any] | None:
    """The entry's path to its day's published root, or None while the day is unpublished."""
    day = entry.recorded_at.astimezone(dt.UTC).date()
    root = LedgerRoot.objects.filter(day=day).first()
    if root is None:
        return None
    entries = day_entries(day)
    index = next(i for i, (pk, _) in enumerate(entries) if pk == entry.pk)
    return {
        "day": day.isoformat(),
        "root": root.root,
        "leaf_index": index,
        "leaves": len(entries),
        "proof": hashing.merkle_proof([h for _, h in entries], index),
    }
