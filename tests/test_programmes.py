"""Programmes, versioned device categories and cancelling a registration before allocation."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone, translation

from factories import (
    World,
    imei,
    issue,
    make_member,
    make_partner,
    make_programme,
    make_world,
    race,
    register,
)
from oneforone.accounts.models import Role
from oneforone.accounts.permissions import NotAllowed
from oneforone.core.models import AuditEvent
from oneforone.partners import actions as partner_actions
from oneforone.partners.actions import (
    CancellationRefused,
    ProgrammeRefused,
    ProgrammeTerms,
    RegistrationRejected,
)
from oneforone.partners.models import (
    Channel,
    ConflictStatus,
    DeviceCategory,
    DeviceStatus,
    Programme,
    Registration,
)
from oneforone.partners.schemas import RegistrationRow
from oneforone.registry import actions as registry_actions


def terms(**overrides: object) -> ProgrammeTerms:
    values: dict[str, object] = {
        "code": "retail",
        "name": "Retail",
        "activation_mode": "consumer_products",
        "price_per_unit": Decimal("4.80"),
        "currency": "eur",
        "starts_on": dt.date(2025, 1, 1),
        "ends_on": None,
        "claim_wording": "One sold, one recycled.",
    }
    return ProgrammeTerms(**{**values, **overrides})  # type: ignore[arg-type]


def register_in(world: World, programme: str | None, quantity: int = 1) -> Registration:
    [registration] = partner_actions.register_devices(
        actor=world.partner_admin,
        partner=world.partner,
        rows=[
            (
                1,
                RegistrationRow(
                    reference=f"R-{timezone.now().timestamp()}-{quantity}",
                    category="phone",
                    quantity=quantity,
                    programme=programme,
                ),
            )
        ],
        channel=Channel.API,
    )
    return registration


# Programmes ------------------------------------------------------------------------------------


def test_a_partner_admin_creates_a_programme_with_its_terms(world: World) -> None:
    programme = partner_actions.create_programme(
        actor=world.partner_admin, partner=world.partner, terms=terms()
    )

    assert programme.currency == "EUR"
    assert programme.price_per_unit == Decimal("4.80")
    assert not programme.is_default  # the world's partner already has a default programme
    assert AuditEvent.objects.filter(
        code="partners.programme.created", object_id=str(programme.pk)
    ).exists()


def test_a_member_who_is_not_an_admin_cannot_create_programmes(world: World) -> None:
    member = make_member(world.partner, role=Role.MEMBER)

    with pytest.raises(NotAllowed, match="ask one of its administrators"):
        partner_actions.create_programme(actor=member, partner=world.partner, terms=terms())


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"activation_mode": "public_tender"}, "contracting authority, tender reference and quota"),
        ({"quota": 100}, "belong to public tenders only"),
        ({"currency": "EUROS"}, "ISO 4217"),
        ({"ends_on": dt.date(2024, 12, 31)}, "cannot end before it starts"),
        ({"claim_wording": "  "}, "claim wording"),
        ({"activation_mode": "giveaway"}, "unknown activation mode"),
    ],
)
def test_programme_terms_are_checked(
    world: World, overrides: dict[str, object], message: str
) -> None:
    with pytest.raises(ProgrammeRefused, match=message):
        partner_actions.create_programme(
            actor=world.partner_admin, partner=world.partner, terms=terms(**overrides)
        )


@pytest.mark.parametrize(
    ("language", "message"),
    [
        ("nl", "het programma kan niet eindigen voordat het begint"),
        ("fr", "le programme ne peut pas finir avant de commencer"),
    ],
)
def test_a_refusal_is_written_in_the_language_of_the_person_refused(
    world: World, language: str, message: str
) -> None:
    with translation.override(language), pytest.raises(ProgrammeRefused, match=message):
        partner_actions.create_programme(
            actor=world.partner_admin,
            partner=world.partner,
            terms=terms(ends_on=dt.date(2024, 12, 31)),
        )


def test_the_database_refuses_a_tender_without_its_quota(world: World) -> None:
    with pytest.raises(IntegrityError, match="programme_tender_fields"), transaction.atomic():
        Programme.objects.create(
            partner=world.partner,
            created_by=world.partner_admin,
            **{**terms(activation_mode="public_tender").__dict__, "currency": "EUR"},
        )


def test_a_partner_has_one_default_programme(world: World) -> None:
    second = make_programme(world.partner, code="second")

    partner_actions.set_default_programme(actor=world.partner_admin, programme=second)

    assert list(Programme.objects.filter(partner=world.partner, is_default=True)) == [second]
    with pytest.raises(IntegrityError, match="programme_one_default"), transaction.atomic():
        Programme.objects.filter(partner=world.partner).update(is_default=True)


def test_rows_go_to_the_programme_they_name_or_to_the_default(world: World) -> None:
    make_programme(world.partner, code="business")

    named = register_in(world, "business")
    unnamed = register_in(world, None)

    assert named.programme.code == "business"
    assert unnamed.programme.code == "general"


def test_an_unknown_programme_is_refused_with_the_known_ones(world: World) -> None:
    with pytest.raises(
        RegistrationRejected, match="unknown programme 'nope'; your programmes: general"
    ):
        register_in(world, "nope")


def test_a_partner_without_a_default_programme_must_name_one(world: World) -> None:
    partner, admin = make_partner()
    Programme.objects.filter(partner=partner).update(is_default=False)

    with pytest.raises(RegistrationRejected, match="no default programme"):
        partner_actions.register_devices(
            actor=admin,
            partner=partner,
            rows=[(1, RegistrationRow(reference="X", category="phone", quantity=1))],
            channel=Channel.API,
        )


def test_a_programme_that_has_ended_takes_no_registrations(world: World) -> None:
    make_programme(
        world.partner, code="old", starts_on=dt.date(2021, 1, 1), ends_on=dt.date(2021, 12, 31)
    )

    with pytest.raises(RegistrationRejected, match="runs from 2021-01-01 to 2021-12-31"):
        register_in(world, "old")


def test_the_database_refuses_a_registration_outside_its_programme_period(world: World) -> None:
    registration = register(world, quantity=1)
    ended = make_programme(
        world.partner, code="old", starts_on=dt.date(2021, 1, 1), ends_on=dt.date(2021, 12, 31)
    )

    with pytest.raises(IntegrityError, match="outside programme old"), transaction.atomic():
        Registration.objects.create(
            partner=world.partner,
            programme=ended,
            reference="LATE",
            category=registration.category,
            quantity=1,
            units_per_device=1,
            channel=Channel.API,
            created_at=timezone.now(),
            created_by=world.partner_admin,
        )


def test_a_tender_takes_no_more_devices_than_its_quota(world: World) -> None:
    make_programme(world.partner, code="tender", mode="public_tender", quota=10)
    register_in(world, "tender", quantity=6)

    with pytest.raises(
        RegistrationRejected, match=r"covers 10 devices under tender .* takes it to 11"
    ):
        register_in(world, "tender", quantity=5)
    register_in(world, "tender", quantity=4)


@pytest.mark.django_db(transaction=True)
def test_concurrent_registrations_never_take_a_tender_past_its_quota() -> None:
    world = make_world()
    make_programme(world.partner, code="tender", mode="public_tender", quota=10)
    outcomes = race(
        {f"r{n}": lambda n=n: register_in(world, "tender", quantity=4 + n % 2) for n in range(4)}
    )

    registered = Registration.objects.filter(programme__code="tender", partner=world.partner)
    assert sum(r.quantity for r in registered) <= 10
    refused = [o for o in outcomes.values() if isinstance(o, RegistrationRejected | IntegrityError)]
    assert len(refused) >= 2, outcomes


def test_only_the_name_end_and_wording_of_a_programme_change(world: World) -> None:
    programme = Programme.objects.get(partner=world.partner, code="general")
    register(world, quantity=1)

    with pytest.raises(ProgrammeRefused, match="cannot end before that"):
        partner_actions.change_programme(
            actor=world.partner_admin,
            programme=programme,
            ends_on=timezone.localdate() - dt.timedelta(days=1),
            claim_wording="x",
            name="General",
        )
    changed = partner_actions.change_programme(
        actor=world.partner_admin,
        programme=programme,
        ends_on=timezone.localdate() + dt.timedelta(days=30),
        claim_wording="One for one.",
        name="General programme",
    )
    assert (changed.name, changed.claim_wording) == ("General programme", "One for one.")


# Device categories -------------------------------------------------------------------------------


def test_a_registration_keeps_the_category_version_it_was_made_under(world: World) -> None:
    before = register(world, quantity=2, category="tablet")
    partner_actions.add_category_version(
        actor=world.operator_user,
        code="tablet",
        name="Tablet",
        units_per_device=3,
        valid_from=timezone.localdate() + dt.timedelta(days=1),
        source="measured tablet mass, 2027 survey",
    )

    with time_travel(days=1):
        after = register(world, quantity=2, category="tablet")

    before.refresh_from_db()
    assert (before.units_per_device, before.units_owed) == (2, 4)
    assert (after.units_per_device, after.units_owed) == (3, 6)
    assert after.category.valid_from == timezone.localdate() + dt.timedelta(days=1)


def test_a_category_version_is_never_edited_nor_backdated(world: World) -> None:
    with pytest.raises(ProgrammeRefused, match="from tomorrow at the earliest"):
        partner_actions.add_category_version(
            actor=world.operator_user,
            code="phone",
            name="Phone",
            units_per_device=2,
            valid_from=timezone.localdate(),
            source="x",
        )
    with pytest.raises(IntegrityError, match="append-only"), transaction.atomic():
        DeviceCategory.objects.filter(code="phone").update(units_per_device=5)


def time_travel(*, days: int):  # type: ignore[no-untyped-def]
    import time_machine

    return time_machine.travel(timezone.now() + dt.timedelta(days=days), tick=True)


# Cancelling ----------------------------------------------------------------------------------------


def test_a_registration_is_cancelled_before_allocation_and_owes_nothing(world: World) -> None:
    registration = register(world, imeis=[imei(1), imei(2)])

    cancelled = partner_actions.cancel_registration(
        actor=world.partner_admin, registration=registration, reason="order returned"
    )

    assert cancelled.units_owed == 0
    assert set(cancelled.devices.values_list("status", flat=True)) == {DeviceStatus.CANCELLED}
    assert AuditEvent.objects.filter(code="partners.registration.cancelled").count() == 1
    # The devices are free to be claimed again, by anyone.
    again = register(world, imeis=[imei(1)])
    assert again.devices.get().status == DeviceStatus.CLAIMED


def test_a_cancelled_registration_gets_no_units(world: World) -> None:
    registration = register(world, quantity=3)
    partner_actions.cancel_registration(
        actor=world.partner_admin, registration=registration, reason="order returned"
    )
    issue(world, 5)

    registry_actions.allocate(actor=world.operator_user)

    assert not registration.allocations.exists()


def test_a_registration_with_units_cannot_be_cancelled(world: World) -> None:
    registration = register(world, quantity=3)
    issue(world, 5)
    registry_actions.allocate(actor=world.operator_user)

    with pytest.raises(
        CancellationRefused, match=r"already has 3 units allocated.*Ask the operator"
    ):
        partner_actions.cancel_registration(
            actor=world.partner_admin, registration=registration, reason="too late"
        )
    with (
        translation.override("fr"),
        pytest.raises(CancellationRefused, match=r"a déjà 3 unités attribuées"),
    ):
        partner_actions.cancel_registration(
            actor=world.partner_admin, registration=registration, reason="trop tard"
        )


def test_cancelling_closes_the_open_conflicts_of_its_held_devices(world: World) -> None:
    register(world, imeis=[imei(7)])
    second = register(world, imeis=[imei(7), imei(8)])
    assert second.devices_excluded == 1

    partner_actions.cancel_registration(
        actor=world.partner_admin, registration=second, reason="duplicate order"
    )

    conflict = second.devices.get(position=1).conflict
    assert conflict.status == ConflictStatus.CANCELLED
    with pytest.raises(CancellationRefused, match="already cancelled"):
        partner_actions.cancel_registration(
            actor=world.partner_admin, registration=second, reason="again"
        )


def test_only_the_partners_writing_members_cancel(world: World) -> None:
    registration = register(world, quantity=1)
    viewer = make_member(world.partner, role=Role.VIEWER)
    _, stranger = make_partner()

    for actor in (viewer, stranger):
        with pytest.raises(NotAllowed):
            partner_actions.cancel_registration(
                actor=actor, registration=registration, reason="not mine"
            )
    with pytest.raises(CancellationRefused, match="give the reason"):
        partner_actions.cancel_registration(
            actor=world.partner_admin, registration=registration, reason=" "
        )


def test_the_database_requires_a_reason_with_a_cancellation(world: World) -> None:
    registration = register(world, quantity=1)

    with (
        pytest.raises(IntegrityError, match="registration_cancelled_with_reason"),
        transaction.atomic(),
    ):
        Registration.objects.filter(pk=registration.pk).update(cancelled_at=timezone.now())


@pytest.mark.django_db(transaction=True)
def test_a_cancellation_racing_an_allocation_run_is_one_or_the_other() -> None:
    world = make_world()
    registration = register(world, quantity=2)
    issue(world, 2)

    outcomes = race(
        {
            "allocate": lambda: registry_actions.allocate(actor=world.operator_user),
            "cancel": lambda: partner_actions.cancel_registration(
                actor=world.partner_admin, registration=registration, reason="race"
            ),
        }
    )

    registration.refresh_from_db()
    allocated = registration.allocations.count()
    if isinstance(outcomes["cancel"], CancellationRefused):
        assert allocated
        assert registration.cancelled_at is None
    else:
        assert not allocated
        assert registration.units_owed == 0


# Figures per programme -------------------------------------------------------------------------------


def test_impact_figures_are_answered_per_programme(world: World) -> None:
    from oneforone.impact import queries as impact

    business = make_programme(world.partner, code="business")
    register(world, quantity=4)
    in_business = register_in(world, "business", quantity=2)
    cancelled = register_in(world, "business", quantity=5)
    partner_actions.cancel_registration(
        actor=world.partner_admin, registration=cancelled, reason="order returned"
    )
    issue(world, 6)
    registry_actions.allocate(actor=world.operator_user)

    whole = impact.registry_totals(world.partner)
    only_business = impact.registry_totals(world.partner, business)

    assert (whole.registrations, whole.devices_registered, whole.units_allocated) == (2, 6, 6)
    assert (only_business.registrations, only_business.devices_registered) == (1, 2)
    assert only_business.units_allocated == in_business.units_owed == 2
    assert impact.origins(world.partner, business) == [("GH", 2)]
    assert impact.weight_diverted_kg(world.partner, business) > 0
    other, _ = make_partner()
    with pytest.raises(ValueError, match="another partner"):
        impact.registry_totals(other, business)
