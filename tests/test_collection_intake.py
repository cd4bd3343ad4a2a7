"""Intake records: edited only while open, reversed and corrected once paid or packed, photos
kept under their hash, phone and battery lots that reconcile with their intakes."""

from __future__ import annotations

import datetime as dt
import hashlib
from decimal import Decimal

import pytest
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from factories import (
    World,
    draft_consignment,
    make_member,
    make_organisation,
    operator_actor,
    record_intake,
    seal_lot,
)
from oneforone.accounts.models import OrganisationKind
from oneforone.accounts.permissions import NotAllowed
from oneforone.collection import actions
from oneforone.collection.actions import CollectionError
from oneforone.collection.models import Intake, IntakeImei, LotKind, Payment, PaymentMethod, Photo
from oneforone.shipments import actions as shipment_actions
from oneforone.shipments.actions import CustodyError

pytestmark = pytest.mark.django_db

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 40
JPEG = b"\xff\xd8\xff\xe0" + b"\x01" * 40
IMEI_A = "356938035643809"
IMEI_B = "490154203237518"


@pytest.fixture(autouse=True)
def _photos_in_a_temporary_folder(settings: pytest.FixtureRequest, tmp_path: object) -> None:
    settings.MEDIA_ROOT = str(tmp_path)  # type: ignore[attr-defined]


def as_if_committed() -> None:
    """Run the checks a commit would (the lot sums are checked at commit), so that what follows
    in the test is a later transaction, as a reversal in production is."""
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")


def sealed(world: World, intakes: list[Intake]) -> actions.Lot:
    lot = seal_lot(world, intakes)
    as_if_committed()
    return lot


def revision_of(world: World, intake: Intake, revision: int, **changes: object) -> Intake:
    figures: dict[str, object] = {
        "actor": world.hub_user,
        "intake": intake,
        "revision": revision,
        "collector": intake.collector,
        "collected_at": intake.collected_at,
        "phones": intake.phones,
        "net_weight_kg": intake.net_weight_kg,
        "price_per_phone": intake.price_per_phone,
        "batteries_removed": intake.batteries_removed,
    }
    figures.update(changes)
    return actions.revise_intake(**figures)  # type: ignore[arg-type]


def battery_lot(world: World, intakes: list[Intake]) -> actions.Lot:
    lot = actions.seal_lot(
        actor=world.hub_user,
        hub=world.hub,
        seal_number=f"BAT-{intakes[0].pk}",
        intakes=intakes,
        kind=LotKind.BATTERIES,
    )
    as_if_committed()
    return lot


# --- revisions ------------------------------------------------------------------------------------


def test_an_open_record_takes_a_higher_revision_with_all_its_figures(world: World) -> None:
    intake = record_intake(world, phones=10, imeis=[IMEI_A])

    revised = revision_of(
        world,
        intake,
        2,
        phones=12,
        net_weight_kg=Decimal("0.700"),
        imeis=[IMEI_B],
        condition="board_missing",
    )

    revised.refresh_from_db()
    assert (revised.revision, revised.phones, revised.net_weight_kg) == (2, 12, Decimal("0.700"))
    assert revised.condition == "board_missing"
    assert revised.amount_paid == Decimal("6.0000")
    assert list(revised.imeis.values_list("imei", flat=True)) == [IMEI_B]


def test_an_edit_without_a_higher_revision_is_refused(world: World) -> None:
    intake = record_intake(world, phones=10)

    with pytest.raises(CollectionError, match="revision above 1"):
        revision_of(world, intake, 1, phones=11)


def test_the_database_refuses_an_edit_that_keeps_the_revision(world: World) -> None:
    intake = record_intake(world, phones=10)

    with pytest.raises(IntegrityError, match="higher revision"), transaction.atomic():
        Intake.objects.filter(pk=intake.pk).update(phones=11)


def test_a_paid_record_is_not_edited_but_corrected(world: World) -> None:
    intake = record_intake(world, phones=10, paid_with=PaymentMethod.CASH)

    with pytest.raises(CollectionError, match="has been paid; record a correction"):
        revision_of(world, intake, 2, phones=11)


def test_a_packed_record_is_not_edited_but_corrected(world: World) -> None:
    intake = record_intake(world, phones=10)
    lot = seal_lot(world, [intake])

    with pytest.raises(CollectionError, match=f"packed in lot {lot.seal_number}"):
        revision_of(world, intake, 2, phones=11)


def test_a_revision_is_checked_like_a_new_record(world: World) -> None:
    intake = record_intake(world, phones=10)

    with pytest.raises(CollectionError, match="at least one phone"):
        revision_of(world, intake, 2, phones=0)
    with pytest.raises(CollectionError, match="not a valid IMEI"):
        revision_of(world, intake, 2, imeis=["123"])
    with pytest.raises(TypeError, match="never floats"):
        revision_of(world, intake, 2, net_weight_kg=0.5)


def test_a_revision_may_pay_the_record(world: World) -> None:
    intake = record_intake(world, phones=10)

    revision_of(
        world, intake, 2, paid_with=PaymentMethod.MOBILE_MONEY, payment_reference="MM-123456"
    )

    payment = Payment.objects.get(intake=intake)
    assert (payment.amount, payment.method, payment.reference) == (
        Decimal("5.0000"),
        "mobile_money",
        "MM-123456",
    )


def test_only_the_hubs_people_revise_its_records(world: World) -> None:
    intake = record_intake(world, phones=10)
    stranger = make_member(make_organisation(OrganisationKind.COLLECTION_PARTNER))

    with pytest.raises(NotAllowed):
        revision_of(world, intake, 2, actor=stranger)


# --- reversals and corrections --------------------------------------------------------------------


def test_a_reversal_negates_the_record_and_sits_in_its_lots(world: World) -> None:
    intake = record_intake(world, phones=40, battery_weight_kg=Decimal("1.800"))
    other = record_intake(world, phones=20, battery_weight_kg=Decimal("0.900"))
    phones_lot = sealed(world, [intake, other])
    batteries = battery_lot(world, [intake, other])

    reversal = actions.reverse_intake(actor=world.hub_user, intake=intake, reason="counted twice")

    assert (reversal.phones, reversal.net_weight_kg) == (-40, -intake.net_weight_kg)
    assert (reversal.batteries_removed, reversal.battery_weight_kg) == (-40, Decimal("-1.800"))
    assert (reversal.lot, reversal.battery_lot) == (phones_lot, batteries)
    assert reversal.reverses == intake
    assert reversal.client_uuid == actions.reversal_uuid(intake)
    phones_lot.refresh_from_db()
    assert phones_lot.phones == 60  # the seal's figures stay as sealed


def test_a_lot_reconciles_its_seal_with_its_reversals(world: World) -> None:
    intake = record_intake(world, phones=40)
    other = record_intake(world, phones=20)
    lot = sealed(world, [intake, other])
    assert actions.lot_reconciliation(lot).explanation.endswith("add up to the same figures.")

    actions.reverse_intake(actor=world.hub_user, intake=intake, reason="counted twice")

    reconciliation = actions.lot_reconciliation(lot)
    assert reconciliation.reconciles
    assert (reconciliation.sealed_count, reconciliation.current_count) == (60, 20)
    assert reconciliation.reversed_count == -40
    assert "1 reversing record took out 40 phones" in reconciliation.explanation
    assert "now counts 20 phones" in reconciliation.explanation


def test_a_battery_lot_reconciles_in_batteries(world: World) -> None:
    intake = record_intake(world, phones=40, batteries_removed=12, battery_weight_kg=Decimal("0.5"))
    lot = battery_lot(world, [intake])
    actions.reverse_intake(actor=world.hub_user, intake=intake, reason="wrong collector")

    reconciliation = actions.lot_reconciliation(lot)

    assert reconciliation.unit == "batteries"
    assert (reconciliation.sealed_count, reconciliation.current_count) == (12, 0)
    assert reconciliation.reconciles


def test_a_record_is_reversed_once_and_a_reversal_never(world: World) -> None:
    intake = record_intake(world, phones=10)
    reversal = actions.reverse_intake(actor=world.hub_user, intake=intake, reason="test sale")

    with pytest.raises(CollectionError, match="reversed already"):
        actions.reverse_intake(actor=world.hub_user, intake=intake, reason="again")
    with pytest.raises(CollectionError, match="itself a reversal"):
        actions.reverse_intake(actor=world.hub_user, intake=reversal, reason="undo")


def test_a_reversal_needs_a_reason(world: World) -> None:
    intake = record_intake(world, phones=10)

    with pytest.raises(CollectionError, match="say why"):
        actions.reverse_intake(actor=world.hub_user, intake=intake, reason="  ")


def test_the_database_refuses_a_reversal_that_does_not_negate_the_original(world: World) -> None:
    intake = record_intake(world, phones=10)

    with pytest.raises(IntegrityError, match="must negate its figures"), transaction.atomic():
        Intake.objects.create(
            hub=intake.hub,
            collector=intake.collector,
            collected_on=intake.collected_on,
            collected_at=intake.collected_at,
            phones=-9,
            net_weight_kg=-intake.net_weight_kg,
            reverses=intake,
            price_per_phone=intake.price_per_phone,
            currency=intake.currency,
            recorded_by=world.hub_user,
            recorded_at=timezone.now(),
        )


def test_a_reversed_record_can_no_longer_change(world: World) -> None:
    intake = record_intake(world, phones=10)
    actions.reverse_intake(actor=world.hub_user, intake=intake, reason="test sale")

    with pytest.raises(CollectionError, match="has been reversed"):
        revision_of(world, intake, 2, phones=11)


def test_a_dispatched_lot_takes_no_reversal(world: World) -> None:
    consignment = draft_consignment(world)
    shipment_actions.sign_dispatch(actor=world.hub_user, consignment=consignment)
    intake = consignment.lots.get().intakes.first()
    assert intake is not None

    with pytest.raises(CollectionError, match="has left the hub"):
        actions.reverse_intake(actor=world.hub_user, intake=intake, reason="late doubt")
    assert not Intake.objects.filter(reverses=intake).exists()


def test_operator_staff_may_reverse_a_partner_may_not(world: World) -> None:
    first = record_intake(world, phones=10)
    second = record_intake(world, phones=10)

    with pytest.raises(NotAllowed):
        actions.reverse_intake(actor=world.partner_admin, intake=first, reason="not ours")
    reversal = actions.reverse_intake(
        actor=operator_actor(), intake=second, reason="flag: weight far from the norm"
    )
    assert reversal.reverses == second


def test_a_correction_reverses_and_records_the_right_figures_at_once(world: World) -> None:
    intake = record_intake(world, phones=40, paid_with=PaymentMethod.CASH)
    lot = sealed(world, [intake])

    correction = actions.correct_intake(
        actor=world.hub_user,
        intake=intake,
        reason="miscounted: 38 phones",
        phones=38,
        net_weight_kg=Decimal("2.090"),
        price_per_phone=intake.price_per_phone,
        batteries_removed=38,
    )

    corrected = correction.corrected
    assert correction.reversal.lot == lot
    assert corrected.lot is None
    assert corrected.phones == 38
    assert corrected.collected_at == intake.collected_at
    net = sum(Intake.objects.filter(collector=world.collector).values_list("phones", flat=True))
    assert net == 38
    # the money side settles the difference; the original payment stays in the ledger
    assert Payment.objects.get().amount == Decimal("20.0000")


def test_a_correction_that_fails_writes_nothing(world: World) -> None:
    intake = record_intake(world, phones=40)

    with pytest.raises(CollectionError, match="at least one phone"):
        actions.correct_intake(
            actor=world.hub_user,
            intake=intake,
            reason="miscounted",
            phones=0,
            net_weight_kg=Decimal("1"),
            price_per_phone=intake.price_per_phone,
        )
    assert Intake.objects.count() == 1


# --- photos ---------------------------------------------------------------------------------------


def test_a_photo_is_stored_once_under_its_sha256(world: World) -> None:
    first = actions.store_photo(
        actor=world.hub_user, hub=world.hub, data=PNG, content_type="image/png"
    )
    again = actions.store_photo(
        actor=world.hub_user, hub=world.hub, data=PNG, content_type="image/png"
    )

    assert first.sha256 == again.sha256 == hashlib.sha256(PNG).hexdigest()
    assert Photo.objects.count() == 1
    with first.file.open("rb") as stored:
        assert stored.read() == PNG


@pytest.mark.parametrize(
    ("data", "content_type", "error"),
    [
        (PNG, "application/pdf", "JPEG, PNG or WebP"),
        (b"", "image/png", "empty"),
        (PNG, "image/jpeg", "not a image/jpeg image"),
        (JPEG + b"\x00" * actions.MAX_PHOTO_BYTES, "image/jpeg", "lower resolution"),
    ],
)
def test_a_photo_that_is_not_a_small_image_is_refused(
    world: World, data: bytes, content_type: str, error: str
) -> None:
    with pytest.raises(CollectionError, match=error):
        actions.store_photo(
            actor=world.hub_user, hub=world.hub, data=data, content_type=content_type
        )
    assert not Photo.objects.exists()


def test_only_the_hubs_people_store_its_photos(world: World) -> None:
    with pytest.raises(NotAllowed):
        actions.store_photo(
            actor=world.partner_admin, hub=world.hub, data=JPEG, content_type="image/jpeg"
        )


# --- battery lots ---------------------------------------------------------------------------------


def test_batteries_travel_in_their_own_lot(world: World) -> None:
    intakes = [
        record_intake(world, phones=40, batteries_removed=10, battery_weight_kg=Decimal("0.450")),
        record_intake(world, phones=20, batteries_removed=5, battery_weight_kg=Decimal("0.230")),
    ]
    phones = seal_lot(world, intakes)
    batteries = battery_lot(world, intakes)

    assert (phones.kind, phones.phones, phones.batteries) == ("phones", 60, 0)
    assert (batteries.kind, batteries.phones, batteries.batteries) == ("batteries", 0, 15)
    assert batteries.net_weight_kg == Decimal("0.680")
    for intake in intakes:
        intake.refresh_from_db()
        assert (intake.lot, intake.battery_lot) == (phones, batteries)


def test_intakes_without_weighed_batteries_make_no_battery_lot(world: World) -> None:
    intake = record_intake(world, phones=40, batteries_removed=0)

    with pytest.raises(CollectionError, match="no batteries with a weight"):
        battery_lot(world, [intake])


def test_the_database_keeps_phones_out_of_battery_lots(world: World) -> None:
    intake = record_intake(world, phones=4, batteries_removed=4, battery_weight_kg=Decimal("0.2"))
    batteries = battery_lot(world, [intake])
    later = record_intake(world, phones=4)

    with pytest.raises(IntegrityError, match="into a battery lot"), transaction.atomic():
        Intake.objects.filter(pk=later.pk).update(lot=batteries)


def test_a_battery_weight_needs_a_battery_count(world: World) -> None:
    with pytest.raises(CollectionError, match="number of batteries"):
        record_intake(world, phones=4, batteries_removed=0, battery_weight_kg=Decimal("0.2"))


def test_a_consignment_carries_phone_lots_only(world: World) -> None:
    intake = record_intake(world, phones=4, batteries_removed=4, battery_weight_kg=Decimal("0.2"))
    batteries = battery_lot(world, [intake])

    with pytest.raises(CustodyError, match="holds batteries"):
        shipment_actions.create_consignment(
            actor=world.hub_user,
            reference="CONS-BAT",
            hub=world.hub,
            lots=[batteries],
            carrier=world.carrier,
            recycler=world.recycler,
        )
    batteries.refresh_from_db()
    assert batteries.consignment is None


def test_an_imei_read_twice_in_one_record_is_kept_once(world: World) -> None:
    intake = record_intake(world, phones=2, imeis=[IMEI_A, f"{IMEI_A[:8]}-{IMEI_A[8:]}"])

    assert IntakeImei.objects.filter(intake=intake).count() == 1


def test_a_record_from_the_future_is_refused(world: World) -> None:
    with pytest.raises(CollectionError, match="in the future"):
        record_intake(
            world,
            phones=2,
            collected_on=None,
            collected_at=timezone.now() + dt.timedelta(hours=1),
        )
