"""The operator's overview of the whole service (/operator/overview/): the backlog against the
pipeline with an estimate of when it is compensated, throughput per hub and country, compliance,
income against living wages; every figure links to the records behind it, the page reads a fixed
number of queries, and only operator staff open it."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

import factories
from factories import World
from oneforone.accounts.models import OrganisationKind, User
from oneforone.collection.models import Flag, PaymentMethod
from oneforone.reporting import operator_queries
from oneforone.reporting.operator_queries import Estimate

pytestmark = pytest.mark.django_db

OVERVIEW = "/operator/overview/"


def client_for(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def text(response) -> str:  # type: ignore[no-untyped-def]
    return response.content.decode()


# --- the estimate's arithmetic -----------------------------------------------------------------


def test_the_estimate_divides_the_shortfall_by_the_units_issued_a_day_over_the_window() -> None:
    # 1,000 units owed and not allocated; 100 treated units not allocated yet can go now, so
    # 900 must still be issued. 450 units were issued in the last 90 days: 5 a day.
    # 900 / 5 = 180 days after 29 Nov 2026 = 28 May 2027.
    estimate = Estimate(
        backlog=1000, on_hand=100, issued_in_window=450, window_days=90, today=dt.date(2026, 11, 29)
    )
    assert estimate.shortfall == 900
    assert estimate.rate_per_day == Decimal("5.00")
    assert estimate.days == 180
    assert estimate.date == dt.date(2027, 5, 28)


def test_the_estimate_rounds_a_part_day_up() -> None:
    # 900 units at 400 per 90 days (4.44 a day): 900 * 90 / 400 = 202.5, so 203 days.
    estimate = Estimate(
        backlog=1000, on_hand=100, issued_in_window=400, window_days=90, today=dt.date(2026, 11, 29)
    )
    assert estimate.rate_per_day == Decimal("4.44")
    assert estimate.days == 203
    assert estimate.date == dt.date(2027, 6, 20)


def test_with_no_unit_issued_in_the_window_there_is_no_estimate() -> None:
    estimate = Estimate(
        backlog=50, on_hand=0, issued_in_window=0, window_days=90, today=dt.date(2026, 11, 29)
    )
    assert estimate.shortfall == 50
    assert (estimate.days, estimate.date) == (None, None)


def test_units_on_hand_that_cover_the_backlog_mean_it_can_be_compensated_today() -> None:
    estimate = Estimate(
        backlog=40, on_hand=60, issued_in_window=0, window_days=90, today=dt.date(2026, 11, 29)
    )
    assert (estimate.shortfall, estimate.days, estimate.date) == (0, 0, dt.date(2026, 11, 29))


def test_the_page_says_no_estimate_when_nothing_was_issued_lately(world: World) -> None:
    factories.register(world, quantity=5)
    page = client_for(world.operator_user).get(OVERVIEW)
    assert page.status_code == 200
    assert page.context["estimate"].issued_in_window == 0
    assert "No estimate" in text(page)


def test_the_backlog_counts_units_owed_and_the_pipeline_by_stage(world: World) -> None:
    factories.register(world, quantity=30)  # 30 units owed
    factories.issue(world, 12)  # 12 phones treated: 12 units issued, none allocated
    factories.in_transit_consignment(world, intakes=(7,))
    factories.record_intake(world, phones=4)  # at the hub
    backlog = operator_queries.backlog(timezone.localdate(), timezone.now())
    assert (backlog.units_owed, backlog.units_allocated, backlog.units_backlog) == (30, 0, 30)
    assert (backlog.at_hubs, backlog.in_transit, backlog.received) == (4, 7, 0)
    assert backlog.treated_not_allocated == 12
    # 30 - 12 on hand = 18 to issue, at 12 units per 90 days: 18 * 90 / 12 = 135 days.
    assert backlog.estimate.days == 135

    page = client_for(world.operator_user).get(OVERVIEW)
    body = text(page)
    expected = timezone.localdate() + dt.timedelta(days=135)
    assert f"{expected:%-d %b %Y}" in body
    assert "Method:" in body
    assert '<svg xmlns="http://www.w3.org/2000/svg"' in body
    assert "<title>Units owed and not allocated (30)" in body


# --- throughput --------------------------------------------------------------------------------


def test_throughput_counts_phones_bought_per_hub_and_country_and_links_each_row_to_its_intakes(
    world: World,
) -> None:
    today = timezone.localdate()
    factories.record_intake(world, phones=10, collected_on=today - dt.timedelta(days=3))
    factories.record_intake(world, phones=5, collected_on=today - dt.timedelta(days=40))
    factories.record_intake(world, phones=99, collected_on=today - dt.timedelta(days=200))
    lagos_org = factories.make_organisation(OrganisationKind.COLLECTION_PARTNER, country="NG")
    lagos = factories.make_hub(lagos_org, country="NG", currency="NGN")
    factories.record_intake(
        world, actor=factories.make_member(lagos_org), hub=lagos,
        collector=factories.make_collector(lagos), phones=7, price="650", currency="NGN",
        collected_on=today - dt.timedelta(days=2),
    )  # fmt: skip

    page = client_for(world.operator_user).get(OVERVIEW)  # the last 90 days, per week
    flow = page.context["flow"]
    assert [(h.code, h.phones) for h in flow.hubs] == [(world.hub.code, 15), (lagos.code, 7)]
    assert flow.countries == [("GH", 15), ("NG", 7)]
    assert len(flow.buckets) in (13, 14)  # the weeks the 90 days touch

    hub_url = {h.code: url for h, url in page.context["hub_rows"]}[world.hub.code]
    listing = client_for(world.operator_user).get(hub_url)
    assert listing.status_code == 200
    assert listing.context["total"] == 15
    assert [i.phones for i in listing.context["page"]] == [10, 5]
    assert reverse("collection-intake-detail", args=[listing.context["page"][0].client_uuid]) in (
        text(listing)
    )

    by_month = client_for(world.operator_user).get(
        OVERVIEW, {"start": (today - dt.timedelta(days=365)).isoformat(), "by": "month"}
    )
    assert by_month.context["flow"].countries == [("GH", 114), ("NG", 7)]
    country_url = {c: url for c, _, url in by_month.context["country_rows"]}["NG"]
    assert client_for(world.operator_user).get(country_url).context["total"] == 7


def test_a_period_that_ends_before_it_starts_is_refused_with_what_to_do(world: World) -> None:
    page = client_for(world.operator_user).get(
        OVERVIEW, {"start": "2026-06-01", "end": "2026-05-01"}
    )
    assert page.status_code == 200
    assert "choose a start date on or before the end date" in text(page)
    assert page.context["flow"].end == timezone.localdate()  # the default period instead


# --- compliance --------------------------------------------------------------------------------


def test_compliance_lists_consignments_on_the_move_with_their_days_and_open_flags(
    world: World,
) -> None:
    with time_machine.travel(timezone.now() - dt.timedelta(days=6)):
        moving = factories.in_transit_consignment(world)
    Flag.objects.create(
        kind="weight_per_phone_lot",
        hub=world.hub,
        intake=factories.record_intake(world, phones=1),
        evidence={},
        raised_at=timezone.now(),
    )
    page = client_for(world.operator_user).get(OVERVIEW)
    compliance = page.context["compliance"]
    [row] = compliance.in_transit
    assert (row.reference, row.days) == (moving.reference, 6)
    assert compliance.open_flag_count == 1
    body = text(page)
    assert reverse("shipments-detail", args=[moving.reference]) in body
    assert "/collection/flags/?state=open&amp;kind=weight_per_phone_lot" in body
    assert "/shipments/deadlines/?status=overdue" in body
    deadlines = client_for(world.operator_user).get("/shipments/deadlines/?status=due")
    assert deadlines.status_code == 200
    assert compliance.due == deadlines.context["counts"]["due"]
    assert compliance.overdue == deadlines.context["counts"]["overdue"]


# --- income against living wages -----------------------------------------------------------------


def test_income_is_set_against_the_benchmark_with_its_source_and_nigeria_has_none(
    world: World,
) -> None:
    month = (timezone.localdate().replace(day=1) - dt.timedelta(days=1)).replace(day=1)
    with time_machine.travel(dt.datetime.combine(month.replace(day=10), dt.time(12), dt.UTC)):
        factories.record_intake(
            world, phones=1000, price="2.60", paid_with=PaymentMethod.CASH,
            collected_on=month.replace(day=10),
        )  # fmt: skip
        lagos_org = factories.make_organisation(OrganisationKind.COLLECTION_PARTNER, country="NG")
        lagos = factories.make_hub(lagos_org, country="NG", currency="NGN")
        factories.record_intake(
            world, actor=factories.make_member(lagos_org), hub=lagos,
            collector=factories.make_collector(lagos), phones=100, price="650", currency="NGN",
            paid_with=PaymentMethod.CASH, collected_on=month.replace(day=10),
        )  # fmt: skip

    page = client_for(world.operator_user).get(OVERVIEW)
    body = text(page)
    rows = {line.country: (line, url) for line, _, url in page.context["wage_rows"]}
    ghana, ghana_url = rows["GH"]
    assert ghana.income == Decimal("2600.00")
    assert ghana.benchmark is not None
    assert ghana.benchmark.source in body
    assert ghana.months == (Decimal(2600) / ghana.benchmark.monthly_amount).quantize(
        Decimal("0.01")
    )
    nigeria, nigeria_url = rows["NG"]
    assert nigeria.benchmark is None
    assert "no benchmark" in body

    payments = client_for(world.operator_user).get(ghana_url)
    assert payments.status_code == 200
    assert payments.context["totals"] == [("GHS", Decimal("2600"))]
    assert client_for(world.operator_user).get(nigeria_url).context["totals"] == [
        ("NGN", Decimal("65000"))
    ]


def test_the_payments_list_without_its_filter_says_how_to_open_it(world: World) -> None:
    page = client_for(world.operator_user).get(reverse("operator-overview-payments"))
    assert page.status_code == 400
    assert "open it from the overview" in text(page)


# --- who may look ------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["operator-overview", "operator-overview-intakes"])
def test_only_operator_staff_open_the_overview(world: World, name: str) -> None:
    url = reverse(name)
    for user in (world.partner_admin, world.hub_user, world.carrier_user, world.recycler_user):
        assert client_for(user).get(url).status_code == 403, user
    anonymous = Client().get(url)
    assert anonymous.status_code == 302
    assert anonymous["Location"].startswith("/login/")
    assert client_for(world.operator_user).get(url).status_code == 200


def test_the_payments_list_is_for_operator_staff_only(world: World) -> None:
    url = reverse("operator-overview-payments") + "?country=GH&area=urban&year=2026"
    for user in (world.partner_admin, world.hub_user, world.carrier_user, world.recycler_user):
        assert client_for(user).get(url).status_code == 403, user
    assert client_for(world.operator_user).get(url).status_code == 200


def test_the_operator_navigation_links_to_the_overview(world: World) -> None:
    assert 'href="/operator/overview/"' in text(client_for(world.operator_user).get("/dashboard/"))
    assert 'href="/operator/overview/"' not in text(
        client_for(world.partner_admin).get("/dashboard/")
    )


# --- a fixed number of queries -------------------------------------------------------------------


def _queries(client: Client) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(OVERVIEW).status_code == 200
    return len(captured)


def _more_of_everything(world: World) -> None:
    lagos_org = factories.make_organisation(OrganisationKind.COLLECTION_PARTNER, country="NG")
    lagos = factories.make_hub(lagos_org, country="NG", currency="NGN")
    lagos_user = factories.make_member(lagos_org)
    for days in (1, 8, 15):
        factories.record_intake(
            world, actor=lagos_user, hub=lagos, collector=factories.make_collector(lagos),
            phones=3, price="650", currency="NGN", paid_with=PaymentMethod.CASH,
            collected_on=timezone.localdate() - dt.timedelta(days=days),
        )  # fmt: skip
    factories.register(world, quantity=9)
    factories.issue(world, 4)
    factories.in_transit_consignment(world, intakes=(6,))
    factories.received_consignment(world, intakes=(5,))
    Flag.objects.create(
        kind="volume_jump",
        hub=lagos,
        evidence={},
        intake=factories.record_intake(
            world,
            actor=lagos_user,
            hub=lagos,
            collector=factories.make_collector(lagos),
            phones=1,
            price="650",
            currency="NGN",
        ),
        raised_at=timezone.now(),
    )


def test_the_overview_reads_a_fixed_number_of_queries_whatever_the_data(world: World) -> None:
    client = client_for(world.operator_user)
    factories.register(world, quantity=3)
    factories.issue(world, 2)
    factories.in_transit_consignment(world, intakes=(5,))
    factories.record_intake(world, phones=4, paid_with=PaymentMethod.CASH)
    Flag.objects.create(
        kind="weight_per_phone_lot",
        hub=world.hub,
        intake=factories.record_intake(world, phones=1),
        evidence={},
        raised_at=timezone.now(),
    )
    few = _queries(client)
    _more_of_everything(world)
    _more_of_everything(world)
    many = _queries(client)
    assert many == few
    assert many <= 40


def test_a_period_over_three_years_is_refused_with_what_to_do(world: World) -> None:
    page = client_for(world.operator_user).get(
        OVERVIEW, {"start": "2020-01-01", "end": "2026-01-01", "by": "month"}
    )
    assert "The period is longer than three years: choose a shorter one" in text(page)


# --- the charts ----------------------------------------------------------------------------------


def test_the_overview_charts_are_svg_with_a_title_and_a_text_for_every_mark() -> None:
    from oneforone.core.charts import Bar, line_series, total_against_parts

    lines = str(line_series(["1 Sep", "8 Sep"], [("GH", [3, 5]), ("<NG>", [0, 2])], title="Bought"))
    assert lines.startswith('<svg xmlns="http://www.w3.org/2000/svg"')
    assert 'role="img"' in lines
    assert "<title>Bought</title>" in lines
    assert "<title>GH, 8 Sep: 5</title>" in lines
    assert "&lt;NG&gt;" in lines
    assert "<NG>" not in lines
    bars = str(
        total_against_parts(
            Bar("Backlog", 30), "Pipeline", [Bar("At hubs", 4), Bar("In transit", 7)], title="B"
        )
    )
    assert "<title>Backlog: 30</title>" in bars
    assert "<title>In transit: 7</title>" in bars
    assert ">11</text>" in bars  # the pipeline's total beside its bar
