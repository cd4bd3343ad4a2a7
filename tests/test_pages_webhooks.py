"""Webhook pages: a partner's members see its endpoints and delivery log, administrators change
them, and nobody reaches another partner's endpoints or deliveries."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.test import Client
from django.urls import reverse

import factories
from factories import World
from oneforone.accounts.models import Role
from oneforone.webhooks import actions
from oneforone.webhooks.models import Delivery, Endpoint
from webhook_receiver import Receiver, serve


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    yield from serve()


def client_for(user) -> Client:  # type: ignore[no-untyped-def]
    client = Client()
    client.force_login(user)
    return client


def make_endpoint(world: World, receiver: Receiver, partner=None, actor=None) -> Endpoint:  # type: ignore[no-untyped-def]
    endpoint, _ = actions.create_endpoint(
        actor=actor or world.partner_admin,
        organisation=partner or world.partner,
        url=receiver.url(),
        events=["registration.accepted"],
    )
    return endpoint


def test_an_administrator_adds_an_endpoint_and_sees_its_secret_once(
    world: World, receiver: Receiver
) -> None:
    client = client_for(world.partner_admin)
    response = client.post(
        reverse("partner-webhooks"),
        {"url": receiver.url(), "description": "ERP", "events": ["registration.accepted"]},
    )
    assert response.status_code == 200
    secret = response.context["secret"]
    assert secret.startswith("whsec_")
    assert secret in response.content.decode()
    endpoint = Endpoint.objects.get(organisation=world.partner)
    assert endpoint.events == ["registration.accepted"]

    listing = client.get(reverse("partner-webhooks")).content.decode()
    assert receiver.url() in listing
    assert secret not in listing
    detail = client.get(reverse("partner-webhook", args=[endpoint.pk])).content.decode()
    assert secret not in detail
    assert secret[-4:] in detail


def test_a_bad_endpoint_form_says_what_to_fix(world: World) -> None:
    client = client_for(world.partner_admin)
    response = client.post(reverse("partner-webhooks"), {"url": "not a url", "events": []})
    assert response.status_code == 200
    assert "Choose at least one event" in response.content.decode()
    assert Endpoint.objects.count() == 0


def test_send_test_event_and_redeliver_buttons_show_the_logged_attempt(
    world: World, receiver: Receiver, django_capture_on_commit_callbacks
) -> None:
    endpoint = make_endpoint(world, receiver)
    client = client_for(world.partner_admin)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("partner-webhook-test", args=[endpoint.pk]))
    test = Delivery.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("partner-webhook-delivery", args=[endpoint.pk, test.pk])
    assert len(receiver.requests) == 1

    page = client.get(response["Location"]).content.decode()
    assert "Delivered" in page
    assert "Oneforone-Signature: t=" in page
    assert "{&quot;received&quot;: true}" in page or '{"received": true}' in page
    assert str(test.event.uuid) in page

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("partner-webhook-redeliver", args=[endpoint.pk, test.pk]))
    again = Delivery.objects.exclude(pk=test.pk).get()
    assert again.redelivery_of == test
    assert len(receiver.requests) == 2
    log = client.get(reverse("partner-webhook", args=[endpoint.pk])).content.decode()
    assert log.count("ping") >= 2


def test_an_administrator_rotates_disables_enables_and_deletes(
    world: World, receiver: Receiver
) -> None:
    endpoint = make_endpoint(world, receiver)
    client = client_for(world.partner_admin)

    rotated = client.post(reverse("partner-webhook-rotate", args=[endpoint.pk]))
    assert rotated.context["secret"].startswith("whsec_")
    client.post(reverse("partner-webhook-state", args=[endpoint.pk]), {"disable": "1"})
    assert not Endpoint.objects.get(pk=endpoint.pk).enabled
    client.post(reverse("partner-webhook-state", args=[endpoint.pk]), {"enable": "1"})
    assert Endpoint.objects.get(pk=endpoint.pk).enabled
    client.post(
        reverse("partner-webhook", args=[endpoint.pk]),
        {"url": receiver.url("/v2"), "events": ["allocation.made", "certificate.issued"]},
    )
    changed = Endpoint.objects.get(pk=endpoint.pk)
    assert (changed.url, changed.events) == (
        receiver.url("/v2"),
        ["allocation.made", "certificate.issued"],
    )
    assert client.get(reverse("partner-webhook-delete", args=[endpoint.pk])).status_code == 200
    client.post(reverse("partner-webhook-delete", args=[endpoint.pk]))  # not confirmed
    assert Endpoint.objects.filter(pk=endpoint.pk).exists()
    client.post(reverse("partner-webhook-delete", args=[endpoint.pk]), {"confirm": "delete"})
    assert not Endpoint.objects.filter(pk=endpoint.pk).exists()


def test_members_read_and_test_but_only_administrators_change(
    world: World, receiver: Receiver, django_capture_on_commit_callbacks
) -> None:
    endpoint = make_endpoint(world, receiver)
    member = client_for(factories.make_member(world.partner, role=Role.MEMBER))
    viewer = client_for(factories.make_member(world.partner, role=Role.VIEWER))

    assert receiver.url() in member.get(reverse("partner-webhooks")).content.decode()
    refused = member.post(
        reverse("partner-webhooks"), {"url": receiver.url("/x"), "events": ["allocation.made"]}
    )
    assert refused.status_code == 403
    assert Endpoint.objects.count() == 1
    for name in ("partner-webhook-state", "partner-webhook-rotate", "partner-webhook-delete"):
        assert member.post(reverse(name, args=[endpoint.pk]), {"disable": "1"}).status_code == 403
    assert member.get(reverse("partner-webhook-delete", args=[endpoint.pk])).status_code == 403
    assert Endpoint.objects.get(pk=endpoint.pk).enabled
    with django_capture_on_commit_callbacks(execute=True):
        member.post(reverse("partner-webhook-test", args=[endpoint.pk]))
    assert len(receiver.requests) == 1

    assert viewer.get(reverse("partner-webhook", args=[endpoint.pk])).status_code == 200
    assert viewer.post(reverse("partner-webhook-test", args=[endpoint.pk])).status_code == 403
    assert (
        "Send test event"
        not in viewer.get(reverse("partner-webhook", args=[endpoint.pk])).content.decode()
    )


def test_a_partner_never_reaches_another_partners_endpoints_or_deliveries(
    world: World, receiver: Receiver, django_capture_on_commit_callbacks
) -> None:
    other, other_admin = factories.make_partner()
    theirs = make_endpoint(world, receiver, partner=other, actor=other_admin)
    with django_capture_on_commit_callbacks(execute=True):
        delivery = actions.send_test_event(actor=other_admin, endpoint=theirs)
    make_endpoint(world, receiver)
    client = client_for(world.partner_admin)

    assert receiver.url() in client.get(reverse("partner-webhooks")).content.decode()
    assert len(client.get(reverse("partner-webhooks")).context["endpoints"]) == 1
    for name in ("partner-webhook", "partner-webhook-delete"):
        assert client.get(reverse(name, args=[theirs.pk])).status_code == 404
    for name in (
        "partner-webhook",
        "partner-webhook-rotate",
        "partner-webhook-state",
        "partner-webhook-delete",
        "partner-webhook-test",
    ):
        assert client.post(reverse(name, args=[theirs.pk])).status_code == 404, name
    args = [theirs.pk, delivery.pk]
    assert client.get(reverse("partner-webhook-delivery", args=args)).status_code == 404
    assert client.post(reverse("partner-webhook-redeliver", args=args)).status_code == 404
    # Their delivery under my endpoint's URL is not found either.
    mine = Endpoint.objects.get(organisation=world.partner)
    assert (
        client.get(reverse("partner-webhook-delivery", args=[mine.pk, delivery.pk])).status_code
        == 404
    )
    assert Endpoint.objects.get(pk=theirs.pk).enabled
    assert Delivery.objects.count() == 1


def test_webhook_pages_are_closed_to_other_kinds_of_organisation(world: World) -> None:
    hub = client_for(world.hub_user)
    operator = client_for(world.operator_user)
    assert hub.get(reverse("partner-webhooks")).status_code == 403
    assert operator.get(reverse("partner-webhooks")).status_code == 403
    anonymous = Client().get(reverse("partner-webhooks"))
    assert anonymous.status_code == 302
    assert reverse("login") in anonymous["Location"]
    assert Client().post(reverse("partner-webhook-test", args=[1])).status_code == 302


def test_action_urls_refuse_get(world: World, receiver: Receiver) -> None:
    endpoint = make_endpoint(world, receiver)
    client = client_for(world.partner_admin)
    for name in ("partner-webhook-rotate", "partner-webhook-state", "partner-webhook-test"):
        assert client.get(reverse(name, args=[endpoint.pk])).status_code == 405


def test_each_role_gets_what_the_authorisation_rules_say(world: World, receiver: Receiver) -> None:
    """The rules these routes need in the project's authorisation matrix, checked the same way:
    an empty POST, and "refused" is the login page, 401, 403 or 404."""
    endpoint = make_endpoint(world, receiver)
    test = actions.send_test_event(actor=world.partner_admin, endpoint=endpoint)  # not committed
    _, other_admin = factories.make_partner()
    people = {
        "admin": world.partner_admin,
        "member": factories.make_member(world.partner, role=Role.MEMBER),
        "viewer": factories.make_member(world.partner, role=Role.VIEWER),
        "other partner": other_admin,
        "operator": world.operator_user,
        "anonymous": None,
    }
    readers = {"admin", "member", "viewer"}
    writers = {"admin", "member"}
    admin = {"admin"}
    rules = {  # route name, args: (who may GET or None, who may POST or None)
        ("partner-webhooks", ()): (readers | {"other partner"}, admin | {"other partner"}),
        ("partner-webhook", (endpoint.pk,)): (readers, admin),
        ("partner-webhook-rotate", (endpoint.pk,)): (None, admin),
        ("partner-webhook-state", (endpoint.pk,)): (None, admin),
        ("partner-webhook-delete", (endpoint.pk,)): (admin, admin),
        ("partner-webhook-test", (endpoint.pk,)): (None, writers),
        ("partner-webhook-delivery", (endpoint.pk, test.pk)): (readers, None),
        ("partner-webhook-redeliver", (endpoint.pk, test.pk)): (None, writers),
    }
    wrong = []
    for (name, args), (get, post) in rules.items():
        url = reverse(name, args=args)
        for method, allowed in (("GET", get), ("POST", post)):
            if allowed is None:
                continue
            for role, user in people.items():
                client = Client()
                if user is not None:
                    client.force_login(user)
                response = client.get(url) if method == "GET" else client.post(url, {})
                login = response.status_code == 302 and response["Location"].startswith("/login/")
                refused = login or response.status_code in {401, 403, 404}
                if (role in allowed) == refused:
                    wrong.append(f"{method} {name} as {role}: {response.status_code}")
    assert wrong == []
    assert Endpoint.objects.filter(pk=endpoint.pk).exists()
