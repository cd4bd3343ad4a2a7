"""The hub's intake pages: the full purchase record from a phone, a record's detail with its
correction, battery lots and each lot's reconciliation; each page only for those who may see it."""

from __future__ import annotations

import datetime as dt
import hashlib
from decimal import Decimal
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from factories import (
    World,
    imei,
    make_hub,
    make_member,
    make_organisation,
    record_intake,
    seal_lot,
)
from oneforone.accounts.models import OrganisationKind, Role, User
from oneforone.collection import actions
from oneforone.collection.models import Intake, Lot, Payment, PriceCap

pytestmark = pytest.mark.django_db

PNG = b"\x89PNG\r\n\x1a\n" + b"\x05" * 80


@pytest.fixture(autouse=True)
def _photos_in_a_temporary_folder(settings: Any, tmp_path: Any) -> None:
    settings.MEDIA_ROOT = str(tmp_path)


def client_of(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def purchase(world: World, **changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "hub": world.hub.code,
        "collector": world.collector.code,
        "collected_on": (timezone.localdate() - dt.timedelta(days=1)).isoformat(),
        "collected_time": "10:30",
        "phones": "40",
        "net_weight_kg": "2.200",
        "condition": "board_missing",
        "batteries_removed": "12",
        "battery_weight_kg": "0.540",
        "price_per_phone": "2.60",
        "paid_with": "mobile_money",
        "payment_reference": "MM-88120",
        "imeis": f"{imei(1)}\n{imei(2)}",
        "note": "brought by bicycle",
        "latitude": "5.568012",
        "longitude": "-0.212034",
        "gps_accuracy_m": "18",
    }
    data.update(changes)
    return data


def as_if_committed() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")


# --- the intake page -------------------------------------------------------------------------------


def test_the_intake_form_records_the_whole_purchase_and_pays_it(world: World) -> None:
    data = purchase(world, photos=[SimpleUploadedFile("scale.png", PNG, "image/png")])

    response = client_of(world.hub_user).post(reverse("collection-intake"), data, follow=True)

    assert response.status_code == 200
    assert "Recorded 40 phones" in response.content.decode()
    intake = Intake.objects.get()
    local = intake.collected_at.astimezone(actions.hub_timezone(world.hub))
    assert (local.date(), local.time()) == (
        timezone.localdate() - dt.timedelta(days=1),
        dt.time(10, 30),
    )
    assert (intake.condition, intake.batteries_removed, intake.battery_weight_kg) == (
        "board_missing",
        12,
        Decimal("0.540"),
    )
    assert (intake.latitude, intake.longitude, intake.gps_accuracy_m) == (
        Decimal("5.568012"),
        Decimal("-0.212034"),
        18,
    )
    assert sorted(intake.imeis.values_list("imei", flat=True)) == [imei(1), imei(2)]
    assert list(intake.photos.values_list("sha256", flat=True)) == [hashlib.sha256(PNG).hexdigest()]
    payment = Payment.objects.get(intake=intake)
    assert (payment.amount, payment.method, payment.reference) == (
        Decimal("104.0000"),
        "mobile_money",
        "MM-88120",
    )


def test_the_price_field_shows_the_cap_and_a_price_above_it_is_refused(world: World) -> None:
    PriceCap.objects.create(
        country_id="GH",
        valid_from=dt.date(2020, 1, 1),
        max_per_phone=Decimal("3.00"),
        min_per_phone=Decimal("1.00"),
        currency="GHS",
        second_hand_value=Decimal("40"),
        source="test",
        set_by=world.operator_user,
        set_at=timezone.now(),
    )
    client = client_of(world.hub_user)

    page = client.get(reverse("collection-intake")).content.decode()
    refused = client.post(reverse("collection-intake"), purchase(world, price_per_phone="3.50"))

    assert "at most GHS3.00, at least GHS1.00 a phone (GH cap)" in page
    assert "Nothing was recorded." in refused.content.decode()
    assert "above the cap of GHS3.00" in refused.content.decode()
    assert not Intake.objects.exists()


@pytest.mark.parametrize(
    ("change", "error"),
    [
        ({"payment_reference": ""}, "Mobile money needs its transaction reference"),
        ({"imeis": "12345"}, "is not a valid IMEI"),
        ({"batteries_removed": "0"}, "A battery weight needs the number of batteries"),
        (
            {"photos": [SimpleUploadedFile("x.pdf", b"%PDF-1.4", "application/pdf")]},
            "must be JPEG, PNG or WebP",
        ),
    ],
)
def test_a_bad_purchase_says_what_to_do_and_writes_nothing(
    world: World, change: dict[str, Any], error: str
) -> None:
    response = client_of(world.hub_user).post(
        reverse("collection-intake"), purchase(world, **change)
    )

    assert response.status_code == 200
    assert error in response.content.decode()
    assert not Intake.objects.exists()
    assert not Payment.objects.exists()


def test_todays_list_links_each_record_and_says_whether_it_is_paid(world: World) -> None:
    paid = record_intake(world, phones=7, paid_with="cash", collected_on=timezone.localdate())
    unpaid = record_intake(world, phones=9, collected_on=timezone.localdate())

    page = client_of(world.hub_user).get(reverse("collection-intake")).content.decode()

    assert reverse("collection-intake-detail", args=[paid.client_uuid]) in page
    assert reverse("collection-intake-detail", args=[unpaid.client_uuid]) in page
    assert page.count('<span class="badge ok">paid</span>') == 1
    assert page.count('<span class="badge warn">to pay</span>') == 1


# --- the detail page and corrections ----------------------------------------------------------------


def test_a_record_shows_its_evidence_to_its_hub(world: World) -> None:
    photo = actions.store_photo(
        actor=world.hub_user, hub=world.hub, data=PNG, content_type="image/png"
    )
    intake = record_intake(
        world, phones=40, imeis=[imei(3)], photos=[photo.sha256, "b" * 64], paid_with="cash"
    )
    client = client_of(world.hub_user)

    page = client.get(
        reverse("collection-intake-detail", args=[intake.client_uuid])
    ).content.decode()
    image = client.get(reverse("collection-photo", args=[photo.sha256]))

    assert imei(3) in page
    assert reverse("collection-photo", args=[photo.sha256]) in page
    assert "not uploaded yet" in page  # the second photo's bytes have not arrived
    assert "has been paid" in page
    assert image.status_code == 200
    assert b"".join(image.streaming_content) == PNG


def test_records_and_photos_are_hidden_from_other_organisations(world: World) -> None:
    photo = actions.store_photo(
        actor=world.hub_user, hub=world.hub, data=PNG, content_type="image/png"
    )
    intake = record_intake(world, phones=4, photos=[photo.sha256])
    detail = reverse("collection-intake-detail", args=[intake.client_uuid])
    image = reverse("collection-photo", args=[photo.sha256])
    other_hub_org = make_organisation(OrganisationKind.COLLECTION_PARTNER)
    make_hub(other_hub_org)
    stranger = client_of(make_member(other_hub_org))

    assert stranger.get(detail).status_code == 404
    assert stranger.get(image).status_code == 404
    assert (
        stranger.post(
            reverse("collection-intake-reverse", args=[intake.client_uuid]), {"reason": "x"}
        ).status_code
        == 404
    )
    for outsider in (world.partner_admin, world.carrier_user):
        assert client_of(outsider).get(detail).status_code == 403
        assert client_of(outsider).get(image).status_code == 403
    assert Client().get(detail).status_code == 302  # to the login page
    assert client_of(world.operator_user).get(detail).status_code == 200
    assert not Intake.objects.filter(reverses=intake).exists()


def test_a_packed_paid_record_is_corrected_from_its_page(world: World) -> None:
    intake = record_intake(world, phones=40, paid_with="cash")
    lot = seal_lot(world, [intake])
    as_if_committed()
    client = client_of(world.hub_user)

    response = client.post(
        reverse("collection-intake-correct", args=[intake.client_uuid]),
        {
            "reason": "miscounted: 38 phones",
            "phones": "38",
            "net_weight_kg": "2.090",
            "condition": "whole",
            "batteries_removed": "38",
            "battery_weight_kg": "0",
            "price_per_phone": "0.50",
            "imeis": "",
            "paid_with": "",
        },
        follow=True,
    )

    assert "Corrected" in response.content.decode()
    reversal = Intake.objects.get(reverses=intake)
    corrected = Intake.objects.filter(reverses__isnull=True).exclude(pk=intake.pk).get()
    assert (reversal.phones, reversal.lot) == (-40, lot)
    assert (corrected.phones, corrected.lot) == (38, None)
    lots_page = client.get(reverse("collection-lots")).content.decode()
    assert "1 reversing record took out 40 phones" in lots_page


def test_a_correction_with_bad_figures_is_refused_on_the_page(world: World) -> None:
    intake = record_intake(world, phones=40)

    response = client_of(world.hub_user).post(
        reverse("collection-intake-correct", args=[intake.client_uuid]),
        {"reason": "", "phones": "0"},
    )

    assert response.status_code == 200
    assert "Nothing was recorded." in response.content.decode()
    assert Intake.objects.count() == 1


def test_operator_staff_reverse_a_record_but_do_not_correct_it(world: World) -> None:
    intake = record_intake(world, phones=40)
    operator = client_of(world.operator_user)
    detail = reverse("collection-intake-detail", args=[intake.client_uuid])

    page = operator.get(detail).content.decode()
    response = operator.post(
        reverse("collection-intake-reverse", args=[intake.client_uuid]),
        {"reason": "flag: the same IMEI twice, confirmed"},
        follow=True,
    )

    assert "Correct this record" not in page
    assert "Reverse the record" in page
    assert "Reversed: 40 phones" in response.content.decode()
    assert Intake.objects.get(reverses=intake).note == "flag: the same IMEI twice, confirmed"


def test_a_read_only_member_cannot_reverse(world: World) -> None:
    intake = record_intake(world, phones=40)
    viewer = make_member(world.collection_partner, role=Role.VIEWER)

    response = client_of(viewer).post(
        reverse("collection-intake-reverse", args=[intake.client_uuid]), {"reason": "oops"}
    )

    assert "may only read" in response.content.decode()
    assert not Intake.objects.filter(reverses=intake).exists()


# --- lots --------------------------------------------------------------------------------------------


def test_batteries_are_sealed_in_their_own_lot_from_the_lots_page(world: World) -> None:
    first = record_intake(world, phones=40, batteries_removed=10, battery_weight_kg=Decimal("0.45"))
    second = record_intake(world, phones=20, batteries_removed=5, battery_weight_kg=Decimal("0.2"))
    client = client_of(world.hub_user)

    response = client.post(
        reverse("collection-lot-seal"),
        {
            "hub": world.hub.code,
            "kind": "batteries",
            "intakes": [first.pk, second.pk],
            "seal_number": "BAT-0001",
        },
        follow=True,
    )

    assert "Sealed lot BAT-0001: 15 batteries, 0.650 kg." in response.content.decode()
    lot = Lot.objects.get(seal_number="BAT-0001")
    assert (lot.kind, lot.batteries, lot.net_weight_kg) == ("batteries", 15, Decimal("0.650"))
    page = response.content.decode()
    # the battery lot does not travel in a phone consignment
    consign = page[page.index('id="consign"') :]
    assert f'name="lots" value="{lot.pk}"' not in consign
    # the phones are still open for a phone lot
    assert f'id="intake-{first.pk}"' in page


def test_the_lots_page_takes_a_fixed_number_of_queries(
    world: World, django_assert_max_num_queries: Any
) -> None:
    for _ in range(6):
        intakes = [record_intake(world, phones=n, battery_weight_kg=Decimal("0.1")) for n in (5, 6)]
        seal_lot(world, intakes)
    client = client_of(world.hub_user)

    with django_assert_max_num_queries(30):
        response = client.get(reverse("collection-lots"))

    assert response.status_code == 200
    assert response.content.decode().count("Intakes add up to the seal.") == 6


# --- device keys -------------------------------------------------------------------------------------


def test_an_administrator_makes_a_device_key_that_syncs_and_revokes_it(world: World) -> None:
    admin = make_member(world.collection_partner, role=Role.ADMIN)
    client = client_of(admin)

    made = client.post(reverse("collection-device-keys"), {"name": "Accra tablet 2"})

    page = made.content.decode()
    assert "shown this once" in page
    raw = page.split('<code style="word-break:break-all">')[1].split("</code>")[0]
    state = Client().get(
        f"/api/v1/collection/hubs/{world.hub.code}/state", headers={"X-API-Key": raw}
    )
    assert state.status_code == 200
    key = world.collection_partner.api_keys.get()
    client.post(reverse("collection-device-keys"), {"revoke": key.pk})
    again = Client().get(
        f"/api/v1/collection/hubs/{world.hub.code}/state", headers={"X-API-Key": raw}
    )
    assert again.status_code == 401


def test_device_keys_are_made_by_administrators_of_the_collection_partner_only(
    world: World,
) -> None:
    member = client_of(world.hub_user)

    response = member.post(reverse("collection-device-keys"), {"name": "my phone"})

    assert "is not an administrator" in response.content.decode()
    assert not world.collection_partner.api_keys.exists()
    assert client_of(world.partner_admin).get(reverse("collection-device-keys")).status_code == 403


def test_the_same_filled_form_sent_twice_is_recorded_once(world: World) -> None:
    client = client_of(world.hub_user)
    data = purchase(world, client_uuid="9b2f4c1e-7d3a-4e8b-a1c5-2f6d8e0b3a47")

    client.post(reverse("collection-intake"), data)
    again = client.post(reverse("collection-intake"), data, follow=True)

    assert "Already recorded: 40 phones" in again.content.decode()
    assert Intake.objects.count() == 1
    assert Payment.objects.count() == 1
