"""API v1: one error body, cursor pagination, key scopes, rotation and expiry, per-key rate
limits, every POST idempotent, and a partner's certificates, impact and conflicts."""

from __future__ import annotations

import datetime as dt
import json
import re

import pytest
import time_machine
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone

from factories import World, imei, issue, make_member, make_partner, register
from oneforone.accounts import actions as account_actions
from oneforone.accounts.actions import ApiKeyRefused
from oneforone.accounts.models import ApiKey, ApiKeyScope, Role
from oneforone.accounts.permissions import NotAllowed
from oneforone.accounts.queries import api_key_for
from oneforone.api import api
from oneforone.partners.api import MAX_DEVICES_PER_REQUEST
from oneforone.partners.models import Registration
from oneforone.registry import actions as registry_actions
from oneforone.registry.models import Certificate

ERROR_KEYS = {"code", "message", "errors"}
ITEM_KEYS = {"code", "message", "field", "line"}


def new_key(world: World, scope: str = ApiKeyScope.WRITE, partner=None, admin=None) -> str:
    _, raw = account_actions.create_api_key(
        actor=admin or world.partner_admin,
        organisation=partner or world.partner,
        name="ERP",
        scope=scope,
    )
    return raw


def get(client: Client, key: str, url: str, **params: object):  # type: ignore[no-untyped-def]
    return client.get(url, params, headers={"X-API-Key": key})


def post(client: Client, key: str, url: str, body: object, **headers: str):  # type: ignore[no-untyped-def]
    return client.post(
        url,
        data=json.dumps(body),
        content_type="application/json",
        headers={"X-API-Key": key, **headers},
    )


def assert_error_body(response, status: int, code: str) -> dict:  # type: ignore[no-untyped-def]
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == ERROR_KEYS
    assert body["code"] == code
    assert body["message"]
    assert all(set(item) == ITEM_KEYS for item in body["errors"])
    return body


# One error body -------------------------------------------------------------------------------


def test_every_kind_of_error_has_the_same_body(world: World, client: Client) -> None:
    key = new_key(world)
    reader = new_key(world, ApiKeyScope.READ)

    assert_error_body(client.get("/api/v1/registrations"), 401, "unauthenticated")
    assert_error_body(
        get(client, "o4o_000000000000_nope", "/api/v1/impact"), 401, "unauthenticated"
    )
    assert_error_body(get(client, key, "/api/v1/registrations/999999"), 404, "not_found")
    assert_error_body(get(client, key, "/api/v1/certificates/C-NOPE"), 404, "not_found")
    assert_error_body(
        post(client, reader, "/api/v1/registrations", {"reference": "R", "category": "phone"}),
        403,
        "insufficient_scope",
    )
    not_allowed = client.delete("/api/v1/registrations", headers={"X-API-Key": key})
    assert_error_body(not_allowed, 405, "method_not_allowed")
    assert "GET" in not_allowed["Allow"]
    body = assert_error_body(
        get(client, key, "/api/v1/registrations", limit=0), 422, "validation_error"
    )
    assert body["errors"][0]["field"] == "limit"
    assert body["errors"][0]["line"] is None


def test_a_validation_error_names_the_field_and_for_a_batch_the_line(
    world: World, client: Client
) -> None:
    key = new_key(world)

    single = post(
        client,
        key,
        "/api/v1/registrations",
        {
            "reference": "A",
            "category": "phone",
            "devices": [{"imei": "490154203237518"}, {"imei": "123"}],
        },
    )
    [problem] = assert_error_body(single, 422, "validation_error")["errors"]
    assert problem["field"] == "devices.1"
    assert problem["line"] is None
    assert "IMEI" in problem["message"]

    batch = post(
        client,
        key,
        "/api/v1/registrations/batch",
        {
            "registrations": [
                {"reference": "B1", "category": "phone", "quantity": 1},
                {"reference": "B2", "category": "phone", "quantity": 0},
                {"reference": "B3", "category": "phone"},
            ]
        },
    )
    problems = assert_error_body(batch, 422, "validation_error")["errors"]
    assert [(p["line"], p["field"]) for p in problems] == [(2, "quantity"), (3, None)]
    assert not Registration.objects.exists()


def test_a_batch_is_all_or_nothing_and_says_which_line_is_wrong(
    world: World, client: Client
) -> None:
    key = new_key(world)
    register(world, reference="TAKEN")

    refused = post(
        client,
        key,
        "/api/v1/registrations/batch",
        {
            "registrations": [
                {"reference": "NEW-1", "category": "phone", "quantity": 2},
                {"reference": "NEW-2", "category": "toaster", "quantity": 1},
                {"reference": "TAKEN", "category": "phone", "quantity": 1},
            ]
        },
    )
    problems = assert_error_body(refused, 422, "rejected")["errors"]
    assert [(p["line"], p["field"], p["code"]) for p in problems] == [
        (2, "category", "unknown_category"),
        (3, "reference", "reference_taken"),
    ]
    assert not Registration.objects.filter(reference__startswith="NEW-").exists()

    in_dutch = post(
        client,
        key,
        "/api/v1/registrations/batch",
        {"registrations": [{"reference": "NEW-2", "category": "toaster", "quantity": 1}]},
        **{"Accept-Language": "nl"},
    )
    [problem] = assert_error_body(in_dutch, 422, "rejected")["errors"]
    assert problem["code"] == "unknown_category"  # codes stay what clients test for
    assert problem["message"].startswith("onbekende categorie 'toaster'")

    made = post(
        client,
        key,
        "/api/v1/registrations/batch",
        {
            "registrations": [
                {"reference": "NEW-1", "category": "phone", "quantity": 2},
                {"reference": "NEW-2", "category": "laptop", "devices": [{"imei": imei(1)}]},
            ]
        },
    )
    assert made.status_code == 201, made.content
    items = made.json()["items"]
    assert [(i["reference"], i["units_owed"], i["devices_listed"]) for i in items] == [
        ("NEW-1", 2, 0),
        ("NEW-2", 3, 1),
    ]


def test_a_request_of_more_than_10000_devices_is_refused_whole(
    world: World, client: Client
) -> None:
    key = new_key(world)
    half = MAX_DEVICES_PER_REQUEST // 2
    body = {
        "registrations": [
            {
                "reference": "BIG-1",
                "category": "phone",
                "devices": [{"imei": imei(n)} for n in range(half)],
            },
            {
                "reference": "BIG-2",
                "category": "phone",
                "devices": [{"imei": imei(n)} for n in range(half, 2 * half + 1)],
            },
        ]
    }

    refused = post(client, key, "/api/v1/registrations/batch", body)

    assert_error_body(refused, 413, "too_many_devices")
    assert "at most 10,000" in refused.json()["message"]
    assert not Registration.objects.exists()


def test_a_repeated_reference_is_a_409(world: World, client: Client) -> None:
    key = new_key(world)
    body = {"reference": "R-1", "category": "phone", "quantity": 1}
    assert post(client, key, "/api/v1/registrations", body).status_code == 201
    problem = assert_error_body(
        post(client, key, "/api/v1/registrations", body), 409, "reference_taken"
    )
    assert problem["errors"][0]["field"] == "reference"


# Cursor pagination ----------------------------------------------------------------------------


def test_pages_follow_the_cursor_and_stay_stable_when_rows_are_added(
    world: World, client: Client
) -> None:
    key = new_key(world)
    for n in range(5):
        register(world, reference=f"P-{n}")

    first = get(client, key, "/api/v1/registrations", limit=2).json()
    assert [r["reference"] for r in first["items"]] == ["P-0", "P-1"]
    # A registration made between two pages neither shifts nor repeats what follows.
    register(world, reference="P-NEW")
    seen = [r["reference"] for r in first["items"]]
    cursor = first["next_cursor"]
    while cursor:
        page = get(client, key, "/api/v1/registrations", limit=2, cursor=cursor).json()
        seen += [r["reference"] for r in page["items"]]
        cursor = page["next_cursor"]
    assert seen == ["P-0", "P-1", "P-2", "P-3", "P-4", "P-NEW"]

    assert_error_body(
        get(client, key, "/api/v1/registrations", cursor="not-a-cursor"), 422, "invalid_cursor"
    )
    assert_error_body(
        get(client, key, "/api/v1/registrations", limit=1001), 422, "validation_error"
    )


def test_registrations_are_filtered_by_time_category_status_and_reference(
    world: World, client: Client
) -> None:
    key = new_key(world)
    with time_machine.travel(dt.datetime(2026, 1, 10, tzinfo=dt.UTC), tick=False):
        register(world, reference="JAN-PHONE")
    with time_machine.travel(dt.datetime(2026, 2, 10, tzinfo=dt.UTC), tick=False):
        register(world, reference="FEB-LAPTOP", category="laptop")
        done = register(world, reference="FEB-DONE", quantity=1)
    issue(world, 1)
    registry_actions.allocate(actor=world.operator_user)
    done.refresh_from_db()

    def references(**params: object) -> list[str]:
        response = get(client, key, "/api/v1/registrations", **params)
        assert response.status_code == 200, response.content
        return [r["reference"] for r in response.json()["items"]]

    assert references(created_after="2026-02-01T00:00:00Z") == ["FEB-LAPTOP", "FEB-DONE"]
    assert references(created_before="2026-02-01T00:00:00Z") == ["JAN-PHONE"]
    assert references(category="laptop") == ["FEB-LAPTOP"]
    compensated = references(status="compensated")
    assert "FEB-DONE" in compensated or "JAN-PHONE" in compensated
    assert set(references(status="owed")) | set(compensated) == {
        "JAN-PHONE",
        "FEB-LAPTOP",
        "FEB-DONE",
    }
    assert references(reference="feb") == ["FEB-LAPTOP", "FEB-DONE"]
    # Any offset is read as the instant it names, even past PostgreSQL's ±15:59.
    assert references(created_after="2026-01-31T05:31:00-18:31") == ["FEB-LAPTOP", "FEB-DONE"]
    out_of_range = get(
        client, key, "/api/v1/registrations", created_after="0001-01-01T00:00:00+01:00"
    )
    [problem] = assert_error_body(out_of_range, 422, "validation_error")["errors"]
    assert problem["field"] == "created_after"


def test_the_devices_of_a_registration_are_paged(world: World, client: Client) -> None:
    key = new_key(world)
    made = register(world, imeis=[imei(n) for n in range(150)])

    detail = get(client, key, f"/api/v1/registrations/{made.pk}").json()
    assert len(detail["devices"]) == 100
    rest = get(
        client,
        key,
        f"/api/v1/registrations/{made.pk}/devices",
        cursor=detail["devices_next_cursor"],
    ).json()
    assert [d["position"] for d in rest["items"]] == list(range(101, 151))
    assert rest["next_cursor"] is None


# Keys: scopes, rotation, expiry, revocation, last use -----------------------------------------


def test_a_read_key_reads_but_may_not_write(world: World, client: Client) -> None:
    reader = new_key(world, ApiKeyScope.READ)
    register(world, reference="SEEN")

    assert get(client, reader, "/api/v1/registrations").status_code == 200
    refused = post(client, reader, "/api/v1/registrations/batch", {"registrations": []})
    assert_error_body(refused, 403, "insufficient_scope")
    assert Registration.objects.count() == 1


def test_a_key_acts_only_while_its_creator_may_write(world: World, client: Client) -> None:
    key = new_key(world)
    world.partner_admin.memberships.update(role=Role.VIEWER)

    refused = post(
        client, key, "/api/v1/registrations", {"reference": "V", "category": "phone", "quantity": 1}
    )
    assert_error_body(refused, 403, "forbidden")
    assert get(client, key, "/api/v1/registrations").status_code == 200


def test_a_rotated_key_keeps_working_for_the_overlap_then_expires(
    world: World, client: Client
) -> None:
    old, old_raw = account_actions.create_api_key(
        actor=world.partner_admin, organisation=world.partner, name="shop", scope=ApiKeyScope.READ
    )
    new, new_raw = account_actions.rotate_api_key(
        actor=world.partner_admin, key=old, overlap=dt.timedelta(hours=2)
    )

    assert (new.name, new.scope, new.rotated_from) == ("shop", ApiKeyScope.READ, old)
    assert new.prefix != old.prefix
    assert get(client, old_raw, "/api/v1/impact").status_code == 200
    assert get(client, new_raw, "/api/v1/impact").status_code == 200
    with time_machine.travel(timezone.now() + dt.timedelta(hours=2, seconds=1)):
        assert_error_body(get(client, old_raw, "/api/v1/impact"), 401, "unauthenticated")
        assert get(client, new_raw, "/api/v1/impact").status_code == 200
    with pytest.raises(ApiKeyRefused, match="already rotated"):
        account_actions.rotate_api_key(actor=world.partner_admin, key=old)
    member = account_actions.add_member(
        actor=world.partner_admin, organisation=world.partner, username="m", password="x" * 12
    ).user
    with pytest.raises(NotAllowed):
        account_actions.rotate_api_key(actor=member, key=new)


def test_a_key_has_at_most_one_successor_even_when_rotated_twice_at_once(world: World) -> None:
    from django.db import IntegrityError, transaction

    old, _ = account_actions.create_api_key(
        actor=world.partner_admin, organisation=world.partner, name="shop"
    )
    account_actions.rotate_api_key(actor=world.partner_admin, key=old)
    # What a second rotation that missed the row lock would write: the database refuses it.
    with pytest.raises(IntegrityError), transaction.atomic():
        ApiKey.objects.create(
            organisation=world.partner,
            name="shop",
            prefix="0123456789ab",
            secret_hash="0" * 64,
            created_by=world.partner_admin,
            rotated_from=old,
        )


def test_keys_are_stored_hashed_and_told_apart_by_their_prefix(world: World) -> None:
    key, raw = account_actions.create_api_key(
        actor=world.partner_admin, organisation=world.partner, name="ERP"
    )
    assert raw.startswith(key.display_prefix + "_")
    assert re.fullmatch(r"o4o_[0-9a-f]{12}", key.display_prefix)
    stored = ApiKey.objects.get(pk=key.pk)
    assert raw not in {stored.secret_hash, stored.prefix, stored.name}
    assert api_key_for(raw) == key
    assert api_key_for(raw[:-1] + ("A" if raw[-1] != "A" else "B")) is None
    account_actions.revoke_api_key(actor=world.partner_admin, key=key)
    assert api_key_for(raw) is None


def test_last_use_is_written_at_most_once_a_minute(world: World, client: Client) -> None:
    key = new_key(world)
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        get(client, key, "/api/v1/impact")
        first = ApiKey.objects.get().last_used_at
        assert first == start
    with time_machine.travel(start + dt.timedelta(seconds=30), tick=False):
        get(client, key, "/api/v1/impact")
        assert ApiKey.objects.get().last_used_at == first
    with time_machine.travel(start + dt.timedelta(seconds=61), tick=False):
        get(client, key, "/api/v1/impact")
        assert ApiKey.objects.get().last_used_at == start + dt.timedelta(seconds=61)


# Rate limits ----------------------------------------------------------------------------------


def test_each_key_has_its_own_rate_limit_with_retry_after(
    world: World, client: Client, settings: object
) -> None:
    settings.RATE_LIMITS = {"api-key-read": "2/minute", "api-key-write": "1/minute"}  # type: ignore[attr-defined]
    key, other = new_key(world), new_key(world)

    assert [get(client, key, "/api/v1/impact").status_code for _ in range(2)] == [200, 200]
    limited = get(client, key, "/api/v1/impact")
    assert_error_body(limited, 429, "rate_limited")
    assert 1 <= int(limited["Retry-After"]) <= 60
    assert get(client, other, "/api/v1/impact").status_code == 200

    body = {"reference": "RL", "category": "phone", "quantity": 1}
    assert post(client, key, "/api/v1/registrations", body).status_code == 201
    assert_error_body(post(client, key, "/api/v1/registrations", body), 429, "rate_limited")


# Idempotency-Key on every POST ----------------------------------------------------------------


def _api_routes() -> list[str]:
    """Every route under /api/v1/, from the URL configuration."""
    routes: list[str] = []

    def walk(patterns, prefix: str) -> None:  # type: ignore[no-untyped-def]
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, prefix + str(pattern.pattern))
            elif isinstance(pattern, URLPattern):
                routes.append(prefix + str(pattern.pattern))

    walk(get_resolver().url_patterns, "/")
    return [r for r in routes if r.startswith("/api/v1/")]


def test_every_post_of_the_api_takes_an_idempotency_key(world: World, client: Client) -> None:
    """Generated from the API's operations, the URL configuration and the OpenAPI document: a
    POST endpoint added anywhere under /api/v1/ without the mechanism fails here."""
    key = new_key(world)
    # Hub devices use their collection partner's key on /collection/ (collection/api.py).
    hub_admin = make_member(world.collection_partner, role=Role.ADMIN)
    hub_key = new_key(world, partner=world.collection_partner, admin=hub_admin)
    api.urls  # noqa: B018 (binds the routers, as the URL configuration did)
    operations = [
        (path, operation)
        for bound in api._get_bound_routers()
        for path, view in bound.path_operations.items()
        for operation in view.operations
    ]
    unguarded = [
        (path, operation.view_func.__name__)
        for path, operation in operations
        if "POST" in operation.methods and not getattr(operation.run, "idempotent", False)
    ]
    assert not unguarded, f"POST operations without Idempotency-Key: {unguarded}"
    assert sum("POST" in operation.methods for _, operation in operations) >= 3
    document = api.get_openapi_schema()
    posts = [path for path, item in document["paths"].items() if "post" in item]
    assert posts, "no POST operation found"
    routes = _api_routes()
    for path in posts:
        route = re.sub(r"\{[^}]+\}", "<x>", path)
        assert any(re.sub(r"<[^>]+>", "<x>", r) == route for r in routes), path
        parameters = document["paths"][path]["post"].get("parameters", [])
        assert any(p["name"] == "Idempotency-Key" and p["in"] == "header" for p in parameters), path

        url = re.sub(r"\{[^}]+\}", "1", path)
        headers = {"Idempotency-Key": f"every-post-{path}"}
        # Shipment endpoints take the keys of shipment parties, a collection partner's among them.
        path_key = (
            hub_key if path.startswith(("/api/v1/collection/", "/api/v1/shipments/")) else key
        )
        first = post(client, path_key, url, {}, **headers)
        again = post(client, path_key, url, {}, **headers)
        assert first.status_code < 500, (path, first.content)
        assert again["Idempotent-Replayed"] == "true", path
        assert (again.status_code, again.content) == (first.status_code, first.content), path
        reused = post(client, path_key, url, {"other": "body"}, **headers)
        assert_error_body(reused, 422, "idempotency_key_reused")


# Certificates, impact, conflicts --------------------------------------------------------------


def test_certificates_are_listed_by_status_and_served_as_pdf(world: World, client: Client) -> None:
    key = new_key(world)
    other, other_admin = make_partner()
    mine = register(world, quantity=2)
    register(world, quantity=1, partner=other, actor=other_admin)
    batch = issue(world, 10)
    registry_actions.allocate(actor=world.operator_user)
    registry_actions.cancel_units(
        actor=world.operator_user,
        batch=batch,
        first=batch.units.lower,
        last=batch.units.lower,
        reason="count_corrected",
        explanation="counted twice",
    )
    version_1, version_2 = Certificate.objects.filter(registration=mine).order_by("version")

    listed = get(client, key, "/api/v1/certificates").json()
    assert [(c["code"], c["status"]) for c in listed["items"]] == [
        (version_1.code, "superseded"),
        (version_2.code, "current"),
    ]
    assert listed["items"][0]["superseded_by"] == version_2.code
    current = get(client, key, "/api/v1/certificates", status="current").json()["items"]
    assert [c["code"] for c in current] == [version_2.code]

    detail = get(client, key, f"/api/v1/certificates/{version_1.code}").json()
    assert detail["withdrawal_reason"]
    pdf = get(client, key, f"/api/v1/certificates/{version_2.code}/pdf")
    assert pdf.status_code == 200
    assert pdf["Content-Type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")
    assert get(client, key, f"/api/v1/certificates/{version_2.code}/pdf").content == pdf.content

    theirs = Certificate.objects.exclude(registration=mine).get()
    assert_error_body(get(client, key, f"/api/v1/certificates/{theirs.code}/pdf"), 404, "not_found")


def test_the_impact_summary_is_the_partners_own(world: World, client: Client) -> None:
    key = new_key(world)
    other, other_admin = make_partner()
    register(world, quantity=3)
    register(world, quantity=50, partner=other, actor=other_admin)
    issue(world, 2)
    registry_actions.allocate(actor=world.operator_user)

    impact = get(client, key, "/api/v1/impact").json()

    assert impact["registrations"] == 1
    assert impact["devices_registered"] == 3
    assert impact["units_allocated"] + impact["units_backlog"] == 3
    assert sum(o["units"] for o in impact["origins"]) == impact["units_allocated"]


def test_conflicts_list_the_partners_held_devices_and_never_the_other_partner(
    world: World, client: Client
) -> None:
    other, other_admin = make_partner()
    register(world, reference="FIRST", imeis=[imei(7)], partner=other, actor=other_admin)
    mine = register(world, reference="SECOND", imeis=[imei(6), imei(7)])
    key = new_key(world)
    other_key = new_key(world, partner=other, admin=other_admin)

    response = get(client, key, "/api/v1/conflicts")

    [conflict] = response.json()["items"]
    assert (conflict["registration_id"], conflict["position"], conflict["status"]) == (
        mine.pk,
        2,
        "held",
    )
    assert conflict["review"] == "open"
    assert conflict["raised_at"]
    assert "FIRST" not in response.content.decode()
    assert other.name not in response.content.decode()
    assert get(client, other_key, "/api/v1/conflicts").json()["items"] == []
