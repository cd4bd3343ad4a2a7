"""The unit ledger: balanced events, per-account hash chains, verification that names what was
tampered with, and daily Merkle roots with inclusion proofs."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pytest
import time_machine
from django.core.management import CommandError, call_command
from django.db import IntegrityError, connection, transaction

import registry_invariants
from factories import World, issue, make_partner, register
from oneforone.accounts.models import Organisation
from oneforone.core import ledger as hashing
from oneforone.partners.models import Registration
from oneforone.registry import actions as registry_actions
from oneforone.registry import ledger
from oneforone.registry.models import (
    Certificate,
    IssuanceBatch,
    LedgerEntry,
    LedgerRoot,
    Reservation,
)

DAY = dt.date(2026, 3, 10)


def allocate(world: World, **kwargs: object) -> registry_actions.AllocationResult:
    return registry_actions.allocate(actor=world.operator_user, **kwargs)  # type: ignore[arg-type]


def reserve(
    world: World, quantity: int, label: str = "TENDER-1", partner: Organisation | None = None
) -> list[Reservation]:
    return registry_actions.reserve_units(
        actor=world.operator_user, partner=partner or world.partner, label=label, quantity=quantity
    )


def cancel(
    world: World, batch: IssuanceBatch, first: int, last: int
) -> registry_actions.CancellationResult:
    return registry_actions.cancel_units(
        actor=world.operator_user,
        batch=batch,
        first=first,
        last=last,
        reason="count_corrected",
        explanation="recounted",
    )


def written(action: Callable[[], Any]) -> list[LedgerEntry]:
    """The entries an action wrote."""
    last = LedgerEntry.objects.order_by("-id").values_list("id", flat=True).first() or 0
    action()
    return list(LedgerEntry.objects.filter(id__gt=last).order_by("id"))


def events(entries: list[LedgerEntry]) -> dict[tuple[str, str], dict[str, int]]:
    """Entries grouped by event (kind, reference): account -> delta."""
    grouped: dict[tuple[str, str], dict[str, int]] = defaultdict(dict)
    for e in entries:
        grouped[(e.kind, e.reference)][e.account] = (
            grouped[(e.kind, e.reference)].get(e.account, 0) + e.delta
        )
    return dict(grouped)


def assert_balanced(entries: list[LedgerEntry]) -> None:
    assert entries
    for key, legs in events(entries).items():
        assert sum(legs.values()) == 0, key


def owe_fewer(registration: Registration, quantity: int) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE partners_registration SET quantity = %s WHERE id = %s",
            [quantity, registration.pk],
        )


# Every event balances -----------------------------------------------------------------------


def test_every_registry_event_posts_balanced_entries(world: World) -> None:
    other_partner, other_admin = make_partner()
    batch: IssuanceBatch | None = None

    def issue_batch() -> None:
        nonlocal batch
        batch = issue(world, 20)

    entries = written(issue_batch)
    assert batch is not None
    first = batch.units.lower
    assert events(entries) == {
        ("issue", f"batch:{batch.pk}"): {"supply": -20, f"batch:{batch.pk}": 20}
    }

    registration = register(world, quantity=4)
    entries = written(lambda: allocate(world))
    assert_balanced(entries)
    [allocation] = registration.allocations.all()
    [certificate] = Certificate.objects.all()
    assert events(entries) == {
        ("allocate", f"allocation:{allocation.pk}"): {
            f"batch:{batch.pk}": -4,
            f"registration:{registration.pk}": 4,
        },
        ("certificate.issued", f"certificate:{certificate.code}"): {
            f"registration:{registration.pk}": 0
        },
    }

    blocks: list[Reservation] = []
    entries = written(lambda: blocks.extend(reserve(world, 5)))
    assert_balanced(entries)
    [block] = blocks
    assert events(entries) == {
        ("reserve", f"reservation:{block.pk}"): {
            f"batch:{batch.pk}": -5,
            f"reservation:{block.pk}": 5,
        }
    }

    theirs = register(world, quantity=3, partner=other_partner, actor=other_admin)
    mine = register(world, quantity=2)
    entries = written(lambda: allocate(world))
    assert_balanced(entries)
    assert {kind for kind, _ in events(entries)} == {"allocate", "certificate.issued"}
    assert sum(e.delta for e in entries if e.account == f"reservation:{block.pk}") == -2
    assert sum(e.delta for e in entries if e.account == f"registration:{theirs.pk}") == 3
    assert sum(e.delta for e in entries if e.account == f"registration:{mine.pk}") == 2

    entries = written(lambda: cancel(world, batch, first + 1, first + 1))  # allocated unit
    assert_balanced(entries)
    assert {kind for kind, _ in events(entries)} == {
        "revoke",
        "certificate.withdrawn",
        "allocate",
        "certificate.issued",
    }

    entries = written(lambda: cancel(world, batch, first + 8, first + 8))  # reserved unit
    assert_balanced(entries)
    assert {kind for kind, _ in events(entries)} == {"cancel.reservation"}

    entries = written(lambda: cancel(world, batch, first + 19, first + 19))  # free unit
    assert_balanced(entries)
    assert {kind for kind, _ in events(entries)} == {"cancel"}

    entries = written(
        lambda: registry_actions.release_reservation(
            actor=world.operator_user, partner=world.partner, label="TENDER-1", reason="done"
        )
    )
    assert_balanced(entries)
    assert {kind for kind, _ in events(entries)} == {"release"}
    # 5 reserved, 2 allocated to `mine`, 1 cancelled, and 1 taken by `registration` when it was
    # made whole again after the first cancellation (a partner's reservation serves it first).
    assert sum(e.delta for e in entries if e.account == f"batch:{batch.pk}") == 5 - 2 - 1 - 1

    owe_fewer(registration, 1)
    entries = written(
        lambda: registry_actions.release_surplus(
            actor=world.operator_user, registrations=[registration], reason="claim withdrawn"
        )
    )
    assert_balanced(entries)
    assert {kind for kind, _ in events(entries)} == {
        "revoke",
        "certificate.withdrawn",
        "certificate.issued",
    }

    assert registry_invariants.unbalanced_references() == []
    assert registry_invariants.broken_sequences() == []
    assert registry_invariants.problems() == []


def test_ledger_refuses_an_unbalanced_event(world: World) -> None:
    with pytest.raises(ValueError, match="does not balance"):
        ledger.record([ledger.Event("issue", [ledger.Leg("supply", -1)])])
    with pytest.raises(ValueError, match="floats"):
        ledger.record([ledger.Event("x", [ledger.Leg("supply", 0)], data={"kg": 0.5})])
    assert not LedgerEntry.objects.exists()


# A busy registry ----------------------------------------------------------------------------


@dataclass
class Busy:
    batches: list[IssuanceBatch]
    registrations: list[Registration]


def busy_registry(world: World) -> Busy:
    """Every kind of event, more than once, on several partners, batches and reservations."""
    other_partner, other_admin = make_partner()
    b1, b2 = issue(world, 30), issue(world, 20)
    reserve(world, 8)
    reserve(world, 4, label="T-OTHER", partner=other_partner)
    registry_actions.set_allocation_preference(
        actor=world.operator_user, partner=other_partner, allow_partial=False
    )
    r1 = register(world, quantity=5)
    r2 = register(world, quantity=2, category="laptop")
    r3 = register(world, quantity=30, partner=other_partner, actor=other_admin)
    r4 = register(world, quantity=7, partner=other_partner, actor=other_admin)
    allocate(world)
    cancel(world, b2, b2.units.upper - 2, b2.units.upper - 1)
    cancel(world, b1, b1.units.lower + 1, b1.units.lower + 2)
    cancel(world, b1, b1.units.lower + 6, b1.units.lower + 6)
    registry_actions.release_reservation(
        actor=world.operator_user, partner=world.partner, label="TENDER-1", reason="tender lost"
    )
    owe_fewer(r2, 1)
    registry_actions.release_surplus(
        actor=world.operator_user, registrations=[r2], reason="one laptop returned"
    )
    b3 = issue(world, 12)
    r5 = register(world, quantity=3)
    allocate(world)
    return Busy([b1, b2, b3], [r1, r2, r3, r4, r5])


@pytest.fixture
def busy(world: World) -> Iterator[Busy]:
    with time_machine.travel(dt.datetime.combine(DAY, dt.time(10), tzinfo=dt.UTC), tick=True):
        yield busy_registry(world)


def test_verify_ledger_passes_on_a_busy_registry(busy: Busy) -> None:
    out = io.StringIO()
    call_command("verify_ledger", stdout=out)

    entries = LedgerEntry.objects.count()
    accounts = LedgerEntry.objects.values("account").distinct().count()
    assert f"ledger intact: {entries} entries on {accounts} accounts" in out.getvalue()
    assert {e.kind for e in LedgerEntry.objects.all()} >= {
        "issue",
        "reserve",
        "allocate",
        "release",
        "cancel",
        "cancel.reservation",
        "revoke",
        "certificate.issued",
        "certificate.withdrawn",
    }
    assert registry_invariants.problems() == []


def test_each_account_is_one_chain_numbered_from_1(busy: Busy) -> None:
    assert registry_invariants.broken_sequences() == []
    assert registry_invariants.unbalanced_references() == []
    heads: dict[str, str] = {}
    for entry in LedgerEntry.objects.order_by("account", "sequence"):
        assert entry.prev_hash == heads.get(entry.account, hashing.GENESIS)
        assert entry.entry_hash == hashing.entry_hash(ledger.hashed_fields(entry))
        heads[entry.account] = entry.entry_hash
    # The balances the ledger arrives at are the registry's own.
    balances: dict[str, int] = defaultdict(int)
    for entry in LedgerEntry.objects.all():
        balances[entry.account] += entry.delta
    expected = ledger.table_balances()
    assert {a: n for a, n in balances.items() if n} == {a: n for a, n in expected.items() if n}


def test_ledger_entries_cannot_be_changed_or_deleted(busy: Busy) -> None:
    entry = LedgerEntry.objects.first()
    assert entry is not None
    with connection.cursor() as cursor:
        for sql in [
            "UPDATE registry_ledgerentry SET delta = delta + 1 WHERE id = %s",
            "DELETE FROM registry_ledgerentry WHERE id = %s",
        ]:
            with pytest.raises(IntegrityError, match="append-only"), transaction.atomic():
                cursor.execute(sql, [entry.pk])


# Tampering ----------------------------------------------------------------------------------


@contextmanager
def triggers_disabled() -> Iterator[None]:
    """What someone with the database's superuser password can do: bypass the append-only
    triggers (and foreign keys)."""
    with connection.cursor() as cursor:
        cursor.execute("SET session_replication_role = replica")
        try:
            yield
        finally:
            cursor.execute("RESET session_replication_role")


def execute(sql: str, params: list[Any]) -> None:
    with triggers_disabled(), connection.cursor() as cursor:
        cursor.execute(sql, params)


def chain(account: str) -> list[LedgerEntry]:
    return list(LedgerEntry.objects.filter(account=account).order_by("sequence"))


def where(entry: LedgerEntry, sequence: int | None = None) -> str:
    return f"entry {entry.pk} ({entry.account} #{sequence or entry.sequence}, {entry.kind})"


def busy_account(busy: Busy) -> list[LedgerEntry]:
    entries = chain(f"batch:{busy.batches[0].pk}")
    assert len(entries) >= 5
    return entries


def change(column_sql: str) -> Callable[[Busy], str]:
    def tamper(busy: Busy) -> str:
        target = busy_account(busy)[2]
        execute(f"UPDATE registry_ledgerentry SET {column_sql} WHERE id = %s", [target.pk])
        return f"{where(target)}: its hash does not match its content (the entry was changed)"

    return tamper


def delete_middle(busy: Busy) -> str:
    entries = busy_account(busy)
    target, following = entries[2], entries[3]
    execute("DELETE FROM registry_ledgerentry WHERE id = %s", [target.pk])
    return f"{where(following)}: sequence {following.sequence} where {target.sequence} was expected"


def delete_last_move(busy: Busy) -> str:
    target = busy_account(busy)[-1]
    assert target.delta != 0
    others = LedgerEntry.objects.filter(kind=target.kind, reference=target.reference).exclude(
        pk=target.pk
    )
    execute("DELETE FROM registry_ledgerentry WHERE id = %s", [target.pk])
    ids = ", ".join(str(e.pk) for e in others.order_by("id"))
    return f"event {target.kind} {target.reference}: entries {ids} sum to {-target.delta:+d}, not 0"


def delete_last_certificate_entry(busy: Busy) -> str:
    registration = busy.registrations[-1]
    target = chain(f"registration:{registration.pk}")[-1]
    assert (target.kind, target.delta) == ("certificate.issued", 0)
    certificate = Certificate.objects.get(code=target.data["code"])
    execute("DELETE FROM registry_ledgerentry WHERE id = %s", [target.pk])
    return (
        f"certificate {certificate.code} (version {certificate.version}) has no "
        "certificate.issued entry in the ledger"
    )


def swap_sequences(busy: Busy) -> str:
    entries = busy_account(busy)
    a, b = entries[1], entries[2]
    execute("UPDATE registry_ledgerentry SET sequence = 999999 WHERE id = %s", [b.pk])
    execute("UPDATE registry_ledgerentry SET sequence = %s WHERE id = %s", [b.sequence, a.pk])
    execute("UPDATE registry_ledgerentry SET sequence = %s WHERE id = %s", [a.sequence, b.pk])
    return f"{where(b, a.sequence)}: does not chain to the account's previous entry"


def forge(busy: Busy, *, rechain: bool) -> LedgerEntry:
    """Append an entry to a registration's account: one more unit, from nowhere."""
    registration = busy.registrations[0]
    head = chain(f"registration:{registration.pk}")[-1]
    entry = LedgerEntry(
        account=head.account,
        sequence=head.sequence + 1,
        kind="allocate",
        delta=1,
        batch_id=head.batch_id,
        reference="allocation:999999",
        data={},
        recorded_at=head.recorded_at,
        prev_hash=head.entry_hash,
    )
    entry.entry_hash = (
        hashing.entry_hash(ledger.hashed_fields(entry)) if rechain else "f" * 64
    )  # no trigger refuses an INSERT: only the verification can tell
    entry.save()
    return entry


def forge_naive(busy: Busy) -> str:
    entry = forge(busy, rechain=False)
    return f"{where(entry)}: its hash does not match its content"


def forge_chained(busy: Busy) -> str:
    entry = forge(busy, rechain=True)
    return f"event allocate allocation:999999: entries {entry.pk} sum to +1, not 0"


TAMPERING = {
    "delta changed": change("delta = delta + 1"),
    "data changed": change("""data = data || '{"note": "forged"}'::jsonb"""),
    "units changed": change("units = int8range(lower(units), upper(units) + 1)"),
    "recorded_at changed": change("recorded_at = recorded_at - interval '1 second'"),
    "middle entry deleted": delete_middle,
    "last entry of an account deleted": delete_last_move,
    "last certificate entry deleted": delete_last_certificate_entry,
    "sequences swapped": swap_sequences,
    "entry forged without its hash": forge_naive,
    "entry forged and chained": forge_chained,
}


@pytest.mark.parametrize("tamper", TAMPERING.values(), ids=TAMPERING.keys())
def test_verify_ledger_names_the_tampered_entry(busy: Busy, tamper: Callable[[Busy], str]) -> None:
    call_command("verify_ledger", stdout=io.StringIO())

    expected = tamper(busy)

    with pytest.raises(CommandError) as raised:
        call_command("verify_ledger", stdout=io.StringIO())
    assert expected in str(raised.value)
    everything = ledger.verify()
    assert expected in everything.problems[0]


def test_verify_ledger_all_lists_every_problem(busy: Busy) -> None:
    change("delta = delta + 1")(busy)
    delete_last_certificate_entry(busy)
    stderr = io.StringIO()

    with pytest.raises(CommandError, match="its hash does not match"):
        call_command("verify_ledger", "--all", stdout=io.StringIO(), stderr=stderr)

    assert "has no certificate.issued entry" in stderr.getvalue()
    assert "the ledger says" in stderr.getvalue()  # the changed delta breaks a balance too


# Daily roots --------------------------------------------------------------------------------


def next_day(hours: int = 2) -> time_machine.travel:
    return time_machine.travel(
        dt.datetime.combine(DAY + dt.timedelta(days=1), dt.time(hours), tzinfo=dt.UTC), tick=True
    )


def publish(world: World) -> list[LedgerRoot]:
    return registry_actions.publish_ledger_roots(actor=world.operator_user)


def test_a_day_is_published_once_it_is_over(world: World, busy: Busy) -> None:
    with time_machine.travel(
        dt.datetime.combine(DAY + dt.timedelta(days=1), dt.time(0, 30), tzinfo=dt.UTC)
    ):
        assert publish(world) == []  # within the hour of grace

    with next_day():
        [root] = publish(world)
        assert publish(world) == []

    hashes = list(LedgerEntry.objects.order_by("id").values_list("entry_hash", flat=True))
    assert root.day == DAY
    assert root.entries == len(hashes)
    assert root.root == hashing.merkle_root(hashes)
    assert (root.first_entry, root.last_entry) == (
        LedgerEntry.objects.order_by("id").first().pk,  # type: ignore[union-attr]
        LedgerEntry.objects.order_by("id").last().pk,  # type: ignore[union-attr]
    )
    out = io.StringIO()
    call_command("verify_ledger", stdout=out)
    assert "1 published daily roots recomputed" in out.getvalue()


def test_the_command_publishes_and_then_has_nothing_to_publish(world: World, busy: Busy) -> None:
    with next_day():
        out = io.StringIO()
        call_command("publish_ledger_roots", actor=world.operator_user.username, stdout=out)
        assert f"{DAY}: {LedgerEntry.objects.count()} entries, root " in out.getvalue()
        out = io.StringIO()
        call_command("publish_ledger_roots", actor=world.operator_user.username, stdout=out)
        assert "nothing to publish" in out.getvalue()
        with pytest.raises(CommandError, match="not operator staff"):
            call_command("publish_ledger_roots", actor=world.partner_admin.username)


def test_later_days_get_their_own_roots(world: World, busy: Busy) -> None:
    with next_day(hours=5):
        publish(world)
        registration = register(world, quantity=1)
        allocate(world)
    with time_machine.travel(
        dt.datetime.combine(DAY + dt.timedelta(days=3), dt.time(9), tzinfo=dt.UTC)
    ):
        [root] = publish(world)

    assert root.day == DAY + dt.timedelta(days=1)
    entries = LedgerEntry.objects.filter(account=f"registration:{registration.pk}")
    assert root.entries == entries.count() + 1  # its allocation's other leg is on a batch
    assert LedgerRoot.objects.count() == 2
    call_command("verify_ledger", stdout=io.StringIO())


def test_an_inclusion_proof_leads_from_the_entry_to_the_published_root(
    world: World, busy: Busy
) -> None:
    entry = LedgerEntry.objects.order_by("id")[7]
    assert ledger.inclusion_proof(entry) is None  # the day is not over

    with next_day():
        [root] = publish(world)

    for entry in LedgerEntry.objects.order_by("id"):
        proof = ledger.inclusion_proof(entry)
        assert proof is not None
        assert proof["root"] == root.root
        assert proof["leaves"] == root.entries
        assert hashing.root_from_proof(entry.entry_hash, proof["proof"]) == root.root
        assert hashing.root_from_proof("0" * 64, proof["proof"]) != root.root


def test_rewriting_a_published_day_is_reported_even_with_every_hash_recomputed(
    world: World, busy: Busy
) -> None:
    with next_day():
        [root] = publish(world)
    entries = busy_account(busy)

    # A careful forger changes an entry's data and recomputes its hash and every later hash of
    # its account: the chains and balances hold, the published root does not.
    previous = entries[1].entry_hash
    with triggers_disabled():
        for i, entry in enumerate(entries[2:]):
            if i == 0:
                entry.data = {**entry.data, "note": "forged"}
            entry.prev_hash = previous
            entry.entry_hash = hashing.entry_hash(ledger.hashed_fields(entry))
            LedgerEntry.objects.filter(pk=entry.pk).update(
                data=entry.data, prev_hash=entry.prev_hash, entry_hash=entry.entry_hash
            )
            previous = entry.entry_hash

    with pytest.raises(CommandError) as raised:
        call_command("verify_ledger", stdout=io.StringIO())
    assert str(raised.value) == (
        f"ledger root of {root.day}: the day's entries no longer give the published root"
    )


def test_removing_an_entry_of_a_published_day_is_reported(world: World, busy: Busy) -> None:
    with next_day():
        [root] = publish(world)
    delete_last_move(busy)

    report = ledger.verify()

    assert (
        f"ledger root of {root.day}: published over {root.entries} entries, "
        f"{root.entries - 1} are there now"
    ) in report.problems


def test_published_roots_cannot_be_changed(world: World, busy: Busy) -> None:
    with next_day():
        [root] = publish(world)
    with pytest.raises(IntegrityError, match="append-only"), transaction.atomic():
        LedgerRoot.objects.filter(pk=root.pk).update(root="0" * 64)


# Merkle trees -------------------------------------------------------------------------------


def leaves(n: int) -> list[str]:
    return [hashing.sha256_hex(f"entry {i}") for i in range(n)]


@pytest.mark.parametrize("n", range(1, 18))
def test_every_leaf_has_a_proof_of_its_root(n: int) -> None:
    hashes = leaves(n)
    root = hashing.merkle_root(hashes)

    for index, leaf in enumerate(hashes):
        proof = hashing.merkle_proof(hashes, index)
        assert len(proof) <= max(1, (n - 1).bit_length())
        assert hashing.root_from_proof(leaf, proof) == root
        other = hashes[(index + 1) % n]
        if n > 1:
            assert hashing.root_from_proof(other, proof) != root  # another leaf, same path
        for step in range(len(proof)):
            wrong_sibling = [dict(s) for s in proof]
            wrong_sibling[step]["hash"] = hashing.sha256_hex("not the sibling")
            assert hashing.root_from_proof(leaf, wrong_sibling) != root
            wrong_side = [dict(s) for s in proof]
            wrong_side[step]["side"] = "left" if proof[step]["side"] == "right" else "right"
            assert hashing.root_from_proof(leaf, wrong_side) != root
        if proof:
            assert hashing.root_from_proof(leaf, proof[:-1]) != root  # a step left out


def test_merkle_root_of_one_leaf_and_of_none() -> None:
    [leaf] = leaves(1)
    assert hashing.merkle_root([leaf]) == hashlib.sha256(b"\x00" + bytes.fromhex(leaf)).hexdigest()
    assert hashing.merkle_proof([leaf], 0) == []
    with pytest.raises(ValueError, match="at least one leaf"):
        hashing.merkle_root([])


@pytest.mark.parametrize("n", range(1, 18))
def test_the_root_changes_with_any_leaf_its_order_or_its_count(n: int) -> None:
    hashes = leaves(n)
    root = hashing.merkle_root(hashes)
    for index in range(n):
        changed = list(hashes)
        changed[index] = hashing.sha256_hex("forged")
        assert hashing.merkle_root(changed) != root
    if n > 1:
        assert hashing.merkle_root(hashes[::-1]) != root
        assert hashing.merkle_root(hashes[:-1]) != root
    assert hashing.merkle_root([*hashes, hashes[-1]]) != root  # no duplicated-last-leaf twin
    assert hashing.merkle_root([*hashes, hashing.sha256_hex("more")]) != root


def test_a_leaf_cannot_pose_as_an_inner_node() -> None:
    a, b, c, d = leaves(4)
    root = hashing.merkle_root([a, b, c, d])
    # The inner node over (a, b) is a valid 32-byte value; offered as a leaf it does not fit.
    inner = hashing._node(hashing._leaf(a), hashing._leaf(b)).hex()
    proof = hashing.merkle_proof([a, b, c, d], 0)[1:]
    assert hashing.root_from_proof(inner, proof) != root
