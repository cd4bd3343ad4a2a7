"""The consignment page under a notification: movement document n/N, legs, receipts, decision."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from factories import (
    World,
    add_sea_carrier,
    make_member,
    make_notification,
    make_organisation,
    notified_consignment,
)
from oneforone.accounts.models import OrganisationKind, User
from oneforone.registry.models import IssuanceBatch
from oneforone.shipments.models import Consignment, ConsignmentState


def client_for(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def text(response) -> str:  # type: ignore[no-untyped-def]
    return response.content.decode()


def test_a_sea_consignment_walks_through_every_movement_step_on_its_page(world: World) -> None:
    # A consignee other than the facility signs its receipt first; the facility then receives.
    broker = make_organisation(OrganisationKind.RECYCLER, name="Consignee Broker BV", country="BE")
    broker_user = make_member(broker)
    notification = make_notification(world, consignee=broker)
    line, line_user = add_sea_carrier(world, notification)
    consignment = notified_consignment(world, notification)
    reference = consignment.reference
    detail = reverse("shipments-detail", args=[reference])
    today = timezone.localdate().isoformat()

    hub = client_for(world.hub_user)
    response = hub.post(
        reverse("shipments-dispatch", args=[reference]),
        {"container_number": "mscu1234565", "packages": "2", "confirm": "on"},
        follow=True,
    )
    page = text(response)
    assert "<strong>1/4</strong>" in page
    assert "2 × packaging type 4" in page

    carrier = client_for(world.carrier_user)
    carrier.post(
        reverse("shipments-pickup", args=[reference]), {"vehicle": "GR-1234-24", "confirm": "on"}
    )
    assert "Sign handover" not in text(carrier.get(detail))

    shipping = client_for(line_user)
    assert "Sign handover" in text(shipping.get(detail))
    assert reference in text(shipping.get(reverse("shipments-list")))
    refused = shipping.post(
        reverse("shipments-handover", args=[reference]),
        {"vehicle": "MSC Aurora 612W", "means_of_transport": "S", "transferred_on": today},
    )
    assert "Tick the box to confirm the seals are intact." in text(refused)
    response = shipping.post(
        reverse("shipments-handover", args=[reference]),
        {
            "vehicle": "MSC Aurora 612W",
            "means_of_transport": "S",
            "transferred_on": today,
            "confirm": "on",
        },
        follow=True,
    )
    page = text(response)
    assert f"Handover signed: leg 2 of {reference} is in the custody of {line.name}." in page
    assert "MSC Aurora 612W" in page

    recycler = client_for(world.recycler_user)
    waiting = text(recycler.get(detail))
    assert "Sign consignee receipt" not in waiting
    assert reverse("recycling-reception", args=[reference]) not in waiting
    consignee = client_for(broker_user)
    page = text(consignee.get(detail))
    assert "Sign consignee receipt" in page
    assert "Record reception" not in page
    response = consignee.post(
        reverse("shipments-receipt", args=[reference]),
        {"received_on": today, "quantity_kg": "5.5"},
        follow=True,
    )
    assert "Receipt signed." in text(response)
    assert "Record reception" not in text(response)
    page = text(recycler.get(detail))
    assert "Record reception" in page
    assert "Sign consignee receipt" not in page
    response = recycler.post(
        reverse("recycling-reception", args=[reference]),
        {
            "counted_phones": "100",
            "net_weight_kg": "5.5",
            "decision": "partially_refused",
            "refused_phones": "10",
            "refused_weight_kg": "0.6",
            "refusal_reason": "10 phones with swollen batteries",
        },
        follow=True,
    )
    page = text(response)
    assert "partially refused" in page
    assert "10 phones with swollen batteries" in page
    response = recycler.post(
        reverse("recycling-treatment", args=[reference]),
        {"completed_on": today, "operation": "R4"},
        follow=True,
    )
    assert "certificate of completed recovery: R4" in text(response)
    assert IssuanceBatch.objects.get(consignment__reference=reference).quantity == 90
    assert Consignment.objects.get(reference=reference).state == ConsignmentState.TREATED


def test_a_facility_that_is_the_consignee_is_offered_only_its_reception(world: World) -> None:
    consignment = notified_consignment(world)  # the world's recycler is the consignee
    reference = consignment.reference
    detail = reverse("shipments-detail", args=[reference])
    client_for(world.hub_user).post(
        reverse("shipments-dispatch", args=[reference]), {"confirm": "on"}
    )
    client_for(world.carrier_user).post(
        reverse("shipments-pickup", args=[reference]), {"vehicle": "GR-1", "confirm": "on"}
    )
    recycler = client_for(world.recycler_user)
    page = text(recycler.get(detail))
    assert "Record reception" in page
    assert "Sign consignee receipt" not in page
    assert "you sign the receipt of the shipment with this reception" in page
    response = recycler.post(
        reverse("recycling-reception", args=[reference]),
        {"counted_phones": "100", "net_weight_kg": "5.5", "decision": "accepted"},
        follow=True,
    )
    page = text(response)
    assert "Reception recorded: 100 phones" in page
    assert "Record treatment completion" in page
    consignment.refresh_from_db()
    assert consignment.consignee_receipt.quantity_kg == Decimal("5.5")
    assert consignment.consignee_receipt.organisation == world.recycler
    assert consignment.state == ConsignmentState.RECEIVED


def test_a_refused_reception_offers_no_treatment(world: World) -> None:
    consignment = notified_consignment(world)
    reference = consignment.reference
    client_for(world.hub_user).post(
        reverse("shipments-dispatch", args=[reference]), {"confirm": "on"}
    )
    client_for(world.carrier_user).post(
        reverse("shipments-pickup", args=[reference]), {"vehicle": "GR-1", "confirm": "on"}
    )
    recycler = client_for(world.recycler_user)
    today = timezone.localdate().isoformat()
    recycler.post(
        reverse("shipments-receipt", args=[reference]), {"received_on": today, "quantity_kg": "5"}
    )
    missing_reason = recycler.post(
        reverse("recycling-reception", args=[reference]),
        {"counted_phones": "100", "net_weight_kg": "5.5", "decision": "refused"},
    )
    assert "Give the reason for the refusal." in text(missing_reason)
    recycler.post(
        reverse("recycling-reception", args=[reference]),
        {
            "counted_phones": "100",
            "net_weight_kg": "5.5",
            "decision": "refused",
            "refusal_reason": "not the notified waste",
        },
    )
    response = recycler.post(
        reverse("recycling-treatment", args=[reference]),
        {"completed_on": today, "operation": "R4"},
    )
    assert "The facility refused this shipment" in text(response)
    assert not IssuanceBatch.objects.filter(consignment__reference=reference).exists()


@pytest.mark.parametrize("who", ["partner_admin", "operator_user"])
def test_other_organisations_cannot_sign_movement_steps(world: World, who: str) -> None:
    consignment = notified_consignment(world)
    user = getattr(world, who)
    for name in ("shipments-handover", "shipments-receipt", "shipments-revision-request"):
        response = client_for(user).post(reverse(name, args=[consignment.reference]), {})
        assert response.status_code == 403
