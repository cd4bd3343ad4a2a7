"""The operator's flag queue: open flags first with their evidence, filters, a resolve form that
says what to do next; only operator staff see it or resolve from it."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from factories import World, imei, make_collector, make_hub, make_member, make_organisation
from factories import record_intake as factory_intake
from oneforone.accounts.models import OrganisationKind, Role
from oneforone.collection.models import Flag, FlagKind, Intake

pytestmark = pytest.mark.django_db

QUEUE = "/collection/flags/"


def as_user(user) -> Client:  # type: ignore[no-untyped-def]
    client = Client()
    client.force_login(user)
    return client


def sunday_intake(world: World, **overrides: object) -> Intake:
    """Recorded with a time on a Sunday, when the world's hub does not buy: one flag."""
    today = timezone.localdate()
    sunday = today - dt.timedelta(days=today.isoweekday() + 7)
    moment = dt.datetime.combine(sunday, dt.time(10), dt.UTC)
    return factory_intake(world, phones=50, collected_at=moment, collected_on=None, **overrides)


def test_the_queue_shows_open_flags_with_their_evidence_and_a_resolve_form(world: World):
    intake = sunday_intake(world)
    page = as_user(world.operator_user).get(QUEUE)

    assert page.status_code == 200
    html = page.content.decode()
    assert "Recorded outside the hub&#x27;s opening hours" in html
    assert "a closed weekday" in html  # the evidence, readable
    assert world.collector.code in html
    assert f"intake #{intake.pk}" in html
    assert reverse("collection-flag-resolve", args=[Flag.objects.get().pk]) in html


def test_the_evidence_labels_follow_the_language_and_its_stored_rule_stays_as_written(
    world: World,
):
    sunday_intake(world)
    client = as_user(world.operator_user)
    client.cookies["oneforone_language"] = "fr"

    html = client.get(QUEUE).content.decode()

    assert "<dt>heure locale</dt>" in html
    assert "<dt>local time</dt>" not in html
    assert "a closed weekday" in html  # the rule stored with the flag, quoted as stored


def test_resolving_from_the_queue_closes_the_flag(world: World):
    sunday_intake(world)
    flag = Flag.objects.get()
    response = as_user(world.operator_user).post(
        reverse("collection-flag-resolve", args=[flag.pk]),
        {"resolution": "explained", "reason": "market day moved to Sunday this week"},
    )
    assert response.status_code == 302
    flag.refresh_from_db()
    assert flag.resolution == "explained"
    assert (
        "nothing waits for a decision" in as_user(world.operator_user).get(QUEUE).content.decode()
    )


def test_a_resolution_without_a_reason_says_what_to_do_and_leaves_the_flag_open(world: World):
    sunday_intake(world)
    flag = Flag.objects.get()
    response = as_user(world.operator_user).post(
        reverse("collection-flag-resolve", args=[flag.pk]), {"resolution": "explained"}
    )
    assert response.status_code == 400
    assert "Write what you checked and found." in response.content.decode()
    response = as_user(world.operator_user).post(
        reverse("collection-flag-resolve", args=[flag.pk]),
        {"resolution": "corrected", "reason": "the clerk typed the wrong day"},
    )
    assert response.status_code == 400
    assert "record the reversal first, or resolve as explained" in response.content.decode()
    flag.refresh_from_db()
    assert flag.resolved_at is None


def test_the_queue_filters_by_kind_hub_and_country(world: World):
    sunday_intake(world)
    other_hub = make_hub(world.collection_partner, country="NG", currency="NGN")
    factory_intake(world, phones=10, imeis=[imei(5)])
    factory_intake(
        world,
        phones=10,
        hub=other_hub,
        collector=make_collector(other_hub),
        currency="NGN",
        imeis=[imei(5)],
        collected_on=timezone.localdate() - dt.timedelta(days=20),  # the later one: the repeat
    )
    operator = as_user(world.operator_user)

    def count(query: str) -> int:
        return len(operator.get(f"{QUEUE}?{query}").context["items"])

    assert count("") == 2
    assert count(f"kind={FlagKind.DUPLICATE_IMEI}") == 1
    assert count("country=NG") == 1
    assert count(f"hub={world.hub.code}") == 1
    assert count("state=resolved") == 0


def test_only_operator_staff_see_the_queue(world: World):
    sunday_intake(world)
    assert as_user(world.hub_user).get(QUEUE).status_code == 403
    assert as_user(world.partner_admin).get(QUEUE).status_code == 403
    assert as_user(world.carrier_user).get(QUEUE).status_code == 403
    assert Client().get(QUEUE).status_code == 302  # to the login


def test_only_writing_operator_staff_resolve(world: World):
    sunday_intake(world)
    flag = Flag.objects.get()
    viewer = make_member(world.operator, role=Role.VIEWER)
    url = reverse("collection-flag-resolve", args=[flag.pk])
    data = {"resolution": "explained", "reason": "we looked into it closely"}
    assert as_user(viewer).get(QUEUE).status_code == 200
    assert as_user(viewer).post(url, data).status_code == 403
    assert as_user(world.hub_user).post(url, data).status_code == 403
    other_operator = make_member(make_organisation(OrganisationKind.COLLECTION_PARTNER))
    assert as_user(other_operator).post(url, data).status_code == 403
    flag.refresh_from_db()
    assert flag.resolved_at is None


def test_the_queue_costs_the_same_queries_for_many_flags(
    world: World, django_assert_max_num_queries
):
    for n in range(15):
        sunday_intake(world, imeis=[imei(100 + n)])
    operator = as_user(world.operator_user)
    operator.get(QUEUE)
    with django_assert_max_num_queries(14):
        operator.get(QUEUE)
