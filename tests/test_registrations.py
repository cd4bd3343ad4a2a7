"""Registrations: what a partner owes, all rows or none; and the API shows a partner only its own."""

from __future__ import annotations

import json

import pytest
from django.test import Client
from pydantic import ValidationError

from factories import World, issue, make_member, make_partner, register
from oneforone.accounts import actions as account_actions
from oneforone.accounts.models import Role
from oneforone.accounts.permissions import NotAllowed
from oneforone.core.models import AuditEvent
from oneforone.partners import actions as partner_actions
from oneforone.partners.actions import RegistrationRejected
from oneforone.partners.models import Channel, Registration
from oneforone.partners.schemas import RegistrationRow
from oneforone.registry import actions as registry_actions


def rows(*specs: tuple[str, str, int]) -> list[tuple[int, RegistrationRow]]:
    return [
        (line, RegistrationRow(reference=reference, category=category, quantity=quantity))
        for line, (reference, category, quantity) in enumerate(specs, start=1)
    ]


def register_rows(world: World, *specs: tuple[str, str, int]) -> list[Registration]:
    return partner_actions.register_devices(
        actor=world.partner_admin, partner=world.partner, rows=rows(*specs), channel=Channel.CSV
    )


# Units owed ------------------------------------------------------------------------------------


@pytest.mark.parametrize(("category", "units"), [("phone", 1), ("tablet", 2), ("laptop", 3)])
def test_units_owed_is_quantity_times_units_per_device(
    world: World, category: str, units: int
) -> None:
    registration = register(world, quantity=7, category=category)

    assert registration.units_per_device == units
    assert registration.units_owed == 7 * units


def test_a_batch_of_rows_is_registered_with_one_audit_event(world: World) -> None:
    events = AuditEvent.objects.count()

    created = register_rows(world, ("A-1", "phone", 2), ("A-2", "laptop", 4), ("A-3", "Tablet", 1))

    assert [(r.reference, r.category.code, r.quantity) for r in created] == [
        ("A-1", "phone", 2),
        ("A-2", "laptop", 4),
        ("A-3", "tablet", 1),
    ]
    assert sorted(Registration.objects.values_list("units_owed", flat=True)) == [2, 2, 12]
    assert AuditEvent.objects.count() == events + 1
    event = AuditEvent.objects.order_by("-id").first()
    assert event is not None
    assert event.code == "partners.registrations.created"
    assert event.data["devices"] == 7


# Rejections: all rows or none ------------------------------------------------------------------


def test_an_unknown_category_is_rejected_with_its_line_and_nothing_is_written(world: World) -> None:
    with pytest.raises(RegistrationRejected) as rejected:
        register_rows(world, ("B-1", "phone", 1), ("B-2", "toaster", 1), ("B-3", "phone", 1))

    [problem] = rejected.value.problems
    assert (problem.line, problem.field) == (2, "category")
    assert "unknown category 'toaster'" in problem.message
    assert "laptop, phone, tablet" in problem.message
    assert "line 2" in str(rejected.value)
    assert not Registration.objects.exists()


def test_a_reference_repeated_in_the_batch_is_rejected_with_both_lines(world: World) -> None:
    with pytest.raises(RegistrationRejected) as rejected:
        register_rows(world, ("C-1", "phone", 1), ("C-2", "phone", 1), ("C-1", "laptop", 1))

    [problem] = rejected.value.problems
    assert problem.line == 3
    assert problem.message == "reference 'C-1' repeats line 1"
    assert not Registration.objects.exists()


def test_a_reference_already_registered_is_rejected_and_nothing_is_written(world: World) -> None:
    register(world, reference="D-1")
    before = Registration.objects.count()

    with pytest.raises(RegistrationRejected) as rejected:
        register_rows(world, ("D-0", "phone", 1), ("D-1", "phone", 1))

    [problem] = rejected.value.problems
    assert problem.line == 2
    assert problem.message == "reference 'D-1' is already registered"
    assert Registration.objects.count() == before


def test_every_problem_is_reported_in_line_order(world: World) -> None:
    register(world, reference="E-9")
    with pytest.raises(RegistrationRejected) as rejected:
        register_rows(
            world, ("E-1", "fridge", 1), ("E-9", "phone", 1), ("E-1", "phone", 1), ("E-4", "x", 2)
        )
    assert [p.line for p in rejected.value.problems] == [1, 2, 3, 4]


def test_another_partner_may_use_the_same_reference(world: World) -> None:
    other, other_admin = make_partner()
    register(world, reference="SAME")
    theirs = register(world, reference="SAME", partner=other, actor=other_admin)
    assert theirs.partner == other


def test_only_partners_register_and_an_empty_batch_is_refused(world: World) -> None:
    with pytest.raises(RegistrationRejected, match="is not a partner"):
        partner_actions.register_devices(
            actor=world.hub_user,
            partner=world.collection_partner,
            rows=rows(("F-1", "phone", 1)),
            channel=Channel.FORM,
        )
    with pytest.raises(RegistrationRejected, match="no registrations given"):
        partner_actions.register_devices(
            actor=world.partner_admin, partner=world.partner, rows=[], channel=Channel.FORM
        )
    assert not Registration.objects.exists()


@pytest.mark.parametrize(
    "row",
    [
        {"reference": "", "category": "phone", "quantity": 1},
        {"reference": "G-1", "category": "phone", "quantity": 0},
        {"reference": "G-1", "category": "phone", "quantity": 1_000_001},
        {"reference": "G-1", "category": "phone", "quantity": 1, "colour": "red"},
        {"reference": "G-1", "category": "phone"},
        {"reference": "x" * 101, "category": "phone", "quantity": 1},
    ],
)
def test_the_row_schema_refuses_malformed_rows(row: dict) -> None:
    with pytest.raises(ValidationError):
        RegistrationRow.model_validate(row)


# The API: a partner sees only its own ------------------------------------------------------------


def api_key(world: World, partner=None, admin=None) -> str:
    _key, raw = account_actions.create_api_key(
        actor=admin or world.partner_admin, organisation=partner or world.partner, name="ERP"
    )
    return raw


def post(client: Client, key: str, payload: dict) -> object:
    return client.post(
        "/api/v1/registrations",
        data=json.dumps(payload),
        content_type="application/json",
        headers={"X-API-Key": key},
    )


def test_an_api_key_is_created_by_an_administrator_of_the_partner(world: World) -> None:
    member = make_member(world.partner, role=Role.MEMBER)
    with pytest.raises(NotAllowed, match="not an administrator"):
        account_actions.create_api_key(actor=member, organisation=world.partner, name="ERP")
    with pytest.raises(NotAllowed):
        account_actions.create_api_key(actor=world.hub_user, organisation=world.partner, name="x")


def test_a_partner_registers_devices_through_the_api(world: World, client: Client) -> None:
    key = api_key(world)

    response = post(client, key, {"reference": "API-1", "category": "laptop", "quantity": 5})

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["reference"] == "API-1"
    assert body["units_owed"] == 15
    assert body["units_allocated"] == 0
    registration = Registration.objects.get(pk=body["id"])
    assert registration.partner == world.partner
    assert registration.channel == Channel.API


def test_the_api_rejects_a_repeated_reference_and_an_unknown_category(
    world: World, client: Client
) -> None:
    key = api_key(world)
    assert (
        post(client, key, {"reference": "R", "category": "phone", "quantity": 1}).status_code == 201
    )

    again = post(client, key, {"reference": "R", "category": "phone", "quantity": 1})
    assert again.status_code == 409
    assert "already registered" in again.json()["errors"][0]["message"]
    unknown = post(client, key, {"reference": "S", "category": "toaster", "quantity": 1})
    assert unknown.status_code == 422
    assert unknown.json()["errors"][0]["field"] == "category"
    malformed = post(client, key, {"reference": "T", "category": "phone", "quantity": -1})
    assert malformed.status_code == 422
    assert Registration.objects.count() == 1


def test_the_api_lists_only_the_partners_own_registrations(world: World, client: Client) -> None:
    other, other_admin = make_partner()
    mine = register(world, reference="MINE")
    theirs = register(world, reference="THEIRS", partner=other, actor=other_admin)
    key = api_key(world)

    listed = client.get("/api/v1/registrations", headers={"X-API-Key": key})
    assert listed.status_code == 200
    assert [r["reference"] for r in listed.json()["items"]] == ["MINE"]

    own = client.get(f"/api/v1/registrations/{mine.pk}", headers={"X-API-Key": key})
    assert own.status_code == 200
    assert own.json()["id"] == mine.pk
    other_one = client.get(f"/api/v1/registrations/{theirs.pk}", headers={"X-API-Key": key})
    assert other_one.status_code == 404
    assert "THEIRS" not in other_one.content.decode()


def test_the_api_serves_only_the_partners_own_certificates(world: World, client: Client) -> None:
    other, other_admin = make_partner()
    mine = register(world, quantity=2)
    theirs = register(world, quantity=2, partner=other, actor=other_admin)
    issue(world, 4)
    registry_actions.allocate(actor=world.operator_user)
    mine.refresh_from_db()
    theirs.refresh_from_db()
    key = api_key(world)

    own = client.get(
        f"/api/v1/certificates/{mine.current_certificate().code}", headers={"X-API-Key": key}
    )
    assert own.status_code == 200
    body = own.json()
    assert body["snapshot"]["registration"] == mine.reference
    assert body["snapshot_sha256"] == mine.current_certificate().snapshot_sha256
    assert body["verify_url"].endswith(f"/verify/{mine.current_certificate().code}")

    stolen = client.get(
        f"/api/v1/certificates/{theirs.current_certificate().code}", headers={"X-API-Key": key}
    )
    assert stolen.status_code == 404
    assert theirs.reference not in stolen.content.decode()

    listed = client.get(f"/api/v1/registrations/{mine.pk}", headers={"X-API-Key": key}).json()
    assert listed["units_allocated"] == 2
    assert listed["certificate"] == mine.current_certificate().code


@pytest.mark.parametrize(
    "headers",
    [{}, {"X-API-Key": "o4o_abcdef123456_wrong"}, {"X-API-Key": "not-a-key"}],
    ids=["no key", "wrong secret", "malformed"],
)
def test_the_api_refuses_a_missing_or_bad_key(world: World, client: Client, headers) -> None:
    api_key(world)
    for method, url in [
        ("get", "/api/v1/registrations"),
        ("get", "/api/v1/registrations/1"),
        ("get", "/api/v1/certificates/C-XXXXXXXXXX"),
        ("post", "/api/v1/registrations"),
    ]:
        response = getattr(client, method)(url, headers=headers)
        assert response.status_code == 401, (method, url)
    assert not Registration.objects.exists()


def test_a_revoked_key_or_a_non_partner_key_is_refused(world: World, client: Client) -> None:
    key, raw = account_actions.create_api_key(
        actor=world.partner_admin, organisation=world.partner, name="old"
    )
    account_actions.revoke_api_key(actor=world.partner_admin, key=key)
    assert client.get("/api/v1/registrations", headers={"X-API-Key": raw}).status_code == 401

    hub_admin = make_member(world.collection_partner, role=Role.ADMIN)
    _, hub_key = account_actions.create_api_key(
        actor=hub_admin, organisation=world.collection_partner, name="hub"
    )
    assert client.get("/api/v1/registrations", headers={"X-API-Key": hub_key}).status_code == 401


def test_the_openapi_document_is_served(db: None, client: Client) -> None:
    response = client.get("/api/v1/openapi.json")

    assert response.status_code == 200
    document = response.json()
    assert document["openapi"].startswith("3.")
    assert "/api/v1/registrations" in document["paths"]
    assert "/api/v1/certificates/{code}" in document["paths"]
    schemes = document["components"]["securitySchemes"]
    assert any(s.get("name") == "X-API-Key" for s in schemes.values())


def test_the_api_refuses_a_reference_with_a_nul_character(world: World, client: Client) -> None:
    response = post(
        client, api_key(world), {"reference": "A\x00B", "category": "phone", "quantity": 1}
    )
    assert response.status_code == 422
    assert not Registration.objects.exists()
