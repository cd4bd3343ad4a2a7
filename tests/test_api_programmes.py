"""API v1: programmes, registrations under a programme, cancelling, impact per programme."""

from __future__ import annotations

from django.test import Client

from factories import World, issue, make_partner, make_programme, register
from oneforone.partners.models import Programme, Registration
from oneforone.registry import actions as registry_actions
from test_api import assert_error_body, get, new_key, post


def test_a_partner_lists_its_programmes_with_their_figures(world: World, client: Client) -> None:
    make_programme(world.partner, code="tender-a", mode="public_tender", quota=100)
    register(world, quantity=3)
    other, _ = make_partner()
    make_programme(other, code="not-yours")

    page = get(client, new_key(world), "/api/v1/programmes").json()

    by_code = {p["code"]: p for p in page["items"]}
    assert set(by_code) == {"general", "tender-a"}
    assert by_code["general"]["is_default"] is True
    assert by_code["general"]["devices"] == 3
    assert by_code["tender-a"]["quota"] == 100
    assert by_code["tender-a"]["activation_mode"] == "public_tender"
    assert page["next_cursor"] is None


def test_another_partners_programme_is_not_found(world: World, client: Client) -> None:
    other, _ = make_partner()
    make_programme(other, code="theirs")

    response = get(client, new_key(world), "/api/v1/programmes/theirs")

    assert_error_body(response, 404, "not_found")


def test_a_registration_names_its_programme(world: World, client: Client) -> None:
    make_programme(world.partner, code="business")
    key = new_key(world)

    created = post(
        client,
        key,
        "/api/v1/registrations",
        {"reference": "PO-1", "category": "phone", "quantity": 2, "programme": "business"},
    )
    unknown = post(
        client,
        key,
        "/api/v1/registrations",
        {"reference": "PO-2", "category": "phone", "quantity": 2, "programme": "nope"},
    )

    assert created.status_code == 201, created.content
    assert created.json()["programme"] == "business"
    body = assert_error_body(unknown, 422, "rejected")
    assert body["errors"][0]["code"] == "unknown_programme"
    assert body["errors"][0]["field"] == "programme"
    listed = get(client, key, "/api/v1/registrations", programme="business").json()["items"]
    assert [r["reference"] for r in listed] == ["PO-1"]


def test_a_tender_past_its_quota_is_refused_with_its_own_code(world: World, client: Client) -> None:
    make_programme(world.partner, code="tender", mode="public_tender", quota=5)

    response = post(
        client,
        new_key(world),
        "/api/v1/registrations",
        {"reference": "T-1", "category": "phone", "quantity": 6, "programme": "tender"},
    )

    body = assert_error_body(response, 422, "rejected")
    assert body["errors"][0]["code"] == "over_quota"


def test_a_registration_is_cancelled_through_the_api_until_units_are_allocated(
    world: World, client: Client
) -> None:
    key = new_key(world)
    allocated = register(world, quantity=1)
    waiting = register(world, quantity=2)
    issue(world, 1)
    registry_actions.allocate(actor=world.operator_user)
    assert Registration.objects.get(pk=waiting.pk).units_owed == 2

    cancelled = post(
        client, key, f"/api/v1/registrations/{waiting.pk}/cancel", {"reason": "order returned"}
    )
    again = post(client, key, f"/api/v1/registrations/{waiting.pk}/cancel", {"reason": "again"})
    too_late = post(client, key, f"/api/v1/registrations/{allocated.pk}/cancel", {"reason": "x"})

    assert cancelled.status_code == 200, cancelled.content
    assert cancelled.json()["status"] == "cancelled"
    assert cancelled.json()["units_owed"] == 0
    assert_error_body(again, 409, "already_cancelled")
    assert_error_body(too_late, 409, "already_allocated")
    listed = get(client, key, "/api/v1/registrations", status="cancelled").json()["items"]
    assert [r["id"] for r in listed] == [waiting.pk]


def test_another_partner_cannot_cancel_a_registration(world: World, client: Client) -> None:
    registration = register(world, quantity=1)
    other, admin = make_partner()

    response = post(
        client,
        new_key(world, partner=other, admin=admin),
        f"/api/v1/registrations/{registration.pk}/cancel",
        {"reason": "not mine"},
    )

    assert_error_body(response, 404, "not_found")
    assert Registration.objects.get(pk=registration.pk).cancelled_at is None


def test_impact_is_answered_for_one_programme(world: World, client: Client) -> None:
    make_programme(world.partner, code="business")
    register(world, quantity=4)
    key = new_key(world)
    post(
        client,
        key,
        "/api/v1/registrations",
        {"reference": "B-1", "category": "phone", "quantity": 1, "programme": "business"},
    )

    whole = get(client, key, "/api/v1/impact").json()
    business = get(client, key, "/api/v1/impact", programme="business").json()
    unknown = get(client, key, "/api/v1/impact", programme="missing")

    assert whole["devices_registered"] == 5
    assert business["devices_registered"] == 1
    assert_error_body(unknown, 404, "not_found")
    assert Programme.objects.filter(partner=world.partner).count() == 2
