"""Which units a registration gets: oldest first by default, a partner's preference (origin,
vintage, strict or not, whole or partial), and its reservations, which serve it alone and first."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
import time_machine
from django.db import IntegrityError, connection, transaction

import registry_invariants
from factories import World, issue, make_collector, make_hub, make_partner, register
from oneforone.accounts.models import Organisation
from oneforone.partners.models import Registration
from oneforone.registry import actions as registry_actions
from oneforone.registry.models import Allocation, IssuanceBatch, Reservation


def allocate(world: World, **kwargs: object) -> registry_actions.AllocationResult:
    return registry_actions.allocate(actor=world.operator_user, **kwargs)  # type: ignore[arg-type]


def prefer(world: World, partner: Organisation | None = None, **kwargs: object) -> None:
    registry_actions.set_allocation_preference(
        actor=world.operator_user,
        partner=partner or world.partner,
        **kwargs,  # type: ignore[arg-type]
    )


def reserve(
    world: World, quantity: int, *, label: str = "TENDER-1", **kwargs: object
) -> list[Reservation]:
    arguments: dict[str, object] = {"partner": world.partner}
    arguments.update(kwargs)
    return registry_actions.reserve_units(
        actor=world.operator_user,
        label=label,
        quantity=quantity,
        **arguments,  # type: ignore[arg-type]
    )


def issue_from(world: World, country: str, phones: int) -> IssuanceBatch:
    """A batch collected at a hub in another country."""
    hub = make_hub(world.collection_partner, country=country, currency="XAF")
    return issue(dataclasses.replace(world, hub=hub, collector=make_collector(hub)), phones)


def issue_in(world: World, year: int, phones: int) -> IssuanceBatch:
    """A batch whose treatment was completed in `year` (its vintage)."""
    with time_machine.travel(dt.datetime(year, 6, 15, 12, tzinfo=dt.UTC), tick=True):
        return issue(world, phones)


def batches_of(registration: Registration) -> dict[int, int]:
    """Units held per batch."""
    held: dict[int, int] = {}
    for a in Allocation.objects.filter(registration=registration):
        held[a.batch_id] = held.get(a.batch_id, 0) + a.quantity
    return held


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


@pytest.fixture(autouse=True)
def _registry_stays_sound(db: None, request: pytest.FixtureRequest):
    """Whatever a policy decides, the registry stays sound (tests that write rows by hand to see
    the database refuse them leave rows the ledger does not know)."""
    yield
    if "database_refuses" not in request.node.name:
        assert registry_invariants.problems() == []


# Default order ------------------------------------------------------------------------------


def test_by_default_the_oldest_registration_gets_the_oldest_units(world: World) -> None:
    old_batch = issue(world, 4)
    new_batch = issue(world, 4)
    first = register(world, quantity=3)
    second = register(world, quantity=3)

    allocate(world)

    assert batches_of(first) == {old_batch.pk: 3}
    assert batches_of(second) == {old_batch.pk: 1, new_batch.pk: 2}


# Preferences --------------------------------------------------------------------------------


def test_a_preferred_origin_is_served_first_and_others_fill_in(world: World) -> None:
    ghana = issue(world, 5)
    cameroon = issue_from(world, "CM", 3)
    assert cameroon.origin_country == "CM"
    prefer(world, origin_countries=["cm"])  # normalised to upper case
    registration = register(world, quantity=5)

    allocate(world)

    assert batches_of(registration) == {cameroon.pk: 3, ghana.pk: 2}


def test_a_strict_preference_waits_for_matching_supply(world: World) -> None:
    ghana = issue(world, 5)
    prefer(world, origin_countries=["CM"], strict=True)
    mine = register(world, quantity=3)
    other_partner, other_admin = make_partner()
    theirs = register(world, quantity=2, partner=other_partner, actor=other_admin)

    allocate(world)

    assert batches_of(mine) == {}  # waits, and does not hold up the next registration
    assert batches_of(theirs) == {ghana.pk: 2}

    cameroon = issue_from(world, "CM", 4)
    [certificate] = allocate(world).certificates
    assert certificate.registration_id == mine.pk
    assert batches_of(mine) == {cameroon.pk: 3}


def test_a_vintage_preference_and_its_fallback(world: World) -> None:
    older = issue_in(world, 2025, 3)
    newer = issue(world, 3)
    assert older.vintage_year == 2025
    assert newer.vintage_year != 2025
    prefer(world, vintage_years=[newer.vintage_year])
    registration = register(world, quantity=4)

    allocate(world)

    assert batches_of(registration) == {newer.pk: 3, older.pk: 1}


def test_origin_and_vintage_must_both_match(world: World) -> None:
    issue_in(world, 2025, 3)  # GH 2025
    cameroon_now = issue_from(world, "CM", 3)
    prefer(world, origin_countries=["GH"], vintage_years=[cameroon_now.vintage_year], strict=True)
    registration = register(world, quantity=2)

    allocate(world)
    assert batches_of(registration) == {}

    ghana_now = issue(world, 2)
    allocate(world)
    assert batches_of(registration) == {ghana_now.pk: 2}


def test_a_preference_applies_to_later_allocations_only(world: World) -> None:
    ghana = issue(world, 2)
    registration = register(world, quantity=4)
    allocate(world)
    cameroon = issue_from(world, "CM", 5)
    issue(world, 5)

    prefer(world, origin_countries=["CM"])
    allocate(world)

    assert batches_of(registration) == {ghana.pk: 2, cameroon.pk: 2}


# Whole or partial ---------------------------------------------------------------------------


def test_refusing_partial_allocation_waits_while_later_registrations_proceed(
    world: World,
) -> None:
    prefer(world, allow_partial=False)
    whole = register(world, quantity=5)
    other_partner, other_admin = make_partner()
    later = register(world, quantity=2, partner=other_partner, actor=other_admin)
    issue(world, 4)

    allocate(world)

    assert batches_of(whole) == {}
    assert sum(batches_of(later).values()) == 2

    issue(world, 3)  # 2 + 3 free now
    [certificate] = allocate(world).certificates
    assert certificate.registration_id == whole.pk
    assert sum(batches_of(whole).values()) == 5


def test_refusing_partial_allocation_also_waits_for_a_unit_budget(world: World) -> None:
    prefer(world, allow_partial=False)
    registration = register(world, quantity=5)
    small = register(world, quantity=1)
    issue(world, 10)

    allocate(world, max_units=4)

    assert batches_of(registration) == {}
    assert sum(batches_of(small).values()) == 1  # the budget goes to what can be met whole
    allocate(world, max_units=5)
    assert sum(batches_of(registration).values()) == 5


def test_accepting_partial_allocation_takes_what_there_is(world: World) -> None:
    prefer(world, allow_partial=True)
    registration = register(world, quantity=5)
    issue(world, 3)

    assert allocate(world).units == 3
    assert sum(batches_of(registration).values()) == 3


# Reservations -------------------------------------------------------------------------------


def test_reserved_units_serve_only_their_partner(world: World) -> None:
    batch = issue(world, 10)
    first = batch.units.lower
    [block] = reserve(world, 6)
    other_partner, other_admin = make_partner()
    theirs = register(world, quantity=10, partner=other_partner, actor=other_admin)

    allocate(world)
    allocate(world, partner=other_partner)

    assert registry_invariants.active_units(theirs) == [(first + 6, first + 10)]
    assert (block.units.lower, block.units.upper) == (first, first + 6)


def test_database_refuses_an_allocation_of_units_reserved_for_another_quota(world: World) -> None:
    batch = issue(world, 10)
    first = batch.units.lower
    [block] = reserve(world, 6)
    mine = register(world, quantity=3)
    other_partner, other_admin = make_partner()
    theirs = register(world, quantity=3, partner=other_partner, actor=other_admin)

    for registration_id, reservation_id in [
        (theirs.pk, None),  # another partner, as if free
        (theirs.pk, block.pk),  # another partner, naming the block
        (mine.pk, None),  # the partner itself, without drawing on the block
    ]:
        with (
            pytest.raises(IntegrityError, match="reserved for another quota"),
            transaction.atomic(),
        ):
            insert_allocation(registration_id, batch.pk, first + 4, first + 7, reservation_id)
    with (
        pytest.raises(IntegrityError, match="not inside the partner's reservation"),
        transaction.atomic(),
    ):
        insert_allocation(mine.pk, batch.pk, first + 6, first + 8, block.pk)  # beyond the block

    insert_allocation(mine.pk, batch.pk, first, first + 3, block.pk)
    assert registry_invariants.active_units(mine) == [(first, first + 3)]


def test_database_refuses_an_allocation_drawn_on_a_released_reservation(world: World) -> None:
    batch = issue(world, 10)
    [block] = reserve(world, 6)
    registration_actions_release(world)
    mine = register(world, quantity=3)

    with (
        pytest.raises(IntegrityError, match="not inside the partner's reservation"),
        transaction.atomic(),
    ):
        insert_allocation(mine.pk, batch.pk, block.units.lower, block.units.lower + 3, block.pk)


def registration_actions_release(world: World, label: str = "TENDER-1") -> int:
    return registry_actions.release_reservation(
        actor=world.operator_user, partner=world.partner, label=label, reason="tender lost"
    )


def test_a_partner_uses_its_reservation_before_older_free_supply(world: World) -> None:
    ghana = issue(world, 5)
    cameroon = issue_from(world, "CM", 5)
    prefer(world, origin_countries=["CM"], strict=True)
    reserve(world, 3)  # from Cameroon: reserving follows the preference
    prefer(world)  # no preference any more: oldest first
    registration = register(world, quantity=4)

    allocate(world)

    assert batches_of(registration) == {cameroon.pk: 3, ghana.pk: 1}
    assert Allocation.objects.filter(reservation__isnull=False).get().quantity == 3


def test_reserved_units_serve_the_partner_whatever_its_later_preference(world: World) -> None:
    ghana = issue(world, 5)
    reserve(world, 2)
    prefer(world, origin_countries=["CM"], strict=True)
    registration = register(world, quantity=4)

    allocate(world)

    assert batches_of(registration) == {ghana.pk: 2}  # the reserved units, and no free ones


def test_reservations_are_used_oldest_first_then_free_supply(world: World) -> None:
    batch = issue(world, 20)
    first = batch.units.lower
    reserve(world, 3, label="T-1")
    other_partner, _ = make_partner()
    reserve(world, 3, label="T-OTHER", partner=other_partner)
    reserve(world, 3, label="T-2")
    registration = register(world, quantity=8)

    allocate(world)

    assert registry_invariants.active_units(registration) == [
        (first, first + 3),
        (first + 6, first + 9),
        (first + 9, first + 11),
    ]


def test_releasing_a_reservation_returns_its_unallocated_units(world: World) -> None:
    batch = issue(world, 10)
    first = batch.units.lower
    reserve(world, 6)
    register(world, quantity=2)
    allocate(world)

    with pytest.raises(registry_actions.ReservationRefused, match="say why"):
        registry_actions.release_reservation(
            actor=world.operator_user, partner=world.partner, label="TENDER-1", reason=" "
        )
    with pytest.raises(registry_actions.ReservationRefused, match="holds no reservation"):
        registration_actions_release(world, label="TENDER-2")

    assert registration_actions_release(world) == 4
    with pytest.raises(registry_actions.ReservationRefused, match="holds no reservation"):
        registration_actions_release(world)  # released once

    other_partner, other_admin = make_partner()
    theirs = register(world, quantity=10, partner=other_partner, actor=other_admin)
    allocate(world)
    assert registry_invariants.active_units(theirs) == [(first + 2, first + 10)]


# Reserving ----------------------------------------------------------------------------------


def test_reserving_more_than_is_free_is_refused_unless_fewer_are_accepted(world: World) -> None:
    issue(world, 5)
    register(world, quantity=1)
    allocate(world)

    with pytest.raises(registry_actions.ReservationRefused, match="only 4 units are free"):
        reserve(world, 8)
    assert not Reservation.objects.exists()

    blocks = reserve(world, 8, accept_fewer=True)
    assert sum(b.quantity for b in blocks) == 4
    with pytest.raises(registry_actions.ReservationRefused, match="no units are free"):
        reserve(world, 1, label="TENDER-2", accept_fewer=True)


def test_reserving_is_refused_for_a_non_partner_or_an_empty_request(world: World) -> None:
    issue(world, 5)
    for kwargs, message in [
        ({"partner": world.recycler}, "is not a partner"),
        ({"quantity": 0}, "at least one unit"),
        ({"label": "  "}, "needs a label"),
    ]:
        arguments: dict[str, object] = {"quantity": 1, "label": "T-1", **kwargs}
        with pytest.raises(registry_actions.ReservationRefused, match=message):
            reserve(world, **arguments)  # type: ignore[arg-type]
    assert not Reservation.objects.exists()


def test_reserving_follows_the_partners_preference_across_batches(world: World) -> None:
    ghana = issue(world, 3)
    cameroon = issue_from(world, "CM", 2)
    more_cameroon = issue_from(world, "CM", 2)
    prefer(world, origin_countries=["CM"], strict=True)

    with pytest.raises(registry_actions.ReservationRefused, match="only 4 units are free"):
        reserve(world, 5)
    blocks = reserve(world, 3)

    assert [(b.batch_id, b.quantity) for b in blocks] == [(cameroon.pk, 2), (more_cameroon.pk, 1)]
    assert ghana.pk not in {b.batch_id for b in blocks}


def insert_reservation(
    partner_id: int, batch_id: int, lower: int, upper: int, parent_id: int | None = None
) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO registry_reservation (partner_id, label, batch_id, units, reserved_at,
                reserved_by_id, parent_id)
            SELECT %s, 'by hand', %s, int8range(%s, %s), now(),
                   (SELECT id FROM accounts_user LIMIT 1), %s
            """,
            [partner_id, batch_id, lower, upper, parent_id],
        )


def test_database_refuses_a_reservation_of_allocated_or_reserved_units(world: World) -> None:
    batch = issue(world, 20)
    first = batch.units.lower
    register(world, quantity=3)
    allocate(world)  # [first, first + 3), from free supply
    [block] = reserve(world, 5)  # [first + 3, first + 8)
    other_partner, _ = make_partner()

    for lower, upper, parent, match in [
        (first + 2, first + 3, None, "takes units already allocated"),
        (first, first + 3, block.pk, "takes units already allocated"),  # not its lineage
        (first + 7, first + 9, None, "reservation_units_never_twice"),
        (batch.units.upper - 1, batch.units.upper + 1, None, "not inside its batch"),
    ]:
        with pytest.raises(IntegrityError, match=match), transaction.atomic():
            insert_reservation(other_partner.pk, batch.pk, lower, upper, parent)

    insert_reservation(other_partner.pk, batch.pk, first + 8, first + 10)  # free units
    assert Reservation.objects.filter(partner=other_partner).count() == 1


def test_a_budget_of_no_units_allocates_nothing(world: World) -> None:
    registration = register(world, quantity=3)
    issue(world, 5)

    for budget in (0, -1):
        assert allocate(world, max_units=budget).allocations == []
    assert batches_of(registration) == {}
