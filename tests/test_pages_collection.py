"""Hub, carrier and recycler pages: each renders for its role, hides from others, and walks a
consignment from intake to issuance through form posts."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from factories import consented_notification
from oneforone.accounts import actions as accounts
from oneforone.accounts.models import Organisation, Role, User
from oneforone.collection import actions as collection
from oneforone.collection.models import Collector, Hub, Intake, Lot
from oneforone.registry.models import IssuanceBatch
from oneforone.shipments import actions as shipments
from oneforone.shipments.models import (
    Consignment,
    ConsignmentState,
    CustodySignature,
    Notification,
)

pytestmark = pytest.mark.django_db

PASSWORD = "demo-pass-1234"


class World:
    """Two hub organisations, a carrier, a recycler, an operator, a partner; one member each."""

    def __init__(self) -> None:
        root = User.objects.create_user(username="root")
        self.root = root

        def org(name: str, kind: str, country: str = "GH") -> Organisation:
            return accounts.create_organisation(
                actor=root, name=name, slug=name.lower(), kind=kind, country=country
            )

        def member(organisation: Organisation, username: str, role: str = Role.MEMBER) -> User:
            return accounts.add_member(
                actor=root,
                organisation=organisation,
                username=username,
                password=PASSWORD,
                role=role,
            ).user

        self.hub_org = org("Accra-Collect", "collection_partner")
        self.other_hub_org = org("Lagos-Collect", "collection_partner", "NG")
        self.carrier_org = org("Carrier", "carrier", "BE")
        self.other_carrier_org = org("Other-Carrier", "carrier", "BE")
        self.recycler_org = org("Smelter", "recycler", "BE")
        self.operator_org = org("Operator", "operator", "NL")
        self.partner_org = org("Brand", "partner", "NL")
        self.hub_user = member(self.hub_org, "hub-accra")
        self.hub_viewer = member(self.hub_org, "hub-viewer", Role.VIEWER)
        self.other_hub_user = member(self.other_hub_org, "hub-lagos")
        self.carrier = member(self.carrier_org, "carrier")
        self.other_carrier = member(self.other_carrier_org, "other-carrier")
        self.recycler = member(self.recycler_org, "recycler")
        self.operator = member(self.operator_org, "operator")
        self.partner = member(self.partner_org, "partner")
        self.hub = Hub.objects.create(
            organisation=self.hub_org,
            code="accra-1",
            name="Accra Central",
            country="GH",
            city="Accra",
            currency="GHS",
        )
        self.other_hub = Hub.objects.create(
            organisation=self.other_hub_org,
            code="lagos-1",
            name="Lagos Island",
            country="NG",
            city="Lagos",
            currency="NGN",
        )
        self.collector = Collector.objects.create(hub=self.hub, code="GH-C-001")
        self.collector_2 = Collector.objects.create(hub=self.hub, code="GH-C-002")
        self.other_collector = Collector.objects.create(hub=self.other_hub, code="NG-C-001")

    def client(self, user: User) -> Client:
        client = Client()
        client.force_login(user)
        return client

    def intake(
        self,
        phones: int = 20,
        kg: str = "1.100",
        collector: Collector | None = None,
        price: str = "10",
    ) -> Intake:
        return collection.record_intake(
            actor=self.hub_user,
            hub=self.hub,
            collector=collector or self.collector,
            collected_on=timezone.localdate(),
            phones=phones,
            net_weight_kg=Decimal(kg),
            batteries_removed=0,
            price_per_phone=Decimal(price),
            currency="GHS",
        )

    def notification(self) -> Notification:
        """The hub organisation's consented notification (the dispatch gate needs one)."""
        parties = SimpleNamespace(
            collection_partner=self.hub_org,
            recycler=self.recycler_org,
            carrier=self.carrier_org,
            hub=self.hub,
            hub_user=self.hub_user,
        )
        return consented_notification(parties)  # type: ignore[arg-type]

    def consignment(self, reference: str = "GH-ACC-001", dispatched: bool = False) -> Consignment:
        lot = collection.seal_lot(
            actor=self.hub_user, hub=self.hub, seal_number=f"S-{reference}", intakes=[self.intake()]
        )
        consignment = shipments.create_consignment(
            actor=self.hub_user,
            reference=reference,
            hub=self.hub,
            lots=[lot],
            carrier=self.carrier_org,
            recycler=self.recycler_org,
            notification=self.notification(),
        )
        if dispatched:
            consignment = shipments.sign_dispatch(actor=self.hub_user, consignment=consignment)
        return consignment


@pytest.fixture
def world() -> World:
    return World()


def text(response) -> str:
    return response.content.decode()


# --- intake -----------------------------------------------------------------------------------


def test_intake_page_renders_for_a_hub_member_with_last_price_and_open_marks(world):
    world.intake(phones=12, price="12.5")
    response = world.client(world.hub_user).get(reverse("collection-intake"))
    assert response.status_code == 200
    page = text(response)
    assert "Accra Central" in page
    assert "Price per phone (GHS)" in page
    assert 'value="12.5"' in page
    assert "GH-C-001" in page
    assert 'class="badge warn">open<' in page


def test_intake_post_records_the_purchase_and_redirects(world):
    client = world.client(world.hub_user)
    response = client.post(
        reverse("collection-intake"),
        {
            "hub": "accra-1",
            "collector": "GH-C-002",
            "collected_on": timezone.localdate().isoformat(),
            "phones": "25",
            "net_weight_kg": "1.375",
            "batteries_removed": "3",
            "price_per_phone": "10",
        },
        follow=True,
    )
    assert response.redirect_chain[-1][0] == f"{reverse('collection-intake')}?hub=accra-1"
    intake = Intake.objects.get()
    assert (intake.phones, intake.net_weight_kg, intake.currency) == (25, Decimal("1.375"), "GHS")
    assert intake.recorded_by == world.hub_user
    assert "Recorded 25 phones from GH-C-002" in text(response)


@pytest.mark.parametrize(
    ("change", "error"),
    [
        ({"phones": "0"}, "greater than or equal to 1"),
        (
            {"collected_on": (timezone.localdate() + dt.timedelta(days=2)).isoformat()},
            "The date is in the future",
        ),
        ({"batteries_removed": "30"}, "More batteries than phones"),
        ({"collector": "NG-C-001"}, "Select a valid choice"),
        ({"net_weight_kg": "0"}, "greater than or equal to 0.001"),
    ],
)
def test_a_bad_intake_shows_its_error_and_writes_nothing(world, change, error):
    data = {
        "hub": "accra-1",
        "collector": "GH-C-001",
        "collected_on": timezone.localdate().isoformat(),
        "phones": "25",
        "net_weight_kg": "1.375",
        "batteries_removed": "0",
        "price_per_phone": "10",
        **change,
    }
    response = world.client(world.hub_user).post(reverse("collection-intake"), data)
    assert response.status_code == 200
    assert error in text(response)
    assert "Nothing was recorded" in text(response)
    assert not Intake.objects.exists()


def test_a_read_only_member_is_told_what_to_do_and_nothing_is_written(world):
    response = world.client(world.hub_viewer).post(
        reverse("collection-intake"),
        {
            "hub": "accra-1",
            "collector": "GH-C-001",
            "collected_on": timezone.localdate().isoformat(),
            "phones": "5",
            "net_weight_kg": "0.3",
            "batteries_removed": "0",
            "price_per_phone": "10",
        },
    )
    assert response.status_code == 200
    assert "may only read for Accra-Collect" in text(response)
    assert "Ask an administrator" in text(response)
    assert not Intake.objects.exists()


def test_hub_pages_are_for_members_of_the_hubs_organisation(world):
    foreign = world.client(world.other_hub_user)
    assert foreign.get(reverse("collection-intake") + "?hub=accra-1").status_code == 404
    assert foreign.get(reverse("collection-lots") + "?hub=accra-1").status_code == 404
    response = foreign.post(
        reverse("collection-intake") + "?hub=lagos-1",
        {
            "hub": "accra-1",
            "collector": "GH-C-001",
            "collected_on": timezone.localdate().isoformat(),
            "phones": "5",
            "net_weight_kg": "0.3",
            "batteries_removed": "0",
            "price_per_phone": "1",
        },
    )
    assert response.status_code == 404
    assert not Intake.objects.exists()
    assert world.client(world.carrier).get(reverse("collection-intake")).status_code == 403
    assert world.client(world.partner).get(reverse("collection-lots")).status_code == 403
    anonymous = Client().get(reverse("collection-intake"))
    assert anonymous.status_code == 302
    assert "login" in anonymous["Location"]


# --- lots ---------------------------------------------------------------------------------------


def test_lots_page_lists_lots_and_open_intakes(world):
    first, second = world.intake(phones=10), world.intake(phones=7)
    collection.seal_lot(actor=world.hub_user, hub=world.hub, seal_number="SEAL-9", intakes=[first])
    response = world.client(world.hub_user).get(reverse("collection-lots"))
    assert response.status_code == 200
    page = text(response)
    assert "SEAL-9" in page
    assert "not consigned" in page
    assert f'name="intakes" value="{second.pk}"' in page
    assert f'name="intakes" value="{first.pk}"' not in page
    assert 'name="lots"' in page


def test_a_duplicate_seal_number_is_refused_without_writing(world, monkeypatch):
    first, second = world.intake(), world.intake()
    collection.seal_lot(actor=world.hub_user, hub=world.hub, seal_number="SEAL-1", intakes=[first])
    client = world.client(world.hub_user)
    url = reverse("collection-lot-seal")
    response = client.post(url, {"hub": "accra-1", "intakes": [second.pk], "seal_number": "SEAL-1"})
    assert "Seal number SEAL-1 is already used" in text(response)
    # the database refuses it too when two hubs race for the same number
    from oneforone.collection import forms

    monkeypatch.setattr(
        forms.SealLotForm, "clean_seal_number", lambda self: self.cleaned_data["seal_number"]
    )
    response = client.post(url, {"hub": "accra-1", "intakes": [second.pk], "seal_number": "SEAL-1"})
    assert "Seal number SEAL-1 is already used" in text(response)
    assert Lot.objects.count() == 1
    second.refresh_from_db()
    assert second.lot is None
    response = client.post(url, {"hub": "accra-1", "seal_number": "SEAL-2"})
    assert "Tick the open intakes" in text(response)
    assert Lot.objects.count() == 1


def test_a_duplicate_consignment_reference_is_refused_without_writing(world, monkeypatch):
    world.consignment("GH-ACC-001")
    lot = collection.seal_lot(
        actor=world.hub_user, hub=world.hub, seal_number="S-2", intakes=[world.intake()]
    )
    response = world.client(world.hub_user).post(
        reverse("shipments-create"),
        {
            "hub": "accra-1",
            "lots": [lot.pk],
            "reference": "GH-ACC-001",
            "carrier": world.carrier_org.pk,
            "recycler": world.recycler_org.pk,
        },
    )
    assert response.status_code == 200
    assert "Reference GH-ACC-001 is already used" in text(response)
    assert Consignment.objects.count() == 1
    lot.refresh_from_db()
    assert lot.consignment is None


def test_a_consignment_needs_a_carrier_and_a_recycler(world):
    lot = collection.seal_lot(
        actor=world.hub_user, hub=world.hub, seal_number="S-1", intakes=[world.intake()]
    )
    response = world.client(world.hub_user).post(
        reverse("shipments-create"),
        {
            "hub": "accra-1",
            "lots": [lot.pk],
            "reference": "GH-ACC-9",
            "carrier": world.recycler_org.pk,
            "recycler": world.carrier_org.pk,
        },
    )
    assert "Select a valid choice" in text(response)
    assert not Consignment.objects.exists()


# --- consignments -------------------------------------------------------------------------------


def test_consignment_list_shows_visible_ones_with_state_filter(world):
    world.consignment("GH-ACC-001")
    world.consignment("GH-ACC-002", dispatched=True)
    client = world.client(world.carrier)
    page = text(client.get(reverse("shipments-list")))
    assert "GH-ACC-001" in page
    assert "GH-ACC-002" in page
    page = text(client.get(reverse("shipments-list") + "?state=dispatched"))
    assert "GH-ACC-002" in page
    assert "GH-ACC-001" not in page
    assert "GH-ACC-00" not in text(world.client(world.other_carrier).get(reverse("shipments-list")))
    assert "GH-ACC-002" in text(world.client(world.operator).get(reverse("shipments-list")))
    assert world.client(world.partner).get(reverse("shipments-list")).status_code == 403


def test_a_consignment_is_visible_only_to_its_parties(world):
    world.consignment("GH-ACC-001")
    url = reverse("shipments-detail", args=["GH-ACC-001"])
    for user in (world.hub_user, world.carrier, world.recycler, world.operator):
        assert world.client(user).get(url).status_code == 200, user
    for user in (world.other_hub_user, world.other_carrier):
        assert world.client(user).get(url).status_code == 404, user
    assert world.client(world.partner).get(url).status_code == 403
    assert (
        world.client(world.hub_user).get(reverse("shipments-detail", args=["NOPE"])).status_code
        == 404
    )


def test_only_the_next_custodian_sees_a_form_and_others_cannot_sign(world):
    world.consignment("GH-ACC-001")
    url = reverse("shipments-detail", args=["GH-ACC-001"])
    assert "Sign dispatch" in text(world.client(world.hub_user).get(url))
    assert "Sign dispatch" not in text(world.client(world.carrier).get(url))
    assert "Next: dispatch by Accra-Collect" in text(world.client(world.carrier).get(url))
    # the carrier cannot dispatch nor pick up a draft; a foreign hub cannot see it at all
    carrier = world.client(world.carrier)
    assert (
        carrier.post(
            reverse("shipments-dispatch", args=["GH-ACC-001"]), {"confirm": "on"}
        ).status_code
        == 403
    )
    response = carrier.post(
        reverse("shipments-pickup", args=["GH-ACC-001"]), {"vehicle": "GT-1234-26", "confirm": "on"}
    )
    assert "Nothing was signed" in text(response)
    assert "this step needs it to be dispatched" in text(response)
    assert (
        world.client(world.other_hub_user)
        .post(reverse("shipments-dispatch", args=["GH-ACC-001"]), {"confirm": "on"})
        .status_code
        == 404
    )
    assert Consignment.objects.get().state == ConsignmentState.DRAFT
    assert not CustodySignature.objects.exists()


def test_a_bad_custody_form_shows_its_error_without_signing(world):
    world.consignment("GH-ACC-001")
    hub = world.client(world.hub_user)
    response = hub.post(
        reverse("shipments-dispatch", args=["GH-ACC-001"]), {"container_number": "MSKU1234565"}
    )
    assert response.status_code == 200
    assert "Tick the box to confirm you checked the seals" in text(response)
    consignment = Consignment.objects.get()
    assert consignment.state == ConsignmentState.DRAFT
    assert consignment.container_number == ""
    assert not CustodySignature.objects.exists()


def test_full_walk_from_intake_to_issuance_through_the_pages(world):
    today = timezone.localdate().isoformat()
    hub = world.client(world.hub_user)
    for collector, phones, kg in (("GH-C-001", 40, "2.200"), ("GH-C-002", 60, "3.300")):
        response = hub.post(
            reverse("collection-intake"),
            {
                "hub": "accra-1",
                "collector": collector,
                "collected_on": today,
                "phones": phones,
                "net_weight_kg": kg,
                "batteries_removed": "0",
                "price_per_phone": "10",
            },
        )
        assert response.status_code == 302
    intakes = list(Intake.objects.values_list("pk", flat=True))
    response = hub.post(
        reverse("collection-lot-seal"),
        {"hub": "accra-1", "intakes": intakes, "seal_number": "SEAL-0001"},
    )
    assert response.status_code == 302
    lot = Lot.objects.get(seal_number="SEAL-0001")
    assert (lot.phones, lot.net_weight_kg) == (100, Decimal("5.500"))

    response = hub.post(
        reverse("shipments-create"),
        {
            "hub": "accra-1",
            "lots": [lot.pk],
            "reference": "GH-ACC-2026-001",
            "carrier": world.carrier_org.pk,
            "recycler": world.recycler_org.pk,
            "notification": world.notification().pk,
        },
    )
    detail = reverse("shipments-detail", args=["GH-ACC-2026-001"])
    assert response["Location"] == detail

    response = hub.post(
        reverse("shipments-dispatch", args=["GH-ACC-2026-001"]),
        {"container_number": "msku1234565", "confirm": "on"},
        follow=True,
    )
    assert "Dispatch signed: 100 phones" in text(response)
    assert "Sign pick-up" not in text(response)

    carrier = world.client(world.carrier)
    assert "Sign pick-up" in text(carrier.get(detail))
    response = carrier.post(
        reverse("shipments-pickup", args=["GH-ACC-2026-001"]),
        {"vehicle": "GT-4411-26", "confirm": "on"},
    )
    assert response.status_code == 302

    recycler = world.client(world.recycler)
    # The recycler is the consignee: its page offers one step, the reception, which signs both.
    page = text(recycler.get(detail))
    assert "Count and weigh what arrived" in page
    assert "Sign that the shipment arrived" not in page
    response = recycler.post(
        reverse("recycling-reception", args=["GH-ACC-2026-001"]),
        {"counted_phones": "97", "net_weight_kg": "5.400"},
        follow=True,
    )
    page = text(response)
    assert "Flagged for review" in page
    assert "count differs from dispatch by -3 phones" in page
    assert "Record treatment completion" in page

    response = recycler.post(
        reverse("recycling-treatment", args=["GH-ACC-2026-001"]),
        {"completed_on": today, "operation": "R4"},
        follow=True,
    )
    page = text(response)
    assert "97 units issued" in page
    consignment = Consignment.objects.get(reference="GH-ACC-2026-001")
    assert consignment.state == ConsignmentState.TREATED
    assert consignment.container_number == "MSKU1234565"
    batch = IssuanceBatch.objects.get(consignment=consignment)
    assert batch.quantity == 97
    assert batch.block in page
    steps = list(consignment.signatures.values_list("step", flat=True))
    assert steps == ["dispatch", "pickup", "receipt", "reception", "treatment"]
    assert "signature chain intact" in page
    for signature in consignment.signatures.all():
        assert signature.hash[:12] in page
    assert "GT-4411-26" in page


def test_bad_recycler_forms_show_errors_without_writing(world):
    consignment = world.consignment("GH-ACC-001", dispatched=True)
    shipments.sign_pickup(actor=world.carrier, consignment=consignment, vehicle="T-1")
    recycler = world.client(world.recycler)
    response = recycler.post(
        reverse("recycling-reception", args=["GH-ACC-001"]),
        {"counted_phones": "0", "net_weight_kg": "1"},
    )
    assert response.status_code == 200
    assert "greater than or equal to 1" in text(response)
    # treatment before reception: refused by the custody order
    response = recycler.post(
        reverse("recycling-treatment", args=["GH-ACC-001"]),
        {"completed_on": timezone.localdate().isoformat(), "operation": "R4"},
    )
    assert "Nothing was signed" in text(response)
    # the facility is the consignee: its reception (signing the receipt too) comes first
    assert "Count and weigh what arrived" in text(response)
    consignment.refresh_from_db()
    assert consignment.state == ConsignmentState.IN_TRANSIT
    assert not hasattr(consignment, "reception")
    response = recycler.post(
        reverse("recycling-reception", args=["GH-ACC-001"]),
        {"counted_phones": "20", "net_weight_kg": "1.1"},
    )
    assert response.status_code == 302
    future = (timezone.localdate() + dt.timedelta(days=1)).isoformat()
    response = recycler.post(
        reverse("recycling-treatment", args=["GH-ACC-001"]),
        {"completed_on": future, "operation": "R4"},
    )
    assert "The date is in the future" in text(response)
    response = recycler.post(
        reverse("recycling-treatment", args=["GH-ACC-001"]),
        {"completed_on": "2020-01-01", "operation": "R4"},
    )
    assert "before the consignment arrived" in text(response)
    assert not IssuanceBatch.objects.exists()
    consignment.refresh_from_db()
    assert consignment.state == ConsignmentState.RECEIVED
    assert (
        world.client(world.carrier)
        .post(
            reverse("recycling-treatment", args=["GH-ACC-001"]),
            {"completed_on": timezone.localdate().isoformat(), "operation": "R4"},
        )
        .status_code
        == 403
    )
