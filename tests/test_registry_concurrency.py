"""Allocators, cancellations, reservations, releases and issuance at the same moment, each on its
own connection: afterwards every invariant holds and the ledger verifies."""

from __future__ import annotations

import io
import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.core.management import call_command
from django.db import connection

import registry_invariants
from factories import World, ensure_categories, issue, make_partner, make_world, race, register
from oneforone.accounts.models import Organisation, User
from oneforone.registry import actions as registry_actions
from oneforone.registry import certificate_pdf
from oneforone.registry.models import (
    Allocation,
    Cancellation,
    Certificate,
    CertificateDocument,
    IssuanceBatch,
)

# Refusals a racing action may meet: the race decided, and the action said so.
EXPECTED_REFUSALS = (registry_actions.ReservationRefused, registry_actions.CancellationRefused)


def one_round(world: World, other: Organisation, other_admin: User, label: str) -> None:
    actor = world.operator_user
    batch = issue(world, 24)
    older = IssuanceBatch.objects.exclude(pk=batch.pk).order_by("-id").first()
    for quantity in (3, 5, 2):
        register(world, quantity=quantity)
        register(world, quantity=quantity, partner=other, actor=other_admin)
    registry_actions.reserve_units(
        actor=actor, partner=world.partner, label=label, quantity=6, accept_fewer=True
    )
    # Cut where allocations are about to be made, in the new batch, and in an older batch that
    # is allocated already (its last units, never cut before).
    lower = batch.units.lower
    cuts = [(batch, lower + 1, lower + 4), (batch, lower + 10, lower + 12)]
    if older is not None:
        cuts.append((older, older.units.upper - 3, older.units.upper - 1))

    def cancel(cut: tuple[IssuanceBatch, int, int]) -> Callable[[], Any]:
        return lambda: registry_actions.cancel_units(
            actor=actor,
            batch=cut[0],
            first=cut[1],
            last=cut[2],
            reason="fraud",
            explanation=f"found while {label} was open",
        )

    outcomes = race(
        {
            "allocate everyone": lambda: registry_actions.allocate(actor=actor),
            "allocate one partner": lambda: registry_actions.allocate(
                actor=actor, partner=other, max_units=7
            ),
            "allocate again": lambda: registry_actions.allocate(actor=actor),
            **{f"cancel {i}": cancel(cut) for i, cut in enumerate(cuts)},
            "reserve": lambda: registry_actions.reserve_units(
                actor=actor, partner=other, label=f"{label}-other", quantity=5, accept_fewer=True
            ),
            "release": lambda: registry_actions.release_reservation(
                actor=actor, partner=world.partner, label=label, reason="closed"
            ),
            "issue": lambda: issue(world, 4),
        }
    )

    unexpected = {
        name: repr(outcome)
        for name, outcome in outcomes.items()
        if isinstance(outcome, BaseException) and not isinstance(outcome, EXPECTED_REFUSALS)
    }
    assert unexpected == {}
    # None of the cuts overlaps an earlier one: each happened, whatever it raced with.
    for i in range(len(cuts)):
        assert isinstance(outcomes[f"cancel {i}"], registry_actions.CancellationResult)
    assert registry_invariants.problems() == []


@pytest.mark.django_db(transaction=True)
def test_concurrent_registry_actions_keep_every_invariant() -> None:
    ensure_categories()
    world = make_world()
    other, other_admin = make_partner()
    rounds = 6

    for n in range(rounds):
        one_round(world, other, other_admin, label=f"T-{n}")

    assert Allocation.objects.exists()
    assert Cancellation.objects.count() == rounds * 3 - 1
    out = io.StringIO()
    call_command("verify_ledger", stdout=out)
    assert "ledger intact" in out.getvalue()


@pytest.mark.django_db(transaction=True)
def test_rendering_a_certificate_does_not_hold_up_its_withdrawal(
    settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The renderer locks the certificate, then waits for the audit chain; a cancellation that
    withdraws the certificate holds the audit chain and checks its foreign key to the
    certificate at commit. The renderer's lock must not block that check, or they deadlock."""
    settings.TASKS = {"default": {"BACKEND": "django.tasks.backends.dummy.DummyBackend"}}
    ensure_categories()
    world = make_world()
    register(world, quantity=2)
    batch = issue(world, 4)
    [certificate] = registry_actions.allocate(actor=world.operator_user).certificates
    locked, withdrawn = threading.Event(), threading.Event()

    def slow_render(certificate: Certificate) -> bytes:
        locked.set()
        assert withdrawn.wait(timeout=10), "the withdrawal waited for the renderer"
        return b"%PDF-1.4 rendered while the certificate was withdrawn"

    monkeypatch.setattr(certificate_pdf, "render_pdf", slow_render)

    def cancel() -> registry_actions.CancellationResult:
        assert locked.wait(timeout=10)
        try:
            return registry_actions.cancel_units(
                actor=world.operator_user,
                batch=batch,
                first=batch.units.lower,
                last=batch.units.lower,
                reason="fraud",
                explanation="a phone was counted twice",
            )
        finally:
            withdrawn.set()

    outcomes = race(
        {
            "render": lambda: registry_actions.render_certificate_document(
                actor=world.operator_user, certificate=certificate
            ),
            "cancel": cancel,
        }
    )

    assert isinstance(outcomes["render"], CertificateDocument), outcomes["render"]
    assert isinstance(outcomes["cancel"], registry_actions.CancellationResult), outcomes["cancel"]
    assert outcomes["cancel"].withdrawn == [certificate]
    assert registry_invariants.problems() == []


@pytest.mark.django_db(transaction=True)
def test_raw_inserts_racing_past_the_actions_are_still_decided_one_after_the_other() -> None:
    """A unit claim written straight into the tables, bypassing the actions, takes the
    allocator's lock in its trigger: a cancellation racing an allocation of the same units waits
    for it, then sees it and is refused."""
    ensure_categories()
    world = make_world()
    batch = issue(world, 10)
    registration = register(world, quantity=5)
    allocation_written = threading.Event()

    def allocate_without_committing_at_once() -> None:
        from django.db import transaction

        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO registry_allocation (registration_id, batch_id, units, allocated_at,"
                " allocated_by_id) VALUES (%s, %s, int8range(%s, %s), now(), %s)",
                [
                    registration.pk,
                    batch.pk,
                    batch.units.lower,
                    batch.units.lower + 5,
                    world.operator_user.pk,
                ],
            )
            allocation_written.set()
            threading.Event().wait(0.5)  # the cancellation is waiting on the lock meanwhile

    def cancel_the_same_units() -> None:
        allocation_written.wait(timeout=10)
        with connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO registry_cancellation (batch_id, units, reason, explanation,"
                " cancelled_at, cancelled_by_id) VALUES (%s, int8range(%s, %s), 'fraud', 'x',"
                " now(), %s)",
                [batch.pk, batch.units.lower, batch.units.lower + 1, world.operator_user.pk],
            )

    outcomes = race(
        {"allocate": allocate_without_committing_at_once, "cancel": cancel_the_same_units}
    )

    assert outcomes["allocate"] is None
    assert "still allocated or reserved" in str(outcomes["cancel"])
    assert not Cancellation.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_conflict_resolutions_racing_allocation_runs_neither_deadlock_nor_break_invariants() -> (
    None
):
    """A resolution that withdraws a compensated claim releases units (the allocator's lock)
    while an allocation run writes the ledger (the audit lock): both take the locks in one order."""
    from factories import imei
    from oneforone.partners import actions as partner_actions
    from oneforone.partners.models import Conflict

    ensure_categories()
    world = make_world()
    other, _ = make_partner()
    for round_number in range(6):
        issue(world, 6)
        identifier = imei(1000 + round_number)
        register(world, imeis=[identifier])
        registry_actions.allocate(actor=world.operator_user)
        register(world, imeis=[identifier], partner=other, actor=world.operator_user)
        register(world, quantity=3)
        conflict = Conflict.objects.get(status="open")

        outcomes = race(
            {
                "resolve": lambda c=conflict: partner_actions.resolve_conflict(
                    actor=world.operator_user, conflict=c, decision="transfer", reason="resold"
                ),
                "allocate": lambda: registry_actions.allocate(actor=world.operator_user),
            }
        )

        assert not [o for o in outcomes.values() if isinstance(o, BaseException)], outcomes
    assert registry_invariants.problems() == []
