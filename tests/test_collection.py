"""Collection: hubs buy phones from their collectors, pay per phone, and pack sealed lots."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from factories import (
    World,
    draft_consignment,
    make_collector,
    make_hub,
    make_member,
    make_organisation,
    record_intake,
    seal_lot,
)
from oneforone.accounts.models import OrganisationKind, Role
from oneforone.accounts.permissions import NotAllowed
from oneforone.collection import actions
from oneforone.collection.actions import CollectionError
from oneforone.collection.models import Intake, Lot
from oneforone.core.money import CurrencyError


def test_an_intake_is_paid_per_phone_in_the_hubs_currency(world: World) -> None:
    intake = record_intake(world, phones=40, price="0.75", currency="ghs")
    intake.refresh_from_db()

    assert intake.currency == "GHS"
    assert intake.amount_paid == Decimal("30.0000")
    assert intake.lot is None


def test_lot_totals_are_the_sum_of_its_intakes(world: World) -> None:
    intakes = [
        record_intake(world, phones=12, net_weight_kg=Decimal("0.700")),
        record_intake(world, phones=30, net_weight_kg=Decimal("1.650")),
        record_intake(world, phones=8, net_weight_kg=Decimal("0.441")),
    ]

    lot = seal_lot(world, intakes)

    assert lot.phones == 50
    assert lot.net_weight_kg == Decimal("2.791")
    assert set(lot.intakes.values_list("pk", flat=True)) == {i.pk for i in intakes}


def test_an_intake_is_packed_in_one_lot_only(world: World) -> None:
    intake = record_intake(world, phones=5)
    seal_lot(world, [intake])

    with pytest.raises(CollectionError, match="packed already"):
        seal_lot(world, [intake])
    assert Lot.objects.count() == 1


def test_a_lot_needs_intakes_of_its_own_hub(world: World) -> None:
    other_hub = make_hub(world.collection_partner)
    other_intake = record_intake(
        world, phones=5, hub=other_hub, collector=make_collector(other_hub)
    )

    with pytest.raises(CollectionError):
        seal_lot(world, [other_intake])
    with pytest.raises(CollectionError):
        seal_lot(world, [])
    assert not Lot.objects.exists()


def test_a_collector_of_another_hub_is_refused(world: World) -> None:
    other_hub = make_hub(world.collection_partner)
    stranger = make_collector(other_hub)

    with pytest.raises(CollectionError, match="belongs to another hub"):
        record_intake(world, phones=5, collector=stranger)
    assert not Intake.objects.exists()


def test_a_payment_in_another_currency_is_refused(world: World) -> None:
    with pytest.raises(CollectionError, match="pays collectors in GHS, not EUR"):
        record_intake(world, phones=5, currency="EUR")
    with pytest.raises(CurrencyError, match="not an ISO 4217 currency"):
        record_intake(world, phones=5, currency="XYZ")
    assert not Intake.objects.exists()


def test_an_intake_cannot_be_dated_in_the_future(world: World) -> None:
    with pytest.raises(CollectionError, match="future"):
        record_intake(world, phones=5, collected_on=timezone.localdate() + dt.timedelta(days=1))


def test_only_a_writing_member_of_the_hubs_organisation_records_intake(world: World) -> None:
    other_collection_partner = make_organisation(OrganisationKind.COLLECTION_PARTNER)
    for outsider in (
        world.carrier_user,
        world.partner_admin,
        make_member(other_collection_partner),
        make_member(world.collection_partner, role=Role.VIEWER),
    ):
        with pytest.raises(NotAllowed):
            record_intake(world, phones=5, actor=outsider)
    assert not Intake.objects.exists()


def test_database_refuses_to_change_a_packed_intake(world: World) -> None:
    intake = record_intake(world, phones=5)
    lot = seal_lot(world, [intake])
    with connection.cursor() as cursor:
        for sql in [
            "UPDATE collection_intake SET phones = 500 WHERE id = %s",
            "UPDATE collection_intake SET lot_id = NULL WHERE id = %s",
            "DELETE FROM collection_intake WHERE id = %s",
        ]:
            with (
                pytest.raises(IntegrityError, match=r"packed in a sealed lot|cannot be deleted"),
                transaction.atomic(),
            ):
                cursor.execute(sql, [intake.pk])
    intake.refresh_from_db()
    assert (intake.phones, intake.lot_id) == (5, lot.pk)


def test_database_refuses_an_edit_of_an_open_intake_without_a_new_revision(world: World) -> None:
    intake = record_intake(world, phones=5)
    with connection.cursor() as cursor:
        with pytest.raises(IntegrityError, match="higher revision"), transaction.atomic():
            cursor.execute(
                "UPDATE collection_intake SET price_per_phone = 9 WHERE id = %s", [intake.pk]
            )
        with pytest.raises(IntegrityError, match="cannot be deleted"), transaction.atomic():
            cursor.execute("DELETE FROM collection_intake WHERE id = %s", [intake.pk])


def test_database_refuses_to_change_a_sealed_lot(world: World) -> None:
    lot = seal_lot(world, [record_intake(world, phones=5)])
    with connection.cursor() as cursor:
        for sql in [
            "UPDATE collection_lot SET phones = 6 WHERE id = %s",
            "UPDATE collection_lot SET seal_number = 'OTHER' WHERE id = %s",
            "DELETE FROM collection_lot WHERE id = %s",
        ]:
            with pytest.raises(IntegrityError), transaction.atomic():
                cursor.execute(sql, [lot.pk])


def _pack_by_hand(intake: Intake, phones: int, kg: str) -> None:
    """Insert a lot claiming `phones` and `kg`, pack the intake in it, and check now, not at commit."""
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO collection_lot (hub_id, seal_number, phones, net_weight_kg, sealed_at, "
            "sealed_by_id) VALUES (%s, %s, %s, %s, now(), %s) RETURNING id",
            [intake.hub_id, f"BY-HAND-{intake.pk}", phones, Decimal(kg), intake.recorded_by_id],
        )
        [lot_id] = cursor.fetchone()
        cursor.execute(
            "UPDATE collection_intake SET lot_id = %s WHERE id = %s", [lot_id, intake.pk]
        )
        cursor.execute("SET CONSTRAINTS collection_lot_sums IMMEDIATE")
        cursor.execute("SET CONSTRAINTS collection_lot_sums DEFERRED")


def test_database_refuses_a_lot_whose_totals_are_not_its_intakes(world: World) -> None:
    intake = record_intake(world, phones=5)  # 0.275 kg

    with pytest.raises(IntegrityError, match=r"intakes sum to 5 / 0\.275"), transaction.atomic():
        _pack_by_hand(intake, 50, "2.750")
    with pytest.raises(IntegrityError, match=r"intakes sum to 5 / 0\.275"), transaction.atomic():
        _pack_by_hand(intake, 5, "0.300")

    _pack_by_hand(intake, 5, "0.275")  # the true totals are accepted
    assert Lot.objects.get().phones == 5


def test_an_intake_without_phones_or_weight_is_refused_by_the_action_and_the_database(
    world: World,
) -> None:
    with pytest.raises(CollectionError, match="at least one phone"):
        record_intake(world, phones=0, net_weight_kg=Decimal("1"))
    with pytest.raises(CollectionError, match="more than 0 kg"):
        record_intake(world, phones=3, net_weight_kg=Decimal("0"))
    intake = record_intake(world, phones=3)
    for figures in ({"phones": 0}, {"net_weight_kg": Decimal("0")}, {"price_per_phone": -1}):
        with pytest.raises(IntegrityError), transaction.atomic():
            Intake.objects.filter(pk=intake.pk).update(revision=2, **figures)


def test_database_refuses_an_intake_from_a_collector_of_another_hub(world: World) -> None:
    intake = record_intake(world, phones=5)
    stranger = make_collector(make_hub(world.collection_partner))
    with (
        pytest.raises(IntegrityError, match="belongs to another hub"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(
            "INSERT INTO collection_intake (hub_id, collector_id, collected_on, phones,"
            " net_weight_kg, batteries_removed, price_per_phone, currency, recorded_by_id,"
            " recorded_at) SELECT hub_id, %s, collected_on, phones, net_weight_kg,"
            " batteries_removed, price_per_phone, currency, recorded_by_id, recorded_at"
            " FROM collection_intake WHERE id = %s",
            [stranger.pk, intake.pk],
        )
    assert Intake.objects.count() == 1


def test_database_refuses_an_intake_paid_in_another_currency_than_its_hubs(world: World) -> None:
    intake = record_intake(world, phones=5)
    with (
        pytest.raises(IntegrityError, match="another currency"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(
            "INSERT INTO collection_intake (hub_id, collector_id, collected_on, phones,"
            " net_weight_kg, batteries_removed, price_per_phone, currency, recorded_by_id,"
            " recorded_at) SELECT hub_id, collector_id, collected_on, phones, net_weight_kg,"
            " batteries_removed, price_per_phone, 'EUR', recorded_by_id, recorded_at"
            " FROM collection_intake WHERE id = %s",
            [intake.pk],
        )
    assert Intake.objects.count() == 1


def test_database_refuses_packing_an_intake_into_another_hubs_lot(world: World) -> None:
    other_hub = make_hub(world.collection_partner)
    foreign = record_intake(world, phones=5, hub=other_hub, collector=make_collector(other_hub))
    lot = seal_lot(world, [record_intake(world, phones=5)])
    with (
        pytest.raises(IntegrityError, match="lot of another hub"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(
            "UPDATE collection_intake SET lot_id = %s WHERE id = %s", [lot.pk, foreign.pk]
        )
    foreign.refresh_from_db()
    assert foreign.lot_id is None


def test_database_refuses_a_lot_in_a_consignment_from_another_hub(world: World) -> None:
    consignment = draft_consignment(world)
    other_hub = make_hub(world.collection_partner)
    intake = record_intake(world, phones=5, hub=other_hub, collector=make_collector(other_hub))
    lot = actions.seal_lot(
        actor=world.hub_user, hub=other_hub, seal_number="OTHER-1", intakes=[intake]
    )
    with pytest.raises(IntegrityError, match="consignment from another hub"), transaction.atomic():
        Lot.objects.filter(pk=lot.pk).update(consignment=consignment)
    lot.refresh_from_db()
    assert lot.consignment_id is None
