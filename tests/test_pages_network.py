"""Network pages: a collection partner's home with its hubs, the operator's overview across
countries, a hub's page and its settings; each for the right people only."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from factories import World, make_hub, make_member, make_organisation, seal_lot
from factories import record_intake as factory_intake
from oneforone.accounts.models import OrganisationKind, Role
from oneforone.collection.models import Flag, PaymentMethod
from test_browser import CHROMIUM, PHONE, SHOTS, assert_fits, browser_page, demo_data, sign_in  # noqa: F401

pytestmark = pytest.mark.django_db


def as_user(user) -> Client:  # type: ignore[no-untyped-def]
    client = Client()
    client.force_login(user)
    return client


def hub_url(world: World) -> str:
    return reverse("collection-hub", args=[world.hub.code])


def settings_url(world: World) -> str:
    return reverse("collection-hub-settings", args=[world.hub.code])


# --- a collection partner's home -----------------------------------------------------------------


def test_the_home_shows_each_hub_with_todays_intake_and_payments_due(world: World):
    today = timezone.localdate()
    factory_intake(world, phones=100, price="0.50", collected_on=today)  # 50.00 due
    factory_intake(world, phones=40, price="0.50", paid_with=PaymentMethod.CASH)  # paid on the spot
    page = as_user(world.hub_user).get("/collection/")

    assert page.status_code == 200
    (row,) = page.context["rows"]
    assert (row.hub, row.phones_today, row.intakes_today, row.open_intakes) == (
        world.hub,
        100,
        1,
        2,
    )
    assert row.payments_due.amount == Decimal("50.00")
    assert row.collectors == 1
    assert "GHS" in page.content.decode()


def test_the_home_shows_only_the_partners_own_hubs(world: World):
    make_hub(make_organisation(OrganisationKind.COLLECTION_PARTNER))
    page = as_user(world.hub_user).get("/collection/")
    assert [row.hub for row in page.context["rows"]] == [world.hub]


def test_the_operator_is_sent_to_the_network_and_others_are_refused(world: World):
    response = as_user(world.operator_user).get("/collection/")
    assert response.status_code == 302
    assert response["Location"] == reverse("collection-network")
    assert as_user(world.partner_admin).get("/collection/").status_code == 403
    assert as_user(world.recycler_user).get("/collection/").status_code == 403


# --- the operator's network overview -------------------------------------------------------------


def test_the_network_counts_per_country_with_a_chart(world: World):
    factory_intake(world, phones=70, collected_on=timezone.localdate())
    ng_hub = make_hub(world.collection_partner, country="NG", currency="NGN")
    page = as_user(world.operator_user).get("/collection/network/")

    assert page.status_code == 200
    rows = {row.code: row for row in page.context["countries"]}
    assert set(rows) == {"GH", "NG"}
    assert (rows["GH"].hubs, rows["GH"].collectors, rows["GH"].phones_12_months) == (1, 1, 70)
    assert rows["GH"].phones_this_month == 70
    assert (rows["NG"].hubs, rows["NG"].phones_12_months) == (1, 0)
    html = page.content.decode()
    assert "<svg" in html
    assert ng_hub.name in html


def test_the_network_is_for_operator_staff_only(world: World):
    for user in (world.hub_user, world.partner_admin, world.carrier_user):
        assert as_user(user).get("/collection/network/").status_code == 403


# --- a hub's page ----------------------------------------------------------------------------------


def test_the_hub_page_shows_todays_intakes_collectors_lots_and_flags(world: World):
    today = timezone.localdate()
    factory_intake(world, phones=33, collected_on=today)
    sunday = today - dt.timedelta(days=today.isoweekday() + 7)
    factory_intake(
        world,
        phones=20,
        collected_at=dt.datetime.combine(sunday, dt.time(10), dt.UTC),
        collected_on=None,
    )
    page = as_user(world.hub_user).get(hub_url(world))

    assert page.status_code == 200
    assert [i.phones for i in page.context["todays"]] == [33]
    assert [c.code for c in page.context["collectors"]] == [world.collector.code]
    assert [f.kind for f in page.context["flags"]] == ["outside_hours"]
    assert "the operator reviews it" in page.content.decode()
    assert not page.context["can_change"]  # a member, not an administrator


def test_the_hub_page_marks_a_lot_held_by_an_open_flag(world: World):
    lot = seal_lot(world, [factory_intake(world, phones=10)])
    Flag.objects.create(
        kind="weight_per_phone_lot",
        hub=world.hub,
        lot=lot,
        evidence={},
        raised_at=timezone.now(),
    )
    page = as_user(world.operator_user).get(hub_url(world))
    assert page.context["lots"] == [(lot, True)]
    assert "held: open flag" in page.content.decode()


def test_a_hub_is_seen_by_its_partner_and_the_operator_only(world: World):
    other_partner_user = make_member(make_organisation(OrganisationKind.COLLECTION_PARTNER))
    assert as_user(world.operator_user).get(hub_url(world)).status_code == 200
    assert as_user(other_partner_user).get(hub_url(world)).status_code == 404
    assert as_user(world.partner_admin).get(hub_url(world)).status_code == 403
    assert as_user(world.hub_user).get("/collection/hubs/no-such-hub/").status_code == 404


# --- a hub's settings -----------------------------------------------------------------------------


SETTINGS = {
    "opens_at": "08:00",
    "closes_at": "17:30",
    "open_weekdays": ["1", "2", "3", "4", "5"],
    "latitude": "5.568000",
    "longitude": "-0.212000",
    "radius_m": "1500",
}


def test_the_partners_admin_changes_hours_and_location(world: World):
    admin = make_member(world.collection_partner, role=Role.ADMIN)
    client = as_user(admin)
    assert client.get(settings_url(world)).status_code == 200
    response = client.post(settings_url(world), SETTINGS)
    assert response.status_code == 302
    world.hub.refresh_from_db()
    assert world.hub.closes_at == dt.time(17, 30)
    assert world.hub.open_weekdays == [1, 2, 3, 4, 5]
    assert world.hub.radius_m == 1500


def test_settings_that_make_no_sense_are_explained_and_not_saved(world: World):
    client = as_user(world.operator_user)
    response = client.post(settings_url(world), {**SETTINGS, "opens_at": "18:00"})
    assert response.status_code == 400
    assert "The hub must open before it closes on the same day." in response.content.decode()
    response = client.post(settings_url(world), {**SETTINGS, "open_weekdays": []})
    assert "Tick at least one day the hub buys on." in response.content.decode()
    world.hub.refresh_from_db()
    assert world.hub.opens_at == dt.time(7)


def test_only_the_partners_admin_or_the_operator_reach_the_settings(world: World):
    other_admin = make_member(
        make_organisation(OrganisationKind.COLLECTION_PARTNER), role=Role.ADMIN
    )
    assert as_user(world.hub_user).get(settings_url(world)).status_code == 403
    assert as_user(world.hub_user).post(settings_url(world), SETTINGS).status_code == 403
    assert as_user(other_admin).post(settings_url(world), SETTINGS).status_code == 404
    assert as_user(world.partner_admin).get(settings_url(world)).status_code == 403
    assert as_user(world.operator_user).get(settings_url(world)).status_code == 200


# --- in a browser, on a phone -----------------------------------------------------------------------


@pytest.mark.browser
@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed")
@pytest.mark.django_db(transaction=True)
def test_the_network_pages_on_a_phone(browser_page, demo_data):  # type: ignore[no-untyped-def]  # noqa: F811
    page = browser_page
    sign_in(page, "operator")
    page.goto("/collection/network/")
    assert_fits(page)
    page.screenshot(path=str(SHOTS / "signals-network-phone.png"), full_page=True)

    page.goto("/collection/flags/")
    assert_fits(page)
    assert page.locator("[data-testid=flag]").count() == 1
    page.screenshot(path=str(SHOTS / "signals-flags-phone.png"), full_page=True)
    page.click("button:has-text('Resolve')")  # nothing chosen: the form says what to do
    assert page.locator("text=Choose how the flag ends").is_visible()
    page.check("input[value=explained]")
    page.fill("textarea[name=reason]", "Checked the photos: the phone was bought back by mistake")
    page.click("button:has-text('Resolve')")
    assert page.locator("text=Flag resolved").is_visible()
    assert page.locator("[data-testid=empty]").is_visible()

    sign_in(page, "hub-accra")
    page.goto("/collection/")
    assert_fits(page)
    page.screenshot(path=str(SHOTS / "signals-home-phone.png"), full_page=True)
    page.click("[data-testid=hub-gh-accra] h2 a")
    page.screenshot(path=str(SHOTS / "signals-hub-phone.png"), full_page=True)
    assert_fits(page)
    page.click("text=Change hours and location")
    assert_fits(page)
    page.fill("input[name=radius_m]", "2500")
    page.click("button:has-text('Save')")
    assert page.locator("text=Saved the hours and location").is_visible()
    page.goto("/collection/hubs/gh-accra/settings/")
    page.screenshot(path=str(SHOTS / "signals-hub-settings-phone.png"), full_page=True)


def _queries(client: Client, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


def test_the_home_and_the_network_cost_the_same_queries_for_more_hubs(world: World):
    factory_intake(world, phones=10)
    home, network = as_user(world.hub_user), as_user(world.operator_user)
    home.get("/collection/")
    network.get("/collection/network/")
    before = (_queries(home, "/collection/"), _queries(network, "/collection/network/"))
    for country, currency in (("GH", "GHS"), ("NG", "NGN"), ("CM", "XAF")):
        make_hub(world.collection_partner, country=country, currency=currency)
    after = (_queries(home, "/collection/"), _queries(network, "/collection/network/"))
    assert after == before


def test_operator_staff_register_a_hub_from_the_network_page(world: World):
    client = as_user(world.operator_user)
    assert client.get("/collection/network/hubs/new/").status_code == 200
    response = client.post(
        "/collection/network/hubs/new/",
        {
            "organisation": world.collection_partner.pk,
            "name": "Tamale hub",
            "code": "gh-tamale",
            "country": "GH",
            "city": "Tamale",
            "area": "rural",
        },
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("collection-hub-settings", args=["gh-tamale"])
    again = client.post(
        "/collection/network/hubs/new/",
        {
            "organisation": world.collection_partner.pk,
            "name": "Tamale hub",
            "code": "gh-tamale",
            "country": "GH",
            "city": "Tamale",
            "area": "rural",
        },
    )
    assert again.status_code == 400
    assert "The code gh-tamale is taken by another hub." in again.content.decode()


def test_only_operator_staff_reach_the_hub_registration(world: World):
    for user in (world.hub_user, world.partner_admin, world.carrier_user):
        assert as_user(user).get("/collection/network/hubs/new/").status_code == 403
        assert as_user(user).post("/collection/network/hubs/new/", {}).status_code == 403
