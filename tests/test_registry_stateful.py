"""Random sequences of every registry action, with every invariant checked after each step.

Hypothesis drives a state machine: issue batches (from two countries), register devices for two
partners, reserve, release, allocate (for everyone or one partner, with or without a budget),
cancel a random stretch of a random batch, lower what a registration owes and release the surplus,
set a random preference. After every step: each batch conserves its units, no unit is in two
active allocations, no registration holds more than it owes, every certificate in force lists
exactly its registration's active allocations, and the ledger verifies.

pytest-django wraps the whole test in one transaction; each example runs in a savepoint that its
teardown rolls back, so every example starts from an empty registry.
"""

from __future__ import annotations

import dataclasses
import os

import pytest
from django.db import connection, transaction
from django.db.backends.postgresql.psycopg_any import NumericRange
from django.utils import timezone
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

import registry_invariants
from factories import World, issue, make_collector, make_hub, make_partner, make_world, register
from oneforone.accounts.models import Organisation, User
from oneforone.partners.models import Registration
from oneforone.registry import actions as registry_actions
from oneforone.registry import supply
from oneforone.registry.models import (
    Allocation,
    AllocationPreference,
    Cancellation,
    IssuanceBatch,
    LedgerEntry,
)

pytestmark = pytest.mark.django_db

COUNTRIES = ["GH", "CM"]
LABELS = ["T-1", "T-2"]
picks = st.integers(min_value=0, max_value=10**6)


class RegistryMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self._example = transaction.atomic()
        self._example.__enter__()
        world = make_world()
        self.actor = world.operator_user
        other, other_admin = make_partner()
        self.partners: list[tuple[Organisation, User]] = [
            (world.partner, world.partner_admin),
            (other, other_admin),
        ]
        cameroon = make_hub(world.collection_partner, country="CM", currency="XAF")
        self.worlds: dict[str, World] = {
            "GH": world,
            "CM": dataclasses.replace(world, hub=cameroon, collector=make_collector(cameroon)),
        }
        self.world = world
        self.batches: list[IssuanceBatch] = []
        self.issued = 0
        self.cancelled = 0

    def teardown(self) -> None:
        transaction.set_rollback(True)
        self._example.__exit__(None, None, None)

    # Rules ------------------------------------------------------------------------------------

    @rule(phones=st.integers(min_value=1, max_value=15), country=st.sampled_from(COUNTRIES))
    def issue_a_batch(self, phones: int, country: str) -> None:
        self.batches.append(issue(self.worlds[country], phones))
        self.issued += phones

    @rule(
        partner=picks,
        quantity=st.integers(min_value=1, max_value=6),
        category=st.sampled_from(["phone", "phone", "tablet", "laptop"]),
    )
    def register_devices(self, partner: int, quantity: int, category: str) -> None:
        organisation, admin = self.partners[partner % len(self.partners)]
        register(
            self.world, quantity=quantity, category=category, partner=organisation, actor=admin
        )

    @rule(
        partner=picks,
        label=st.sampled_from(LABELS),
        quantity=st.integers(min_value=1, max_value=12),
        accept_fewer=st.booleans(),
    )
    def reserve(self, partner: int, label: str, quantity: int, accept_fewer: bool) -> None:
        organisation, _ = self.partners[partner % len(self.partners)]
        entries = LedgerEntry.objects.count()
        try:
            blocks = registry_actions.reserve_units(
                actor=self.actor,
                partner=organisation,
                label=label,
                quantity=quantity,
                accept_fewer=accept_fewer,
            )
        except registry_actions.ReservationRefused:
            assert LedgerEntry.objects.count() == entries
            return
        reserved = sum(b.quantity for b in blocks)
        assert 0 < reserved <= quantity
        assert accept_fewer or reserved == quantity

    @rule(partner=picks, label=st.sampled_from(LABELS))
    def release(self, partner: int, label: str) -> None:
        organisation, _ = self.partners[partner % len(self.partners)]
        try:
            registry_actions.release_reservation(
                actor=self.actor, partner=organisation, label=label, reason="quota closed"
            )
        except registry_actions.ReservationRefused:
            return

    @rule(partner=st.one_of(st.none(), picks), max_units=st.one_of(st.none(), st.integers(1, 10)))
    def allocate(self, partner: int | None, max_units: int | None) -> None:
        organisation = None if partner is None else self.partners[partner % 2][0]
        result = registry_actions.allocate(
            actor=self.actor, partner=organisation, max_units=max_units
        )
        if max_units is not None:
            assert result.units <= max_units
        if max_units is None:
            self._nothing_left_that_could_be_given(organisation)

    @precondition(lambda self: self.batches)
    @rule(batch=picks, start=picks, length=st.integers(min_value=1, max_value=6))
    def cancel(self, batch: int, start: int, length: int) -> None:
        chosen = self.batches[batch % len(self.batches)]
        first = chosen.units.lower + start % chosen.quantity
        last = min(first + length, chosen.units.upper) - 1
        overlaps = Cancellation.objects.filter(
            units__overlap=NumericRange(first, last + 1)
        ).exists()
        try:
            result = registry_actions.cancel_units(
                actor=self.actor,
                batch=chosen,
                first=first,
                last=last,
                reason="fraud",
                explanation="found in an audit",
            )
        except registry_actions.CancellationRefused:
            assert overlaps
            return
        assert not overlaps
        self.cancelled += last + 1 - first
        assert not Allocation.objects.filter(units__overlap=result.cancellation.units).exists()
        assert {a.revoked_at for a in result.revoked} <= {result.cancellation.cancelled_at}

    @rule(pick=picks, fewer=st.integers(min_value=1, max_value=5))
    def withdraw_device_claims(self, pick: int, fewer: int) -> None:
        """A registration owes fewer units (devices taken out); its surplus is released."""
        registrations = list(Registration.objects.filter(quantity__gt=1).order_by("id"))
        if not registrations:
            return
        registration = registrations[pick % len(registrations)]
        with connection.cursor() as cursor:
            cursor.execute(
                "UPDATE partners_registration SET quantity = %s WHERE id = %s",
                [max(1, registration.quantity - fewer), registration.pk],
            )
        registry_actions.release_surplus(
            actor=self.actor, registrations=[registration], reason="devices returned"
        )

    @rule(
        partner=picks,
        countries=st.lists(st.sampled_from(COUNTRIES), max_size=2, unique=True),
        years=st.lists(st.sampled_from([2025, timezone.localdate().year]), max_size=1),
        strict=st.booleans(),
        allow_partial=st.booleans(),
    )
    def set_preference(
        self,
        partner: int,
        countries: list[str],
        years: list[int],
        strict: bool,
        allow_partial: bool,
    ) -> None:
        organisation, _ = self.partners[partner % len(self.partners)]
        registry_actions.set_allocation_preference(
            actor=self.actor,
            partner=organisation,
            origin_countries=countries,
            vintage_years=years,
            strict=strict,
            allow_partial=allow_partial,
        )

    # Checks ----------------------------------------------------------------------------------

    def _nothing_left_that_could_be_given(self, partner: Organisation | None) -> None:
        """After a full allocation, a partner still owed units that takes any supply, in part,
        has no free or reserved unit left to take."""
        preferences = {p.partner_id: p for p in AllocationPreference.objects.all()}
        open_partners = {n.partner_id for n in supply.open_needs(partner.pk if partner else None)}
        for partner_id in open_partners:
            preference = preferences.get(partner_id)
            if preference is not None and (preference.strict or not preference.allow_partial):
                continue
            assert supply.reserved_stretches(partner_id).get(partner_id, []) == []
            assert supply.free_stretches() == []

    @invariant()
    def registry_is_sound(self) -> None:
        assert registry_invariants.problems() == []
        counts = registry_invariants.batch_counts()
        assert sum(c.issued for c in counts) == self.issued
        assert sum(c.cancelled for c in counts) == self.cancelled


# REGISTRY_EXAMPLES=500 REGISTRY_STEPS=50 for a longer hunt.
RegistryMachine.TestCase.settings = settings(
    max_examples=int(os.environ.get("REGISTRY_EXAMPLES", "30")),
    stateful_step_count=int(os.environ.get("REGISTRY_STEPS", "25")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
TestRegistryStateMachine = RegistryMachine.TestCase
