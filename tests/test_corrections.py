"""Corrections: cancelled units, revoked allocations, withdrawn and superseded certificates.

Nothing is rewritten: a cancellation is a new row, a revoked allocation keeps its row with a stamp
and a Revocation saying why, what it kept is granted again as child ranges, a withdrawn
certificate keeps its row and is superseded by a new version.
"""

from __future__ import annotations

import pytest
from django.db import IntegrityError, connection, transaction

import registry_invariants
from factories import World, issue, make_partner, register
from oneforone.core.models import AuditEvent
from oneforone.partners.models import Registration
from oneforone.registry import actions as registry_actions
from oneforone.registry.models import (
    Allocation,
    Cancellation,
    Certificate,
    IssuanceBatch,
    LedgerEntry,
    Reservation,
    Revocation,
)


def allocate(world: World, **kwargs: object) -> registry_actions.AllocationResult:
    return registry_actions.allocate(actor=world.operator_user, **kwargs)  # type: ignore[arg-type]


def cancel(
    world: World, batch: IssuanceBatch, first: int, last: int, **kwargs: str
) -> registry_actions.CancellationResult:
    arguments = {"reason": "count_corrected", "explanation": "the recycler recounted"}
    arguments.update(kwargs)
    return registry_actions.cancel_units(
        actor=world.operator_user, batch=batch, first=first, last=last, **arguments
    )


def reserve(world: World, label: str, quantity: int, **kwargs: object) -> list[Reservation]:
    arguments: dict[str, object] = {"partner": world.partner}
    arguments.update(kwargs)
    return registry_actions.reserve_units(
        actor=world.operator_user,
        label=label,
        quantity=quantity,
        **arguments,  # type: ignore[arg-type]
    )


def ranges(rows: object) -> list[tuple[int, int]]:
    return sorted((r.units.lower, r.units.upper) for r in rows)  # type: ignore[attr-defined]


def active_reservations(label: str) -> list[Reservation]:
    return list(Reservation.objects.filter(label=label, released_at__isnull=True))


def assert_sound() -> None:
    assert registry_invariants.problems() == []


def insert_allocation(
    registration_id: int, batch_id: int, lower: int, upper: int, reservation_id: int | None = None
) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO registry_allocation (registration_id, batch_id, units, allocated_at,
                allocated_by_id, reservation_id)
            SELECT %s, %s, int8range(%s, %s), now(), (SELECT id FROM accounts_user LIMIT 1), %s
            """,
            [registration_id, batch_id, lower, upper, reservation_id],
        )


def insert_cancellation(batch_id: int, lower: int, upper: int) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO registry_cancellation (batch_id, units, reason, explanation, cancelled_at,
                cancelled_by_id)
            SELECT %s, int8range(%s, %s), 'fraud', 'by hand', now(),
                   (SELECT id FROM accounts_user LIMIT 1)
            """,
            [batch_id, lower, upper],
        )


def insert_reservation(partner_id: int, batch_id: int, lower: int, upper: int) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO registry_reservation (partner_id, label, batch_id, units, reserved_at,
                reserved_by_id)
            SELECT %s, 'by hand', %s, int8range(%s, %s), now(),
                   (SELECT id FROM accounts_user LIMIT 1)
            """,
            [partner_id, batch_id, lower, upper],
        )


# Free units ---------------------------------------------------------------------------------


def test_cancelling_free_units_takes_them_out_of_supply(world: World) -> None:
    batch = issue(world, 10)
    first = batch.units.lower

    result = cancel(world, batch, first + 2, first + 4, reason="fraud", explanation="ghost phones")

    assert ranges([result.cancellation]) == [(first + 2, first + 5)]
    assert result.cancellation.quantity == 3
    assert result.cancellation.reason == "fraud"
    assert result.revoked == []
    assert result.withdrawn == []
    assert result.reallocated.allocations == []
    [entry_out, entry_in] = LedgerEntry.objects.filter(kind="cancel").order_by("id")
    assert (entry_out.account, entry_out.delta) == (f"batch:{batch.pk}", -3)
    assert (entry_in.account, entry_in.delta) == (f"cancelled:{batch.pk}", 3)
    assert AuditEvent.objects.filter(code="registry.units.cancelled").count() == 1

    registration = register(world, quantity=10)
    assert allocate(world).units == 7
    assert registry_invariants.active_units(registration) == [
        (first, first + 2),
        (first + 5, first + 10),
    ]
    assert_sound()


def test_cancellation_is_refused_when_it_is_not_well_formed(world: World) -> None:
    batch = issue(world, 10)
    first, last = batch.units.lower, batch.units.upper - 1

    for arguments, message in [
        ({"reason": "because"}, "unknown reason"),
        ({"explanation": "  "}, "explain the cancellation"),
        ({"first": first - 1, "last": first}, "not all in batch"),
        ({"first": last, "last": last + 1}, "not all in batch"),
        ({"first": first + 3, "last": first + 2}, "not all in batch"),
    ]:
        call = {"first": first, "last": first, **arguments}
        with pytest.raises(registry_actions.CancellationRefused, match=message):
            cancel(world, batch, **call)  # type: ignore[arg-type]
    assert not Cancellation.objects.exists()


def test_units_cannot_be_cancelled_twice(world: World) -> None:
    batch = issue(world, 10)
    first = batch.units.lower
    cancel(world, batch, first + 2, first + 4)

    for lower, upper in [(first + 2, first + 4), (first + 4, first + 6), (first, first + 9)]:
        with pytest.raises(registry_actions.CancellationRefused, match="cancelled already"):
            cancel(world, batch, lower, upper)

    cancel(world, batch, first + 5, first + 5)  # the next unit is still there to cancel
    assert Cancellation.objects.count() == 2
    assert_sound()


def test_cancelled_units_are_never_allocated_or_reserved_again(world: World) -> None:
    batch = issue(world, 10)
    cancel(world, batch, batch.units.lower, batch.units.upper - 1)
    registration = register(world, quantity=4)

    assert allocate(world).allocations == []
    with pytest.raises(registry_actions.ReservationRefused, match="only 0 units are free"):
        reserve(world, "T-1", 1)
    with pytest.raises(registry_actions.ReservationRefused, match="no units are free"):
        reserve(world, "T-1", 1, accept_fewer=True)

    other = issue(world, 3)
    allocate(world)
    assert registry_invariants.active_units(registration) == [
        (other.units.lower, other.units.upper)
    ]
    assert_sound()


# Units inside an allocation -----------------------------------------------------------------


def test_cancelling_allocated_units_revokes_regrants_withdraws_and_reallocates(
    world: World,
) -> None:
    registration = register(world, quantity=6)
    batch = issue(world, 10)
    first = batch.units.lower
    [original] = allocate(world).allocations
    version_1 = Certificate.objects.get(registration=registration)
    assert ranges([original]) == [(first, first + 6)]

    result = cancel(world, batch, first + 2, first + 3, explanation="two phones were counted twice")

    # The allocation is revoked, with a revocation that says why and names the cancellation.
    original = Allocation.history.get(pk=original.pk)
    assert original.revoked_at is not None
    assert result.revoked == [original]
    revocation = Revocation.objects.get(allocation=original)
    assert revocation.cancellation == result.cancellation
    assert revocation.reason == "two phones were counted twice"
    assert not Allocation.objects.filter(pk=original.pk).exists()  # `objects` sees active only
    # What it kept is granted again to the same registration, as children of the revoked range.
    children = Allocation.objects.filter(parent=original)
    assert ranges(children) == [(first, first + 2), (first + 4, first + 6)]
    assert {c.registration_id for c in children} == {registration.pk}
    # The certificate is withdrawn, with the reason, and version 2 supersedes it at once, made
    # from the oldest free units.
    assert result.withdrawn == [version_1]
    withdrawal = Certificate.objects.get(pk=version_1.pk).withdrawal
    assert "were cancelled: two phones were counted twice" in withdrawal.reason
    assert batch.block_of(first + 2, first + 4) in withdrawal.reason
    [version_2] = result.reallocated.certificates
    assert (version_2.version, version_2.supersedes) == (2, version_1)
    assert version_2.snapshot["supersedes"] == version_1.code
    assert ranges(result.reallocated.allocations) == [(first + 6, first + 8)]
    assert registry_invariants.active_units(registration) == [
        (first, first + 2),
        (first + 4, first + 6),
        (first + 6, first + 8),
    ]
    assert len(version_2.snapshot["unit_blocks"]) == 3
    registration.refresh_from_db()
    assert registration.current_certificate() == version_2
    assert_sound()


def test_reallocation_after_a_cancellation_draws_on_other_batches(world: World) -> None:
    registration = register(world, quantity=5)
    batch = issue(world, 5)
    allocate(world)
    other = issue(world, 4)

    result = cancel(world, batch, batch.units.lower, batch.units.upper - 1)

    assert [c.version for c in result.reallocated.certificates] == []  # 4 of 5 units only
    assert registry_invariants.active_units(registration) == [
        (other.units.lower, other.units.upper)
    ]
    assert Allocation.objects.filter(parent__isnull=False).count() == 0  # nothing was kept
    assert_sound()


def test_without_other_supply_the_registration_waits_and_a_later_allocation_issues_version_2(
    world: World,
) -> None:
    registration = register(world, quantity=6)
    batch = issue(world, 6)
    first = batch.units.lower
    allocate(world)
    [version_1] = Certificate.objects.all()

    result = cancel(world, batch, first + 4, first + 5)

    assert result.withdrawn == [version_1]
    assert result.reallocated.allocations == []
    registration = Registration.objects.get(pk=registration.pk)
    assert registration.current_certificate() is None
    assert registry_invariants.active_units(registration) == [(first, first + 4)]
    assert_sound()

    later = issue(world, 3)
    [version_2] = allocate(world).certificates

    assert (version_2.registration_id, version_2.version) == (registration.pk, 2)
    assert version_2.supersedes == version_1
    assert registry_invariants.active_units(registration) == [
        (first, first + 4),
        (later.units.lower, later.units.lower + 2),
    ]
    assert_sound()


def test_cancellation_touching_two_registrations_and_free_units(world: World) -> None:
    a = register(world, quantity=3)
    b = register(world, quantity=3)
    batch = issue(world, 10)
    first = batch.units.lower
    allocate(world)  # a: [1, 4), b: [4, 7), free: [7, 11)

    result = cancel(world, batch, first + 2, first + 7)  # 2 of a, 3 of b, 1 free

    assert {r.registration_id for r in result.revoked} == {a.pk, b.pk}
    assert len(result.withdrawn) == 2
    assert result.cancellation.quantity == 6
    # a is older: it is made whole first, b gets what is left.
    assert registry_invariants.active_units(a) == [(first, first + 2), (first + 8, first + 9)]
    assert registry_invariants.active_units(b) == [(first + 9, first + 10)]
    assert [c.registration_id for c in result.reallocated.certificates] == [a.pk]
    assert_sound()


# Units inside a reservation -----------------------------------------------------------------


def test_cancelling_reserved_units_remakes_the_block_without_them(world: World) -> None:
    batch = issue(world, 20)
    first = batch.units.lower
    [block] = reserve(world, "TENDER-1", 10)

    cancel(world, batch, first + 3, first + 5)

    block.refresh_from_db()
    assert block.released_at is not None
    children = active_reservations("TENDER-1")
    assert ranges(children) == [(first, first + 3), (first + 6, first + 10)]
    assert {(c.parent_id, c.partner_id) for c in children} == {(block.pk, world.partner.pk)}
    entry = LedgerEntry.objects.get(kind="cancel.reservation", account=f"cancelled:{batch.pk}")
    assert entry.delta == 3
    assert_sound()

    # The re-made blocks still serve the partner first; nothing else was cancelled.
    registration = register(world, quantity=9)
    allocate(world)
    assert registry_invariants.active_units(registration) == [
        (first, first + 3),
        (first + 6, first + 10),
        (first + 10, first + 12),
    ]
    assert_sound()


def test_cancelling_a_whole_reserved_block_leaves_no_child(world: World) -> None:
    batch = issue(world, 10)
    first = batch.units.lower
    reserve(world, "TENDER-1", 4)

    cancel(world, batch, first, first + 5)

    assert active_reservations("TENDER-1") == []
    assert Cancellation.objects.get().quantity == 6
    assert_sound()


def test_cancelling_across_an_allocation_inside_a_reservation(world: World) -> None:
    """The cut takes the end of an allocation drawn from the block and reserved units after it."""
    batch = issue(world, 20)
    first = batch.units.lower
    reserve(world, "TENDER-1", 10)
    registration = register(world, quantity=5)
    [allocation] = allocate(world).allocations
    assert ranges([allocation]) == [(first, first + 5)]

    cancel(world, batch, first + 3, first + 7)

    blocks = active_reservations("TENDER-1")
    assert ranges(blocks) == [(first, first + 3), (first + 8, first + 10)]
    [kept] = Allocation.objects.filter(parent=allocation)
    assert ranges([kept]) == [(first, first + 3)]
    assert kept.reservation == next(b for b in blocks if b.units.lower == first)
    # Made whole again from the partner's reserved units first.
    assert registry_invariants.active_units(registration) == [
        (first, first + 3),
        (first + 8, first + 10),
    ]
    assert_sound()


def test_a_block_remade_twice_keeps_allocations_drawn_from_its_ancestor(world: World) -> None:
    batch = issue(world, 20)
    first = batch.units.lower
    reserve(world, "TENDER-1", 20)
    registration = register(world, quantity=5)
    [allocation] = allocate(world).allocations

    cancel(world, batch, first + 15, first + 15)  # the block is re-made: the allocation keeps
    assert Allocation.objects.get().reservation_id == allocation.reservation_id  # its old link
    cancel(world, batch, first + 8, first + 8)  # ... and re-made again around the allocation
    assert_sound()

    cancel(world, batch, first + 2, first + 2)  # now a cut through the allocation itself

    kept = Allocation.objects.filter(parent=allocation)
    assert ranges(kept) == [(first, first + 2), (first + 3, first + 5)]
    holders = {
        k.pk: Reservation.objects.get(released_at__isnull=True, units__contains=k.units)
        for k in kept
    }
    assert {k.reservation_id for k in kept} == {h.pk for h in holders.values()}
    # The unit it lost comes back from the quota (whichever re-made block is oldest).
    [(lower, upper)] = [
        u for u in registry_invariants.active_units(registration) if u[0] >= first + 5
    ]
    assert upper == lower + 1
    assert Reservation.objects.filter(label="TENDER-1", units__contains=lower).exists()
    assert_sound()


def test_release_after_a_cancellation_returns_the_remade_blocks(world: World) -> None:
    batch = issue(world, 20)
    first = batch.units.lower
    reserve(world, "TENDER-1", 10)
    register(world, quantity=2)
    allocate(world)
    cancel(world, batch, first + 5, first + 5)

    released = registry_actions.release_reservation(
        actor=world.operator_user, partner=world.partner, label="TENDER-1", reason="tender lost"
    )

    assert released == 10 - 2 - 1
    assert active_reservations("TENDER-1") == []
    assert_sound()


# What the database refuses ------------------------------------------------------------------


def test_database_refuses_a_cancellation_over_active_allocations_or_reservations(
    world: World,
) -> None:
    registration = register(world, quantity=3)
    batch = issue(world, 10)
    first = batch.units.lower
    allocate(world)  # [first, first + 3)
    reserve(world, "TENDER-1", 3)  # [first + 3, first + 6)

    for lower, upper in [(first + 2, first + 3), (first + 5, first + 7)]:
        with (
            pytest.raises(IntegrityError, match="still allocated or reserved"),
            transaction.atomic(),
        ):
            insert_cancellation(batch.pk, lower, upper)
    with pytest.raises(IntegrityError, match="not inside its batch"), transaction.atomic():
        insert_cancellation(batch.pk, batch.units.upper - 1, batch.units.upper + 1)

    insert_cancellation(batch.pk, first + 6, first + 8)  # free units are accepted
    assert registry_invariants.active_units(registration) == [(first, first + 3)]


def test_database_refuses_allocations_and_reservations_over_cancelled_units(world: World) -> None:
    registration = register(world, quantity=3)
    batch = issue(world, 10)
    first = batch.units.lower
    cancel(world, batch, first + 2, first + 2)

    with pytest.raises(IntegrityError, match="holds cancelled units"), transaction.atomic():
        insert_allocation(registration.pk, batch.pk, first, first + 3)
    with pytest.raises(IntegrityError, match="holds cancelled units"), transaction.atomic():
        insert_reservation(world.partner.pk, batch.pk, first + 1, first + 4)

    insert_allocation(registration.pk, batch.pk, first + 3, first + 6)
    assert registry_invariants.active_units(registration) == [(first + 3, first + 6)]


def test_corrections_are_history_that_cannot_be_changed(world: World) -> None:
    register(world, quantity=2)
    batch = issue(world, 4)
    allocate(world)
    reserve(world, "TENDER-1", 1)
    result = cancel(world, batch, batch.units.lower, batch.units.lower)
    [revocation] = Revocation.objects.all()
    [withdrawn] = result.withdrawn

    with connection.cursor() as cursor:
        for sql, pk in [
            (
                "UPDATE registry_cancellation SET explanation = 'x' WHERE id = %s",
                result.cancellation.pk,
            ),
            ("DELETE FROM registry_cancellation WHERE id = %s", result.cancellation.pk),
            ("UPDATE registry_revocation SET reason = 'x' WHERE id = %s", revocation.pk),
            ("DELETE FROM registry_certificatewithdrawal WHERE certificate_id = %s", withdrawn.pk),
        ]:
            with pytest.raises(IntegrityError, match="append-only"), transaction.atomic():
                cursor.execute(sql, [pk])
        with (
            pytest.raises(IntegrityError, match="only released_at may be set"),
            transaction.atomic(),
        ):
            cursor.execute("DELETE FROM registry_reservation")


# Surplus ------------------------------------------------------------------------------------


def owe_fewer(registration: Registration, quantity: int) -> None:
    """A device claim withdrawn: the registration now owes fewer units (no action for it yet)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE partners_registration SET quantity = %s WHERE id = %s",
            [quantity, registration.pk],
        )


def release_surplus(world: World, *registrations: Registration) -> list[Allocation]:
    return registry_actions.release_surplus(
        actor=world.operator_user, registrations=list(registrations), reason="claim withdrawn"
    )


def test_release_surplus_gives_back_the_latest_units_and_issues_a_new_version(
    world: World,
) -> None:
    registration = register(world, quantity=5)
    batch = issue(world, 3)
    allocate(world)
    later = issue(world, 3)
    [version_1] = allocate(world).certificates
    owe_fewer(registration, 2)

    revoked = release_surplus(world, registration)

    # The most recent allocation goes entirely, the older one keeps two units.
    assert [(a.units.lower, a.units.upper) for a in revoked] == [
        (later.units.lower, later.units.lower + 2),
        (batch.units.lower, batch.units.upper),
    ]
    assert all(a.revocation.cancellation is None for a in revoked)
    assert registry_invariants.active_units(registration) == [
        (batch.units.lower, batch.units.lower + 2)
    ]
    registration.refresh_from_db()
    current = registration.current_certificate()
    assert (current.version, current.supersedes) == (2, version_1)
    assert current.snapshot["units"] == 2
    assert "claim withdrawn" in version_1.withdrawal.reason
    assert AuditEvent.objects.filter(code="registry.surplus.released").count() == 1
    assert_sound()

    # The units given back are free for the next registration.
    other = register(world, quantity=10)
    allocate(world)
    assert registry_invariants.active_units(other) == [
        (batch.units.lower + 2, batch.units.upper),
        (later.units.lower, later.units.upper),
    ]
    assert_sound()


def test_release_surplus_returns_reserved_units_to_the_reservation(world: World) -> None:
    batch = issue(world, 10)
    [block] = reserve(world, "TENDER-1", 6)
    registration = register(world, quantity=4)
    allocate(world)
    owe_fewer(registration, 1)

    release_surplus(world, registration)

    [kept] = Allocation.objects.filter(registration=registration)
    assert kept.reservation == block
    # The three units are the partner's again, not free supply: another partner cannot take them.
    other_partner, other_admin = make_partner()
    theirs = register(world, quantity=10, partner=other_partner, actor=other_admin)
    allocate(world, partner=other_partner)
    assert registry_invariants.active_units(theirs) == [(block.units.upper, batch.units.upper)]
    assert_sound()


def test_release_surplus_with_no_surplus_changes_nothing(world: World) -> None:
    registration = register(world, quantity=3)
    issue(world, 3)
    allocate(world)
    entries = LedgerEntry.objects.count()

    assert release_surplus(world, registration) == []

    assert LedgerEntry.objects.count() == entries
    assert not AuditEvent.objects.filter(code="registry.surplus.released").exists()
    assert Certificate.objects.get().version == 1


def test_release_surplus_of_a_partly_allocated_registration_completes_it(world: World) -> None:
    registration = register(world, quantity=5)
    issue(world, 3)
    allocate(world)
    assert not Certificate.objects.exists()
    owe_fewer(registration, 2)

    release_surplus(world, registration)

    [certificate] = Certificate.objects.all()
    assert (certificate.registration_id, certificate.version) == (registration.pk, 1)
    assert_sound()


def test_a_short_registration_that_now_owes_what_it_holds_gets_its_certificate(
    world: World,
) -> None:
    """No surplus to give back, yet the registration is compensated now."""
    registration = register(world, quantity=5)
    issue(world, 3)
    allocate(world)
    owe_fewer(registration, 3)

    assert release_surplus(world, registration) == []

    [certificate] = Certificate.objects.all()
    assert (certificate.registration_id, certificate.version) == (registration.pk, 1)
    assert certificate.snapshot["units"] == 3
    assert AuditEvent.objects.filter(code="registry.surplus.released").count() == 1
    assert_sound()
