"""Battery consignments are received by weight and packages, decided on in kg, completed, and
never issue units; the receipt and certificate deadlines apply as for phones."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from factories import (
    World,
    battery_consignment,
    consent_everything,
    in_transit_consignment,
    make_notification,
)
from oneforone.recycling import actions as recycling_actions
from oneforone.recycling.models import FacilityDecision, Reception
from oneforone.registry.models import IssuanceBatch
from oneforone.shipments import actions as shipment_actions
from oneforone.shipments.custody import CustodyError
from oneforone.shipments.deadline_models import DeadlineKind
from oneforone.shipments.deadlines import compute_deadlines
from oneforone.shipments.models import (
    ConsigneeReceipt,
    Consignment,
    ConsignmentState,
    Notification,
    Stream,
)

pytestmark = pytest.mark.django_db


def batteries_in_transit(world: World) -> Consignment:
    """A battery consignment dispatched (2 packages) under a consented batteries notification
    and picked up."""
    consignment = battery_consignment(world)
    notification = make_notification(world, stream=Stream.BATTERIES, un_number="UN3480")
    consent_everything(world, notification)
    Consignment.objects.filter(pk=consignment.pk).update(notification=notification)
    consignment.refresh_from_db()
    shipment_actions.sign_dispatch(
        actor=world.hub_user, consignment=consignment, container_number="MSCU1234565", packages=2
    )
    return shipment_actions.sign_pickup(
        actor=world.carrier_user, consignment=consignment, vehicle="GR-1234-24"
    )


def receive(world: World, consignment: Consignment, **kwargs: object) -> Reception:
    values: dict[str, object] = {"net_weight_kg": Decimal("1.800"), "packages": 2}
    values.update(kwargs)
    return recycling_actions.record_reception(
        actor=world.recycler_user,
        consignment=consignment,
        **values,  # type: ignore[arg-type]
    )


def test_batteries_are_received_by_weight_and_packages_then_completed_without_units(
    world: World,
) -> None:
    consignment = batteries_in_transit(world)

    reception = receive(world, consignment)

    assert (reception.stream, reception.counted_phones, reception.packages) == (
        Stream.BATTERIES,
        None,
        2,
    )
    assert reception.flags == []
    # The facility is the consignee: its reception signed the consignee receipt too.
    assert ConsigneeReceipt.objects.get(consignment=consignment).quantity_kg == Decimal("1.800")
    sealed = consignment.signatures.get(step="reception").sealed_fields
    assert "counted_phones" not in sealed
    assert sealed["packages"] == 2
    recycling_actions.complete_treatment(
        actor=world.recycler_user, consignment=consignment, completed_on=timezone.localdate()
    )
    consignment.refresh_from_db()
    assert consignment.state == ConsignmentState.TREATED
    assert not IssuanceBatch.objects.filter(consignment=consignment).exists()


def test_a_battery_reception_out_of_weight_or_packages_is_flagged(world: World) -> None:
    reception = receive(
        world, batteries_in_transit(world), net_weight_kg=Decimal("1.500"), packages=3
    )

    assert [flag["code"] for flag in reception.flags] == ["weight_differs", "packages_differ"]
    assert reception.flag_texts == [
        "weight differs from dispatch by -0.300 kg (-16.7%; tolerance ±1.0%)",
        "3 packages received, 2 dispatched",
    ]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"counted_phones": 40}, "batteries are received by weight and packages"),
        ({"refused_phones": 1}, "batteries are received by weight and packages"),
        ({"packages": None}, "enter the number of packages received"),
        ({"packages": 0}, "enter the number of packages received"),
        ({"net_weight_kg": Decimal(0)}, "enter the net weight received in kg"),
    ],
)
def test_a_battery_reception_takes_no_phone_count_and_needs_packages(
    world: World, kwargs: dict[str, object], message: str
) -> None:
    consignment = batteries_in_transit(world)

    with pytest.raises(CustodyError, match=message):
        receive(world, consignment, **kwargs)

    assert not Reception.objects.filter(consignment=consignment).exists()


def test_a_partial_refusal_of_batteries_is_in_kg_with_a_reason(world: World) -> None:
    consignment = batteries_in_transit(world)
    with pytest.raises(CustodyError, match="refuses some of the kg received, not none or all"):
        receive(
            world,
            consignment,
            decision=FacilityDecision.PARTIALLY_REFUSED,
            refused_weight_kg=Decimal("1.800"),
            refusal_reason="leaking cells",
        )

    reception = receive(
        world,
        consignment,
        decision=FacilityDecision.PARTIALLY_REFUSED,
        refused_weight_kg=Decimal("0.300"),
        refusal_reason="leaking cells",
    )

    assert (reception.refused_phones, reception.refused_weight_kg) == (0, Decimal("0.300"))


def test_refused_batteries_are_not_completed(world: World) -> None:
    consignment = batteries_in_transit(world)
    reception = receive(
        world, consignment, decision=FacilityDecision.REFUSED, refusal_reason="not notified"
    )
    assert reception.refused_weight_kg == Decimal("1.800")

    with pytest.raises(CustodyError, match="the facility refused this shipment"):
        recycling_actions.complete_treatment(
            actor=world.recycler_user, consignment=consignment, completed_on=timezone.localdate()
        )


def test_receipt_and_certificate_deadlines_apply_to_batteries(world: World) -> None:
    consignment = batteries_in_transit(world)
    receive(world, consignment)
    today = timezone.localdate()
    recycling_actions.complete_treatment(
        actor=world.recycler_user, consignment=consignment, completed_on=today
    )

    kinds = {
        d.kind
        for d in compute_deadlines(
            today=today,
            consignments=Consignment.objects.filter(pk=consignment.pk),
            notifications=Notification.objects.none(),
        )
    }

    assert {
        DeadlineKind.RECEIPT_CONFIRMATION,
        DeadlineKind.COMPLETION_CERTIFICATE,
        DeadlineKind.COMPLETION_CERTIFICATE_OUTER,
    } <= kinds


# The database ------------------------------------------------------------------------------------


def _row(world: World, consignment: Consignment, **fields: object) -> Reception:
    values: dict[str, object] = {
        "consignment": consignment,
        "stream": consignment.stream,
        "net_weight_kg": Decimal("1.8"),
        "received_at": timezone.now(),
        "recorded_by": world.recycler_user,
    }
    values.update(fields)
    return Reception.objects.create(**values)


@pytest.mark.parametrize(
    "fields",
    [
        {"counted_phones": 40, "packages": 2},  # batteries are not counted in phones
        {"packages": None},  # batteries need their packages
        {"packages": 2, "refused_phones": 1},
    ],
)
def test_the_database_refuses_a_battery_reception_with_phones_or_without_packages(
    world: World, fields: dict[str, object]
) -> None:
    consignment = batteries_in_transit(world)

    with pytest.raises(IntegrityError, match="reception_counts_per_stream"), transaction.atomic():
        _row(
            world,
            consignment,
            # a partial refusal in kg, valid in itself: only the stream's counts are wrong
            **(
                {
                    "decision": "partially_refused",
                    "refused_weight_kg": Decimal("0.1"),
                    "refusal_reason": "x",
                }
                | fields
            ),
        )


def test_the_database_refuses_a_phone_reception_without_a_count(world: World) -> None:
    consignment = in_transit_consignment(world)

    with pytest.raises(IntegrityError, match="reception_counts_per_stream"), transaction.atomic():
        _row(world, consignment, counted_phones=None, packages=2)


def test_the_database_keeps_the_reception_stream_the_consignments(world: World) -> None:
    phones = in_transit_consignment(world)

    with (
        pytest.raises(IntegrityError, match="reception_stream_is_consignments"),
        transaction.atomic(),
    ):
        _row(world, phones, stream=Stream.BATTERIES, packages=2)


# The recycler's page -----------------------------------------------------------------------------


def test_the_recycler_receives_batteries_on_the_consignment_page(world: World) -> None:
    consignment = batteries_in_transit(world)
    client = Client()
    client.force_login(world.recycler_user)
    detail = reverse("shipments-detail", args=[consignment.reference])

    page = client.get(detail).content.decode()
    assert "Packages received" in page
    assert "Phones counted" not in page
    assert "Batteries issue no units." in page
    response = client.post(
        reverse("recycling-reception", args=[consignment.reference]),
        {
            "net_weight_kg": "1.8",
            "packages": "2",
            "decision": "partially_refused",
            "refused_weight_kg": "0.4",
            "refusal_reason": "two swollen cells",
        },
        follow=True,
    )
    page = response.content.decode()
    assert "Reception recorded: 2 packages, 1.8 kg, partially refused." in page
    assert "0.400 kg refused — two swollen cells" in page
    assert "Record treatment completion" in page
    response = client.post(
        reverse("recycling-treatment", args=[consignment.reference]),
        {"completed_on": timezone.localdate().isoformat(), "operation": "R4"},
        follow=True,
    )
    assert "certificate of completed recovery: R4" in response.content.decode()
    assert not IssuanceBatch.objects.filter(consignment=consignment).exists()
