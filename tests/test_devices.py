"""Devices listed one by one: an IMEI or a serial number, stored only as a keyed hash, compensated
once across all partners; a second claim is held, not owed, and never tells who claimed first."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse
from pydantic import ValidationError

from factories import World, imei, make_partner, register
from oneforone.accounts import actions as account_actions
from oneforone.core.models import AuditEvent
from oneforone.partners import actions as partner_actions
from oneforone.partners.actions import RegistrationRejected
from oneforone.partners.identifiers import (
    DeviceKind,
    InvalidIdentifier,
    identifier_hash,
    normalise_imei,
    normalise_serial,
)
from oneforone.partners.models import Channel, Conflict, Device, Registration
from oneforone.partners.schemas import DeviceId, RegistrationRow

VALID = "490154203237518"  # the GSM Association's example IMEI
HELD_NOTE = (
    "Already registered for compensation; not compensated twice. The operator is reviewing it."
)


def row(reference: str, *, imeis: list[str] = (), quantity: int | None = None, **kw):  # type: ignore[assignment,no-untyped-def]
    return RegistrationRow(
        reference=reference,
        category=kw.get("category", "phone"),
        quantity=quantity,
        devices=[DeviceId(imei=i) for i in imeis] or None,
    )


def register_rows(world: World, *rows: RegistrationRow, partner=None, actor=None):  # type: ignore[no-untyped-def]
    return partner_actions.register_devices(
        actor=actor or world.partner_admin,
        partner=partner or world.partner,
        rows=list(enumerate(rows, start=1)),
        channel=Channel.API,
    )


def hash_of(value: str, kind: str = DeviceKind.IMEI) -> str:
    return identifier_hash(kind, value)


# Identifiers -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "written", [VALID, "49-015420-323751-8", " 49 015420 323751 8 ", "490154-20323751-8"]
)
def test_an_imei_is_normalised_to_its_15_digits(written: str) -> None:
    assert normalise_imei(written) == VALID


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        ("490154203237517", "the check digit (the last digit) does not match"),
        ("49015420323751", "14 digits: the IMEI's 15th digit, its check digit, is missing"),
        ("4901542032375", "13 digits; an IMEI has 15"),
        ("49015420323751800", "17 digits; an IMEI has 15"),
        ("4901542032375101", "16 digits is an IMEISV (IMEI with software version), not an IMEI"),
        ("49015420323751A", "only digits are allowed"),
        ("", "empty"),
    ],
    ids=["bad check digit", "14 digits", "13 digits", "17 digits", "IMEISV", "letter", "empty"],
)
def test_a_wrong_imei_is_refused_saying_what_is_wrong(written: str, expected: str) -> None:
    with pytest.raises(InvalidIdentifier) as refused:
        normalise_imei(written)

    assert expected in str(refused.value)
    if written:
        assert written not in str(refused.value), "the message must not repeat the identifier"


def test_a_serial_number_is_stripped_upper_cased_and_checked() -> None:
    assert normalise_serial("  c02xk1/ab.g5-h ") == "C02XK1/AB.G5-H"
    for wrong, expected in [
        ("abc", "3 characters; a serial number has 4 to 40"),
        ("A" * 41, "41 characters"),
        ("ABC D", "only letters A-Z, digits and the characters - / . are allowed"),
        ("ABCÉ", "only letters"),
        ("   ", "empty"),
    ]:
        with pytest.raises(InvalidIdentifier, match=expected):
            normalise_serial(wrong)


@pytest.mark.parametrize(
    "device",
    [{}, {"imei": VALID, "serial": "ABCD1234"}, {"imei": "", "serial": ""}, {"colour": "red"}],
)
def test_a_device_has_exactly_one_identifier(device: dict) -> None:
    with pytest.raises(ValidationError):
        DeviceId.model_validate(device)


def test_a_device_id_is_normalised_and_never_shown_in_its_repr_or_errors() -> None:
    device = DeviceId.model_validate({"imei": "49-015420-323751-8"})
    assert (device.kind, device.value) == (DeviceKind.IMEI, VALID)
    assert VALID not in repr(device)

    with pytest.raises(ValidationError) as refused:
        RegistrationRow.model_validate(
            {"reference": "R", "category": "phone", "devices": [{"imei": "490154203237517"}]}
        )
    assert "490154203237517" not in str(refused.value)
    assert "check digit" in str(refused.value)


def test_the_hash_is_keyed_by_the_kind_and_the_setting(settings) -> None:  # type: ignore[no-untyped-def]
    hashed = hash_of(VALID)

    assert len(hashed) == 64
    assert all(c in "0123456789abcdef" for c in hashed)
    assert hash_of(VALID) == hashed, "the same device always gives the same hash"
    assert hash_of(VALID, DeviceKind.SERIAL) != hashed
    settings.DEVICE_IDENTIFIER_KEY = "another key"
    assert hash_of(VALID) != hashed, "without the key a hash cannot be recomputed"


def test_production_refuses_to_start_without_a_device_key(tmp_path) -> None:  # type: ignore[no-untyped-def]
    environment = {
        **os.environ,
        "ONEFORONE_ENV": "production",
        "SECRET_KEY": "a production secret",
        "DATABASE_URL": "postgresql://nobody@127.0.0.1:1/none",
        "ONEFORONE_DATA_DIR": str(tmp_path),
    }
    environment.pop("ONEFORONE_DEVICE_KEY", None)
    command = [
        sys.executable,
        "-c",
        "import oneforone.settings as s; print(len(s.DEVICE_IDENTIFIER_KEY))",
    ]

    refused = subprocess.run(command, env=environment, capture_output=True, text=True)  # noqa: S603
    assert refused.returncode != 0
    assert "ONEFORONE_DEVICE_KEY must be set" in refused.stderr

    environment["ONEFORONE_DEVICE_KEY"] = "k" * 40
    started = subprocess.run(command, env=environment, capture_output=True, text=True)  # noqa: S603
    assert started.returncode == 0, started.stderr
    assert started.stdout.strip() == "40"


# Registering devices -----------------------------------------------------------------------------


def test_listed_devices_set_the_quantity_and_are_claimed_in_order(world: World) -> None:
    imeis = [imei(n) for n in range(3)]

    [registration] = created = register_rows(
        world,
        RegistrationRow(
            reference="D-1",
            category="tablet",
            devices=[DeviceId(imei=imeis[0]), DeviceId(serial="sn-0001"), DeviceId(imei=imeis[1])],
        ),
    )

    registration.refresh_from_db()
    assert (registration.quantity, registration.devices_excluded, registration.units_owed) == (
        3,
        0,
        6,
    )
    assert [(d.position, d.kind, d.status) for d in registration.devices.all()] == [
        (1, "imei", "claimed"),
        (2, "serial", "claimed"),
        (3, "imei", "claimed"),
    ]
    assert registration.devices.get(position=2).identifier_hash == hash_of("SN-0001", "serial")
    claims = created.claims(registration)
    assert (claims.listed, claims.claimed, claims.already_compensated) == (3, 3, 0)


def test_the_quantity_may_be_given_but_must_match_the_devices() -> None:
    assert row("Q", imeis=[imei(1), imei(2)], quantity=2).quantity == 2
    with pytest.raises(ValidationError, match="quantity 3 does not match the 2 devices listed"):
        row("Q", imeis=[imei(1), imei(2)], quantity=3)
    with pytest.raises(ValidationError):
        RegistrationRow.model_validate({"reference": "Q", "category": "phone", "devices": []})


def test_a_device_listed_twice_is_refused_and_nothing_is_written(world: World) -> None:
    with pytest.raises(ValidationError, match="device 4 is the same IMEI as device 2"):
        row("TWICE", imeis=[imei(1), "49-015420-323751-8", imei(2), VALID])

    with pytest.raises(RegistrationRejected) as rejected:
        register_rows(world, row("A", imeis=[imei(1), imei(2)]), row("B", imeis=[imei(3), imei(2)]))
    [problem] = rejected.value.problems
    assert (problem.line, problem.field) == (2, "devices")
    assert problem.message == "device 2 is the same IMEI as device 2 of line 1"
    assert not Registration.objects.exists()
    assert not Device.objects.exists()


def test_a_partner_registering_its_own_device_again_holds_it_and_owes_one_less(
    world: World,
) -> None:
    first = register(world, imeis=[imei(1), imei(2)])

    created = register_rows(world, row("AGAIN", imeis=[imei(3), imei(2), imei(4)]))

    [again] = created
    again.refresh_from_db()
    claims = created.claims(again)
    assert (claims.listed, claims.claimed, claims.already_compensated) == (3, 2, 1)
    assert [d.status for d in again.devices.all()] == ["claimed", "held", "claimed"]
    assert (again.quantity, again.devices_excluded, again.units_owed) == (3, 1, 2)
    conflict = Conflict.objects.get()
    assert conflict.status == "open"
    assert conflict.first_device == first.devices.get(position=2)
    assert conflict.second_device == again.devices.get(position=2)
    assert conflict.identifier_hash == hash_of(imei(2))


def test_another_partner_registering_a_claimed_device_gets_a_held_device(world: World) -> None:
    other, other_admin = make_partner()
    register(world, imeis=[imei(7)], category="laptop")

    theirs = register(world, imeis=[imei(7), imei(8)], partner=other, actor=other_admin)

    assert [d.status for d in theirs.devices.all()] == ["held", "claimed"]
    assert theirs.units_owed == 1
    assert Device.objects.filter(identifier_hash=hash_of(imei(7)), status="claimed").count() == 1
    assert Conflict.objects.get().second_device.registration == theirs


def test_a_registration_of_only_claimed_devices_owes_nothing(world: World) -> None:
    register(world, imeis=[imei(1)])
    again = register(world, imeis=[imei(1)])
    assert (again.quantity, again.devices_excluded, again.units_owed) == (1, 1, 0)


def test_one_audit_event_with_counts_and_no_identifier(world: World) -> None:
    register(world, imeis=[imei(1)])
    events = AuditEvent.objects.count()

    register_rows(world, row("A", imeis=[imei(1), imei(2)]), row("B", quantity=5))

    assert AuditEvent.objects.count() == events + 1
    event = AuditEvent.objects.latest("id")
    assert event.data["devices"] == 7
    assert event.data["devices_listed"] == 2
    assert event.data["conflicts"] == 1
    assert imei(1) not in json.dumps(event.data)


def test_the_clear_identifier_is_stored_nowhere(world: World, client: Client) -> None:
    """Every text column of every table is searched for the IMEIs and serials registered."""
    other, other_admin = make_partner()
    clear = [imei(11), imei(12), "C02XK1ABJG5H"]
    register(world, imeis=clear[:2], serials=clear[2:])
    register(world, imeis=clear[:1], partner=other, actor=other_admin)
    post = client.post(
        "/api/v1/registrations",
        data=json.dumps({"reference": "API", "category": "phone", "devices": [{"imei": clear[1]}]}),
        content_type="application/json",
        headers={"X-API-Key": _api_key(world)},
    )
    assert post.status_code == 201
    assert Device.objects.count() == 5
    assert Conflict.objects.count() == 2

    with connection.cursor() as cursor:
        cursor.execute(
            """SELECT table_name, column_name FROM information_schema.columns
               WHERE table_schema = 'public'
                 AND data_type IN ('text', 'character varying', 'character', 'json', 'jsonb')"""
        )
        columns = cursor.fetchall()
        assert ("partners_device", "identifier_hash") in columns
        assert ("core_auditevent", "data") in columns
        for table, column in columns:
            for value in clear:
                cursor.execute(
                    f'SELECT count(*) FROM "{table}" WHERE "{column}"::text ILIKE %s',
                    [f"%{value}%"],
                )
                assert cursor.fetchone() == (0,), f"{table}.{column} holds a clear identifier"


def test_the_database_refuses_anything_but_a_hash_as_identifier(world: World) -> None:
    from django.db import IntegrityError, transaction

    registration = register(world, imeis=[imei(1)])
    with pytest.raises(IntegrityError, match="device_hash_only"), transaction.atomic():
        Device.objects.create(
            registration=registration, position=2, kind="imei", identifier_hash=imei(2)
        )


def test_ten_thousand_devices_take_a_bounded_number_of_queries(
    world: World, django_assert_max_num_queries
) -> None:
    other, other_admin = make_partner()
    imeis = [imei(n) for n in range(10_000)]
    rows = [
        (1, row("BULK-1", imeis=imeis[:6000])),
        (2, row("BULK-2", imeis=imeis[6000:])),
    ]

    with django_assert_max_num_queries(20):
        created = partner_actions.register_devices(
            actor=world.partner_admin, partner=world.partner, rows=rows, channel=Channel.CSV
        )
    assert [created.claims(r).claimed for r in created] == [6000, 4000]

    overlapping = [
        (1, row("BULK-3", imeis=imeis[5000:] + [imei(n) for n in range(10_000, 15_000)]))
    ]
    # The conflicts: a few statements more (held devices, conflicts, their webhook listeners),
    # whatever their number.
    with django_assert_max_num_queries(25):
        [again] = partner_actions.register_devices(
            actor=other_admin, partner=other, rows=overlapping, channel=Channel.API
        )
    again.refresh_from_db()
    assert (again.quantity, again.devices_excluded, again.units_owed) == (10_000, 5000, 5000)
    assert Conflict.objects.count() == 5000
    assert Device.objects.filter(status="claimed").count() == 15_000


# What the second partner sees --------------------------------------------------------------------


def _api_key(world: World, partner=None, admin=None) -> str:  # type: ignore[no-untyped-def]
    _key, raw = account_actions.create_api_key(
        actor=admin or world.partner_admin, organisation=partner or world.partner, name="ERP"
    )
    return raw


def test_the_api_registers_devices_and_lists_them_with_their_status(
    world: World, client: Client
) -> None:
    other, other_admin = make_partner()
    first = register(world, imeis=[imei(5)], reference="FIRST-SECRET-REF")
    key = _api_key(world, other, other_admin)

    response = client.post(
        "/api/v1/registrations",
        data=json.dumps(
            {
                "reference": "SECOND",
                "category": "phone",
                "devices": [{"imei": imei(6)}, {"imei": imei(5)}, {"serial": "abc-123"}],
            }
        ),
        content_type="application/json",
        headers={"X-API-Key": key},
    )

    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["quantity"], body["units_owed"]) == (3, 2)
    assert (
        body["devices_listed"],
        body["devices_claimed"],
        body["devices_already_compensated"],
    ) == (3, 2, 1)
    assert [(d["position"], d["kind"], d["status"]) for d in body["devices"]] == [
        (1, "imei", "claimed"),
        (2, "imei", "held"),
        (3, "serial", "claimed"),
    ]
    held = body["devices"][1]
    assert held["status_label"] == "already compensated"
    assert held["note"] == HELD_NOTE

    detail = client.get(f"/api/v1/registrations/{body['id']}", headers={"X-API-Key": key})
    listing = client.get("/api/v1/registrations", headers={"X-API-Key": key})
    assert detail.json()["devices"] == body["devices"]
    assert listing.json()["items"][0]["devices_already_compensated"] == 1
    assert "devices" not in listing.json()["items"][0]
    for text in (response.content, detail.content, listing.content):
        page = text.decode()
        assert world.partner.name not in page
        assert first.reference not in page
        for clear in (imei(5), imei(6), "ABC-123"):
            assert clear not in page


def test_the_api_refuses_a_wrong_imei_without_repeating_it(world: World, client: Client) -> None:
    response = client.post(
        "/api/v1/registrations",
        data=json.dumps(
            {"reference": "BAD", "category": "phone", "devices": [{"imei": "490154203237517"}]}
        ),
        content_type="application/json",
        headers={"X-API-Key": _api_key(world)},
    )

    assert response.status_code == 422
    assert "check digit" in response.content.decode()
    assert "490154203237517" not in response.content.decode()
    assert not Registration.objects.exists()


def test_a_quantity_only_registration_still_works_through_the_api(
    world: World, client: Client
) -> None:
    response = client.post(
        "/api/v1/registrations",
        data=json.dumps({"reference": "Q", "category": "phone", "quantity": 4}),
        content_type="application/json",
        headers={"X-API-Key": _api_key(world)},
    )
    assert response.status_code == 201
    body = response.json()
    assert (body["units_owed"], body["devices_listed"], body["devices"]) == (4, 0, [])


def test_the_second_partners_page_says_already_compensated_and_never_names_the_first(
    world: World,
) -> None:
    other, other_admin = make_partner()
    first = register(world, imeis=[imei(1), imei(2)], reference="FIRST-SECRET-REF")
    theirs = register(world, imeis=[imei(3), imei(2)], partner=other, actor=other_admin)
    client = Client()
    client.force_login(other_admin)

    page = client.get(reverse("partner-registration", args=[theirs.pk]))

    assert page.status_code == 200
    body = page.content.decode()
    assert HELD_NOTE in body
    assert "already compensated" in body
    assert "1 counted · 1 already compensated" in body
    assert world.partner.name not in body
    assert first.reference not in body
    assert imei(2) not in body
    listing = client.get(reverse("partner-registrations")).content.decode()
    assert "1 already compensated" in listing
    assert world.partner.name not in listing


def test_the_devices_of_a_large_registration_are_paged(world: World) -> None:
    registration = register(world, imeis=[imei(n) for n in range(250)])
    client = Client()
    client.force_login(world.partner_admin)

    last = client.get(reverse("partner-registration", args=[registration.pk]), {"devices": 3})

    assert "devices 201–250 of 250" in last.content.decode()
    assert len(last.context["device_rows"]) == 50
    assert last.context["device_rows"][0]["position"] == 201


def test_a_csv_upload_says_how_many_devices_were_already_compensated(
    world: World, django_capture_on_commit_callbacks, settings, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    from django.core.files.uploadedfile import SimpleUploadedFile

    settings.MEDIA_ROOT = tmp_path
    other, other_admin = make_partner()
    register(world, imeis=[imei(2)])
    client = Client()
    client.force_login(other_admin)
    csv = f"reference,category,imei\nC-1,phone,{imei(1)}\nC-1,phone,{imei(2)}\n".encode()

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("partner-upload"),
            {
                "file": SimpleUploadedFile("devices.csv", csv, content_type="text/csv"),
                "mode": "accept_valid",
            },
        )
    response = client.get(response["Location"])

    page = response.content.decode()
    assert "2 lines · 1 accepted · 0 rejected · 1 conflicts" in " ".join(page.split())
    assert "already registered for compensation, by you or anyone" in page
    assert world.partner.name not in page
    assert Registration.objects.get(partner=other).units_owed == 1
