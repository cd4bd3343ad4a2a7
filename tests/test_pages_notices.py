"""The notification pages: list and filters, the form blocks with consents and usage, the create
form with the codes of its date, the documents recorded from the page, and the dispatch gate
panel on a consignment."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.test import Client
from django.urls import reverse
from django.utils import timezone

from factories import (
    World,
    consented_notification,
    draft_consignment,
    make_organisation,
    make_world,
    notification_blocks,
    record_intake,
    seal_lot,
)
from oneforone.accounts.models import OrganisationKind, User
from oneforone.shipments import notification_actions as notices
from oneforone.shipments.models import ChangeRequest, Consent, Consignment, Notification
from oneforone.shipments.notification_forms import NotificationCreateForm

TODAY = timezone.localdate()


def client_for(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def detail_url(notification: Notification) -> str:
    return reverse("notifications-detail", args=[notification.number])


def record_url(notification: Notification, document: str) -> str:
    return reverse("notifications-record", args=[notification.number, document])


def test_the_list_shows_the_parties_their_notifications_with_status_and_filters(
    world: World,
) -> None:
    consented = consented_notification(world)
    pending = notices.create_notification(actor=world.hub_user, blocks=notification_blocks(world))
    elsewhere = make_world()
    unrelated = consented_notification(elsewhere)
    client = client_for(world.hub_user)

    page = client.get(reverse("notifications-list")).content.decode()
    assert consented.number in page
    assert pending.number in page
    assert unrelated.number not in page
    assert "GH → BE" in page

    only_pending = client.get(reverse("notifications-list"), {"status": "pending"})
    assert pending.number in only_pending.content.decode()
    assert consented.number not in only_pending.content.decode()
    assert (
        consented.number
        not in client.get(reverse("notifications-list"), {"country": "NG"}).content.decode()
    )
    assert (
        consented.number
        not in client.get(reverse("notifications-list"), {"stream": "batteries"}).content.decode()
    )
    # The operator reads every notification.
    assert (
        unrelated.number
        in client_for(world.operator_user).get(reverse("notifications-list")).content.decode()
    )


def test_the_detail_shows_the_blocks_consents_usage_and_the_forms_to_the_notifier(
    world: World,
) -> None:
    notification = consented_notification(world)
    consignment = draft_consignment(world)
    notices.request_change(
        actor=world.hub_user,
        notification=notification,
        kind="dates",
        description="Vessel schedule moved",
        proposed={"last_departure": str(notification.last_departure + dt.timedelta(days=5))},
    )
    page = client_for(world.hub_user).get(detail_url(notification)).content.decode()
    for text in (
        "Environmental Protection Agency, Ghana",
        "OVAM (Flanders)",
        "0 of 1000 shipments dispatched",
        "Vessel schedule moved",
        "awaiting answer: shipments wait",
        consignment.reference,
        "Record an authority&#x27;s decision",
        "A1181",
    ):
        assert text in page, text
    # The carrier named in it reads it, without the forms.
    carrier_page = client_for(world.carrier_user).get(detail_url(notification)).content.decode()
    assert "OVAM (Flanders)" in carrier_page
    assert "Record the contract" not in carrier_page


def test_consent_change_and_answer_recorded_from_the_page(world: World) -> None:
    notification = notices.create_notification(
        actor=world.hub_user, blocks=notification_blocks(world)
    )
    belgium = notification.route.get(country="BE")
    client = client_for(world.hub_user)

    response = client.post(
        record_url(notification, "consent"),
        {
            "route_stop": belgium.pk,
            "decision": "conditions",
            "decided_on": TODAY,
            "valid_from": TODAY,
            "valid_to": TODAY + dt.timedelta(days=364),
            "conditions": "Announce each shipment two working days ahead",
        },
    )
    assert response.status_code == 302
    assert Consent.objects.get(route_stop=belgium).decision == "conditions"

    client.post(
        record_url(notification, "change"),
        {"kind": "quantity", "description": "More phones", "total_quantity_kg": "2000000"},
    )
    change = ChangeRequest.objects.get(notification=notification)
    assert change.proposed == {"total_quantity_kg": "2000000"}
    client.post(
        record_url(notification, "answer"),
        {"change": change.pk, "answer": "accepted", "answered_on": TODAY},
    )
    notification.refresh_from_db()
    assert notification.total_quantity_kg == Decimal("2000000")


def test_a_refused_document_says_why_and_records_nothing(world: World) -> None:
    notification = notices.create_notification(
        actor=world.hub_user, blocks=notification_blocks(world)
    )
    response = client_for(world.hub_user).post(
        record_url(notification, "tacit"),
        {"route_stop": notification.route.get(country="BE").pk},
    )
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()  # not a transit authority
    response = client_for(world.hub_user).post(
        record_url(notification, "contract"),
        {
            "reference": "C-1",
            "signed_on": TODAY,
            "valid_from": TODAY,
            "valid_to": TODAY - dt.timedelta(days=1),
        },
    )
    assert "The contract&#x27;s validity ends before it starts." in response.content.decode()
    assert not notification.contracts.exists()


def test_the_carrier_cannot_record_documents(world: World) -> None:
    notification = consented_notification(world)
    response = client_for(world.carrier_user).post(
        record_url(notification, "contract"), {"reference": "C-2"}
    )
    assert response.status_code == 403


def creation_data(world: World, **overrides: object) -> dict[str, object]:
    data: dict[str, object] = {
        "number": "GH2026000777",
        "notified_on": TODAY,
        "notifier": world.collection_partner.pk,
        "stream": "phones",
        "consignee": world.recycler.pk,
        "facility": world.recycler.pk,
        "generator_site": "Accra hub",
        "facility_site": "Hoboken",
        "shipment_type": "multiple",
        "intended_shipments": 6,
        "total_quantity_kg": "4000",
        "first_departure": TODAY,
        "last_departure": TODAY + dt.timedelta(days=364),
        "packaging_types": ["4"],
        "operation_code": "R4",
        "waste_description": "Discarded phones, batteries removed",
        "physical_characteristics": "2",
        "basel_code": "A1181",
        "y_codes": ["Y49"],
        "h_codes": ["H11"],
        "ewc_code": "16 02 13*",
        "hs_code": "8549.21",
        "carrier": world.carrier.pk,
        "means_of_transport": "S",
        "export_country": "gh",
        "export_authority": "EPA Ghana",
        "export_exit_point": "Tema",
        "transit_country": "ES",
        "transit_authority": "MITECO",
        "transit_point": "Algeciras",
        "import_country": "BE",
        "import_authority": "OVAM",
        "import_entry_point": "Antwerp",
    }
    data.update(overrides)
    return data


def test_a_notification_is_created_from_its_blocks(world: World) -> None:
    client = client_for(world.hub_user)
    assert client.get(reverse("notifications-create")).status_code == 200
    response = client.post(reverse("notifications-create"), creation_data(world))
    assert response.status_code == 302, response.content.decode()[:3000]
    notification = Notification.objects.get(number="GH2026000777")
    assert [(s.role, s.country) for s in notification.route.all()] == [
        ("export", "GH"),
        ("transit", "ES"),
        ("import", "BE"),
    ]
    assert notification.y_codes == ["Y49"]


def test_the_create_form_offers_the_codes_of_its_date(world: World) -> None:
    def basel_codes(on: dt.date) -> set[str]:
        form = NotificationCreateForm(
            {"notified_on": on.isoformat()}, notifiers=world.collection_partner.__class__.objects
        )
        return {str(code) for code, _ in form.fields["basel_code"].choices}  # type: ignore[attr-defined]

    assert "A1180" in basel_codes(dt.date(2024, 12, 31))
    assert "A1181" not in basel_codes(dt.date(2024, 12, 31))
    assert "A1181" in basel_codes(dt.date(2025, 1, 1))
    assert "A1180" not in basel_codes(dt.date(2025, 1, 1))


def test_a_wrong_number_is_refused_on_the_create_page_with_the_pattern(world: World) -> None:
    response = client_for(world.operator_user).post(
        reverse("notifications-create"), creation_data(world, number="GH-77")
    )
    assert response.status_code == 200
    assert "GH-77 does not look like one issued in GH" in response.content.decode()
    assert not Notification.objects.filter(number="GH-77").exists()


def test_the_consignment_page_shows_the_dispatch_gate(world: World) -> None:
    consignment = draft_consignment(world)
    client = client_for(world.hub_user)
    page = client.get(reverse("shipments-detail", args=[consignment.reference])).content.decode()
    assert "Dispatch gate" in page
    assert "fails" not in page
    assert "Financial guarantee effective" in page

    other = make_organisation(OrganisationKind.CARRIER, name="Unlisted Freight")
    Consignment.objects.filter(pk=consignment.pk).update(carrier=other)
    page = client.get(reverse("shipments-detail", args=[consignment.reference])).content.decode()
    assert "fails" in page
    assert "Carrier Unlisted Freight is not named in notification" in page
    refused = client.post(
        reverse("shipments-dispatch", args=[consignment.reference]), {"confirm": "on"}
    )
    assert "Nothing was recorded" in refused.content.decode()
    assert "Carrier Unlisted Freight is not named" in refused.content.decode()
    consignment.refresh_from_db()
    assert consignment.state == "draft"


def test_a_consignment_is_packed_under_a_notification_from_the_lots_page(world: World) -> None:
    notification = consented_notification(world)
    lot = seal_lot(world, [record_intake(world, phones=20)])
    response = client_for(world.hub_user).post(
        reverse("shipments-create") + f"?hub={world.hub.code}",
        {
            "lots": [lot.pk],
            "reference": "GH-ACC-2026-900",
            "carrier": world.carrier.pk,
            "recycler": world.recycler.pk,
            "notification": notification.pk,
            "hub": world.hub.code,
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert Consignment.objects.get(reference="GH-ACC-2026-900").notification == notification


def test_a_route_change_is_requested_from_the_page_and_holds_dispatches(world: World) -> None:
    notification = notices.create_notification(
        actor=world.hub_user, blocks=notification_blocks(world)
    )
    client = client_for(world.hub_user)

    response = client.post(
        record_url(notification, "change"),
        {
            "kind": "route",
            "description": "Through Spain instead of the Netherlands",
            "transit_country": "es",
            "transit_authority": "MITECO (Spain)",
            "transit_point": "Algeciras",
            "import_entry_point": "Antwerp",
        },
    )

    assert response.status_code == 302
    change = ChangeRequest.objects.get(notification=notification)
    route = change.proposed["route"]
    assert [(stop["role"], stop["country"]) for stop in route] == [
        ("export", "GH"),
        ("transit", "ES"),
        ("import", "BE"),
    ]
    assert route[1]["competent_authority"] == "MITECO (Spain)"
    assert route[2]["entry_point"] == "Antwerp"
    assert change.answer == ""


def test_a_route_change_without_the_transit_authority_is_refused_with_what_to_add(
    world: World,
) -> None:
    notification = notices.create_notification(
        actor=world.hub_user, blocks=notification_blocks(world)
    )
    response = client_for(world.hub_user).post(
        record_url(notification, "change"),
        {"kind": "route", "description": "Via Spain", "transit_country": "ES"},
    )

    assert response.status_code == 200
    assert "Name the transit country&#x27;s authority." in response.content.decode()
    assert not ChangeRequest.objects.filter(notification=notification).exists()
