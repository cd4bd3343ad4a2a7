"""Movement documents numbered n/N, carrier legs, consignee receipt, facility decision, batteries."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from factories import (
    World,
    add_sea_carrier,
    battery_consignment,
    consent_everything,
    draft_consignment,
    ensure_categories,
    in_transit_consignment,
    make_member,
    make_notification,
    make_organisation,
    make_world,
    notified_consignment,
    race,
    record_intake,
    seal_lot,
)
from oneforone.accounts.models import OrganisationKind
from oneforone.accounts.permissions import NotAllowed
from oneforone.collection import actions as collection_actions
from oneforone.recycling import actions as recycling_actions
from oneforone.recycling.models import FacilityDecision
from oneforone.registry.models import IssuanceBatch
from oneforone.shipments import actions as shipment_actions
from oneforone.shipments import movement_actions
from oneforone.shipments.custody import CustodyError, verify_signatures
from oneforone.shipments.models import (
    CarrierLeg,
    Code,
    CodeList,
    Consignment,
    ConsignmentState,
    CustodySignature,
    MovementDocument,
    Notification,
    Stream,
)

TODAY = timezone.localdate


def dispatch(world: World, consignment: Consignment, **kwargs: object) -> Consignment:
    return shipment_actions.sign_dispatch(
        actor=world.hub_user, consignment=consignment, container_number="MSCU1234565", **kwargs
    )


def pickup(world: World, consignment: Consignment) -> Consignment:
    return shipment_actions.sign_pickup(
        actor=world.carrier_user, consignment=consignment, vehicle="GR-1234-24"
    )


def receipt(world: World, consignment: Consignment, kg: str = "5.5") -> object:
    return movement_actions.sign_consignee_receipt(
        actor=world.recycler_user,
        consignment=consignment,
        received_on=TODAY(),
        quantity_kg=Decimal(kg),
    )


def receive(world: World, consignment: Consignment, **kwargs: object) -> object:
    return recycling_actions.record_reception(
        actor=world.recycler_user,
        consignment=consignment,
        counted_phones=100,
        net_weight_kg=Decimal("5.5"),
        **kwargs,  # type: ignore[arg-type]
    )


# Movement document at dispatch ---------------------------------------------------------------


def test_dispatch_under_a_notification_issues_movement_document_one_of_n(world: World) -> None:
    consignment = dispatch(world, notified_consignment(world))

    document = MovementDocument.objects.get(consignment=consignment)
    assert (document.serial, document.notification.intended_shipments) == (1, 4)
    assert document.actual_quantity_kg == consignment.net_weight_kg_dispatched
    assert document.actual_departure == TODAY()
    assert (document.packaging_type, document.packages) == ("4", 1)
    sealed = consignment.signatures.get(step="dispatch").sealed_fields
    assert sealed["movement_document"] == "1/4"
    assert (sealed["packaging_type"], sealed["packages"]) == ("4", 1)


def test_serials_count_up_to_the_intended_number_of_shipments_then_refuse(world: World) -> None:
    notification = make_notification(world, intended_shipments=2)
    first = dispatch(world, notified_consignment(world, notification), packages=3)
    second = dispatch(
        world,
        notified_consignment(world, notification),
        departure_on=TODAY() - dt.timedelta(days=1),
    )
    third = notified_consignment(world, notification)

    with pytest.raises(CustodyError, match="the shipment ceiling is reached: 2 of 2 shipments"):
        dispatch(world, third)

    assert first.movement_document.serial == 1
    assert first.movement_document.packages == 3
    assert second.movement_document.serial == 2
    assert Consignment.objects.get(pk=third.pk).state == ConsignmentState.DRAFT


def test_a_packaging_type_the_notification_does_not_name_is_refused(world: World) -> None:
    consignment = notified_consignment(world)

    with pytest.raises(CustodyError, match="packaging type 1A is not notified; use one of 4"):
        dispatch(world, consignment, packaging_type="1A")

    assert not MovementDocument.objects.exists()


def test_the_database_refuses_a_serial_taken_twice(world: World) -> None:
    first = dispatch(world, notified_consignment(world))
    document = first.movement_document
    other = draft_consignment(world)

    with pytest.raises(IntegrityError, match="movement_document_serial_once"), transaction.atomic():
        MovementDocument.objects.create(
            consignment=other,
            notification=document.notification,
            serial=1,
            actual_quantity_kg=Decimal(1),
            actual_departure=TODAY(),
            packaging_type="4",
            packages=1,
            created_at=timezone.now(),
            created_by=world.hub_user,
        )


def test_a_dispatch_row_locks_its_notification_once(world: World) -> None:
    consignment = notified_consignment(world)
    table = Notification._meta.db_table

    with CaptureQueriesContext(connection) as captured:
        dispatch(world, consignment)

    locks = [
        q["sql"]
        for q in captured.captured_queries
        if "FOR UPDATE" in q["sql"] and f'FROM "{table}"' in q["sql"]
    ]
    assert len(locks) == 1, locks
    assert len(captured.captured_queries) <= 60


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_dispatches_under_one_notification_get_distinct_serials() -> None:
    ensure_categories()
    world = make_world()
    notification = make_notification(world)
    a, b = (notified_consignment(world, notification) for _ in range(2))

    outcomes = race({"a": lambda: dispatch(world, a), "b": lambda: dispatch(world, b)})

    assert all(isinstance(o, Consignment) for o in outcomes.values()), outcomes
    serials = sorted(MovementDocument.objects.values_list("serial", flat=True))
    assert serials == [1, 2]


# Carrier legs ------------------------------------------------------------------------------------


def test_pickup_is_leg_one_and_the_next_notified_carrier_signs_leg_two(world: World) -> None:
    notification = make_notification(world)
    shipping_line, line_user = add_sea_carrier(world, notification)
    consignment = pickup(world, dispatch(world, notified_consignment(world, notification)))

    leg = movement_actions.sign_carrier_handover(
        actor=line_user,
        consignment=consignment,
        vehicle="MSC Aurora 612W",
        means_of_transport="s",
        transferred_on=TODAY(),
    )

    legs = list(CarrierLeg.objects.filter(consignment=consignment).order_by("sequence"))
    assert [(x.sequence, x.carrier_id, x.means_of_transport) for x in legs] == [
        (1, world.carrier.pk, "R"),
        (2, shipping_line.pk, "S"),
    ]
    assert leg.movement_document == consignment.movement_document
    assert Consignment.objects.get(pk=consignment.pk).state == ConsignmentState.IN_TRANSIT
    assert leg.signature.step == "handover"
    assert leg.signature.leg == 2
    assert leg.signature.sealed_fields["vehicle_or_vessel"] == "MSC Aurora 612W"
    assert verify_signatures(consignment) == []


def test_a_carrier_that_is_not_next_on_the_notification_cannot_sign_a_handover(
    world: World,
) -> None:
    notification = make_notification(world)
    consignment = pickup(world, dispatch(world, notified_consignment(world, notification)))

    with pytest.raises(CustodyError, match="no further carrier is notified"):
        movement_actions.sign_carrier_handover(
            actor=world.carrier_user,
            consignment=consignment,
            vehicle="truck 2",
            means_of_transport="R",
            transferred_on=TODAY(),
        )
    _, line_user = add_sea_carrier(world, notification)
    with pytest.raises(NotAllowed):
        movement_actions.sign_carrier_handover(
            actor=world.carrier_user,
            consignment=consignment,
            vehicle="truck 2",
            means_of_transport="R",
            transferred_on=TODAY(),
        )
    with pytest.raises(CustodyError, match="means of transport X is not"):
        movement_actions.sign_carrier_handover(
            actor=line_user,
            consignment=consignment,
            vehicle="MSC Aurora",
            means_of_transport="X",
            transferred_on=TODAY(),
        )
    assert CarrierLeg.objects.filter(consignment=consignment).count() == 1


def test_a_legs_means_of_transport_is_checked_against_the_dated_code_list_on_its_date(
    world: World,
) -> None:
    notification = make_notification(world)
    consignment = pickup(world, dispatch(world, notified_consignment(world, notification)))
    _, line_user = add_sea_carrier(world, notification)
    Code.objects.create(
        code_list=CodeList.TRANSPORT,
        code="P",
        label="Pipeline",
        valid_to=TODAY() - dt.timedelta(days=1),
        replaced_by="R",
        source="test",
    )

    with pytest.raises(CustodyError, match=r"P \(Means of transport\) was valid until .* use R"):
        movement_actions.sign_carrier_handover(
            actor=line_user,
            consignment=consignment,
            vehicle="MSC Aurora",
            means_of_transport="P",
            transferred_on=TODAY(),
        )
    assert CarrierLeg.objects.filter(consignment=consignment).count() == 1

    # The list, not the code, decides: an entry valid on the leg's date is accepted.
    Code.objects.create(
        code_list=CodeList.TRANSPORT, code="P", label="Pipeline", valid_from=TODAY(), source="t"
    )
    leg = movement_actions.sign_carrier_handover(
        actor=line_user,
        consignment=consignment,
        vehicle="Line 7",
        means_of_transport="p",
        transferred_on=TODAY(),
    )
    assert leg.means_of_transport == "P"


def test_a_pickup_by_a_carrier_the_notification_does_not_name_is_refused(world: World) -> None:
    notification = make_notification(world)
    consignment = dispatch(world, notified_consignment(world, notification))
    # The notified carrier changes after the dispatch (an accepted change of carrier).
    other_carrier = add_sea_carrier(world, make_notification(world))[0]
    notification.carriers.update(carrier=other_carrier)

    with pytest.raises(CustodyError, match="is not a carrier of notification"):
        pickup(world, consignment)


def test_handover_steps_repeat_per_leg_but_one_leg_is_signed_once(world: World) -> None:
    consignment = in_transit_consignment(world)
    pickup_signature = consignment.signatures.get(step="pickup")

    with pytest.raises(IntegrityError, match="custody_leg_only_on_handover"), transaction.atomic():
        CustodySignature.objects.create(
            consignment=consignment,
            step="pickup",
            leg=3,
            organisation=world.carrier,
            signed_by=world.carrier_user,
            signed_at=timezone.now(),
            sealed_fields={},
            previous_hash=pickup_signature.hash,
            hash="0" * 64,
        )
    with pytest.raises(IntegrityError, match="custody_step_once_per_leg"), transaction.atomic():
        CustodySignature.objects.create(
            consignment=consignment,
            step="pickup",
            organisation=world.carrier,
            signed_by=world.carrier_user,
            signed_at=timezone.now(),
            sealed_fields={},
            previous_hash=pickup_signature.hash,
            hash="0" * 64,
        )


# Receptions and completion -------------------------------------------------------------------


def test_another_consignee_signs_its_receipt_before_the_facility_decides(world: World) -> None:
    importer = make_organisation(OrganisationKind.RECYCLER, country="BE")
    importer_user = make_member(importer)
    notification = make_notification(world, consignee=importer)
    consignment = pickup(world, dispatch(world, notified_consignment(world, notification)))

    with pytest.raises(CustodyError, match="signs its receipt of the shipment before"):
        receive(world, consignment)
    with pytest.raises(NotAllowed):
        receipt(world, consignment)
    movement_actions.sign_consignee_receipt(
        actor=importer_user,
        consignment=consignment,
        received_on=TODAY(),
        quantity_kg=Decimal("5.5"),
    )
    with pytest.raises(CustodyError, match="already signed its receipt"):
        movement_actions.sign_consignee_receipt(
            actor=importer_user,
            consignment=consignment,
            received_on=TODAY(),
            quantity_kg=Decimal("5.5"),
        )
    reception = receive(world, consignment)

    assert Consignment.objects.get(pk=consignment.pk).state == ConsignmentState.RECEIVED
    assert reception.decision == FacilityDecision.ACCEPTED  # type: ignore[attr-defined]
    assert consignment.signatures.get(step="receipt").organisation == importer
    assert consignment.signatures.get(step="receipt").sealed_fields["quantity_kg"] == "5.5"


def test_a_facility_that_is_the_consignee_signs_both_receipts_at_reception(world: World) -> None:
    consignment = pickup(world, dispatch(world, notified_consignment(world)))

    receive(world, consignment)

    steps = list(consignment.signatures.order_by("id").values_list("step", "organisation"))
    assert steps[-2:] == [("receipt", world.recycler.pk), ("reception", world.recycler.pk)]
    assert consignment.consignee_receipt.quantity_kg == Decimal("5.5")
    assert verify_signatures(consignment) == []


def test_a_partially_refused_shipment_issues_units_for_the_accepted_phones_only(
    world: World,
) -> None:
    consignment = in_transit_consignment(world)
    receive(
        world,
        consignment,
        decision=FacilityDecision.PARTIALLY_REFUSED,
        refused_phones=12,
        refused_weight_kg=Decimal("0.9"),
        refusal_reason="12 phones still hold their batteries",
    )
    recycling_actions.complete_treatment(
        actor=world.recycler_user, consignment=consignment, completed_on=TODAY()
    )

    batch = IssuanceBatch.objects.get(consignment=consignment)
    assert batch.quantity == 88
    sealed = consignment.signatures.get(step="reception").sealed_fields
    assert (sealed["decision"], sealed["refused_phones"]) == ("partially_refused", 12)


def test_a_refused_shipment_is_not_treated_and_issues_nothing(world: World) -> None:
    consignment = in_transit_consignment(world)
    reception = receive(
        world, consignment, decision=FacilityDecision.REFUSED, refusal_reason="wrong waste"
    )
    assert reception.refused_phones == 100  # type: ignore[attr-defined]

    with pytest.raises(CustodyError, match="the facility refused this shipment"):
        recycling_actions.complete_treatment(
            actor=world.recycler_user, consignment=consignment, completed_on=TODAY()
        )
    assert not IssuanceBatch.objects.filter(consignment=consignment).exists()


@pytest.mark.parametrize(
    ("decision", "kwargs", "message"),
    [
        ("partially_refused", {"refused_phones": 5}, "give the reason"),
        (
            "partially_refused",
            {"refused_phones": 100, "refused_weight_kg": Decimal(1), "refusal_reason": "x"},
            "not none or all",
        ),
        ("accepted", {"refused_phones": 1}, "an accepted shipment refuses nothing"),
        ("refused", {}, "give the reason"),
    ],
)
def test_a_facility_decision_must_be_explained(
    world: World, decision: str, kwargs: dict[str, object], message: str
) -> None:
    consignment = in_transit_consignment(world)

    with pytest.raises(CustodyError, match=message):
        receive(world, consignment, decision=decision, **kwargs)


# Batteries ---------------------------------------------------------------------------------------


def test_batteries_travel_as_their_own_consignment_under_a_batteries_notification(
    world: World,
) -> None:
    consignment = battery_consignment(world)
    assert (consignment.stream, consignment.un_number) == (Stream.BATTERIES, "UN3480")
    assert (consignment.dangerous_goods_class, consignment.packing_instruction) == ("9", "P909")

    with pytest.raises(CustodyError, match="is under no notification"):
        dispatch(world, consignment)
    phones_notification = make_notification(world)
    Consignment.objects.filter(pk=consignment.pk).update(notification=phones_notification)
    with pytest.raises(CustodyError, match="covers Discarded phones without batteries"):
        dispatch(world, consignment)
    batteries = make_notification(world, stream=Stream.BATTERIES, un_number="UN3480")
    consent_everything(world, batteries)
    Consignment.objects.filter(pk=consignment.pk).update(notification=batteries)
    dispatched = dispatch(world, consignment)

    assert dispatched.phones_dispatched == 0
    sealed = dispatched.signatures.get(step="dispatch").sealed_fields
    assert (sealed["un_number"], sealed["packing_instruction"]) == ("UN3480", "P909")


def test_damaged_batteries_take_p908_or_lp904(world: World) -> None:
    assert battery_consignment(world, damaged=True).packing_instruction == "P908"
    with pytest.raises(CustodyError, match="intact batteries for recycling are packed under P909"):
        movement_actions.battery_fields(
            un_number="UN3480", packing_instruction="P908", damaged=False
        )
    with pytest.raises(CustodyError, match="not a lithium battery entry"):
        movement_actions.battery_fields(un_number="UN1234", packing_instruction="", damaged=False)


def test_phone_and_battery_lots_do_not_mix(world: World) -> None:
    intake = record_intake(world, phones=30, battery_weight_kg=Decimal("1.2"))
    phones = seal_lot(world, [intake])
    batteries = collection_actions.seal_lot(
        actor=world.hub_user,
        hub=world.hub,
        seal_number="BAT-MIX",
        intakes=[intake],
        kind="batteries",
    )

    for stream in ("phones", "batteries"):
        with pytest.raises(CustodyError, match=r"BAT-MIX|SEAL-"):
            shipment_actions.create_consignment(
                actor=world.hub_user,
                reference=f"MIX-{stream}",
                hub=world.hub,
                lots=[phones, batteries],
                carrier=world.carrier,
                recycler=world.recycler,
                stream=stream,
                un_number="UN3480",
                packing_instruction="P909",
            )


@pytest.mark.parametrize(
    "change",
    [
        {"un_number": "UN1234"},
        {"dangerous_goods_class": "8"},
        {"packing_instruction": "P908"},
        {"stream": "phones"},
    ],
)
def test_the_database_refuses_incomplete_dangerous_goods_data(
    world: World, change: dict[str, str]
) -> None:
    consignment = battery_consignment(world)

    with (
        pytest.raises(IntegrityError, match="consignment_dangerous_goods_complete"),
        transaction.atomic(),
    ):
        Consignment.objects.filter(pk=consignment.pk).update(**change)
