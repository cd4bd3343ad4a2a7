"""Living wages from the payment ledger: living-wage months = (labour + handling income paid) /
the monthly benchmark of the country, area and year; collectors at a living wage, the spread of
their earnings, how stable each one's income is, and "no benchmark" where none exists."""

from __future__ import annotations

import datetime as dt
import html
from decimal import Decimal

import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from factories import World, make_collector, make_hub, make_member, make_organisation, record_intake
from oneforone.accounts.models import OrganisationKind
from oneforone.collection import money_queries, payment_actions
from oneforone.collection.models import Payment, PaymentKind, PaymentMethod
from oneforone.collection.money_queries import CollectorMonth, income_stability
from oneforone.impact import queries as impact

pytestmark = pytest.mark.django_db

GHANA_URBAN_2024 = Decimal("3609")  # GHS a month, Global Living Wage Coalition (migration 0004)


def last_month() -> dt.date:
    return (timezone.localdate().replace(day=1) - dt.timedelta(days=1)).replace(day=1)


def paid_in(month: dt.date, world: World, **intake: object) -> None:
    """An intake collected and paid on the spot on the 10th of `month`, noon UTC."""
    with time_machine.travel(dt.datetime.combine(month.replace(day=10), dt.time(12), dt.UTC)):
        record_intake(
            world, paid_with=PaymentMethod.CASH, collected_on=month.replace(day=10), **intake
        )


def test_living_wage_months_are_income_paid_over_the_benchmark(world: World) -> None:
    month = last_month()
    paid_in(month, world, phones=1000, price="2.60")  # GHS 2,600
    record_intake(world, phones=500, price="2.60", collected_on=month.replace(day=11))  # unpaid
    payment_actions.set_handling_fee_rate(
        actor=world.operator_user, organisation=world.collection_partner,
        kind=PaymentKind.STORAGE_FEE, per_phone=Decimal("0.20"), currency="GHS",
        valid_from=month,
    )  # fmt: skip
    payment_actions.pay_handling_fee(
        actor=world.operator_user, organisation=world.collection_partner,
        kind=PaymentKind.STORAGE_FEE, period=month, method=PaymentMethod.CASH,
    )  # fmt: skip

    [row] = money_queries.income_months([world.collection_partner])

    assert (row.purchases, row.fees) == (Decimal("2600"), Decimal("300"))
    assert row.benchmark is not None
    assert row.benchmark.monthly_amount == GHANA_URBAN_2024
    assert row.benchmark.source.startswith("Global Living Wage Coalition")
    assert row.living_wage_months == (Decimal(2900) / GHANA_URBAN_2024).quantize(Decimal("0.01"))
    [period] = money_queries.living_wage_periods([row])
    assert (period.year, period.living_wage_months) == (month.year, Decimal("0.80"))


def test_where_no_benchmark_exists_the_figure_says_so_instead_of_guessing(world: World) -> None:
    lagos_org = make_organisation(OrganisationKind.COLLECTION_PARTNER, country="NG")
    lagos = make_hub(lagos_org, country="NG", currency="NGN")
    paid_in(
        last_month(), world, actor=make_member(lagos_org), hub=lagos,
        collector=make_collector(lagos), phones=100, price="650", currency="NGN",
    )  # fmt: skip

    [row] = money_queries.income_months([lagos_org])
    assert (row.income, row.benchmark, row.living_wage_months) == (Decimal(65000), None, None)
    service = impact.living_wages()
    assert [line.country for line in service.missing_benchmarks] == ["NG"]
    assert service.months == 0


def test_a_reversal_lowers_the_month_of_the_payment_it_cancels(world: World) -> None:
    month = last_month()
    paid_in(month, world, phones=100, price="2.00")
    payment_actions.reverse_payment(
        actor=world.hub_user, payment=Payment.objects.get(), reason="wrong collector"
    )
    [row] = money_queries.income_months([world.collection_partner])
    assert (row.month, row.income) == (month, 0)


def test_the_services_living_wage_months_come_from_the_ledger_not_from_intakes(
    world: World,
) -> None:
    record_intake(world, phones=4000, price="2.60")  # bought, not yet paid
    assert impact.living_wages().months == 0

    payment_actions.pay_all_due(actor=world.hub_user, hub=world.hub, method=PaymentMethod.CASH)

    service = impact.living_wages()
    assert service.months == (Decimal("10400") / GHANA_URBAN_2024).quantize(Decimal("0.01"))
    [line] = service.lines
    assert (line.country, line.area, line.currency) == ("GH", "urban", "GHS")


def test_collectors_at_a_living_wage_are_counted_per_month(world: World) -> None:
    month = last_month()
    poor = make_collector(world.hub)
    paid_in(month, world, phones=1400, price="2.60")  # 3,640 >= 3,609
    paid_in(month, world, phones=100, price="2.60", collector=poor)

    months = money_queries.collector_months([world.collection_partner])
    [count] = money_queries.collectors_at_living_wage(months)

    assert (count.month, count.country, count.collectors, count.at_living_wage) == (
        month,
        "GH",
        2,
        1,
    )
    bands = money_queries.earnings_bands(months)
    assert bands["living wage or more"] == 1
    assert bands["under 25%"] == 1
    assert sum(bands.values()) == 2


def test_collectors_without_a_benchmark_are_not_counted_as_below_or_above(world: World) -> None:
    lagos_org = make_organisation(OrganisationKind.COLLECTION_PARTNER, country="NG")
    lagos = make_hub(lagos_org, country="NG", currency="NGN")
    paid_in(
        last_month(), world, actor=make_member(lagos_org), hub=lagos,
        collector=make_collector(lagos), phones=100, price="650", currency="NGN",
    )  # fmt: skip
    months = money_queries.collector_months([lagos_org])
    [count] = money_queries.collectors_at_living_wage(months)
    assert count.at_living_wage is None
    assert money_queries.earnings_bands(months)[money_queries.NO_BENCHMARK] == 1

    member = make_member(lagos_org)
    client = Client()
    client.force_login(member)
    page = html.unescape(client.get(reverse("collection-income")).content.decode())
    assert "“no benchmark” where the country has none" in page


def collector_month(month: dt.date, income: str, code: str = "C-1") -> CollectorMonth:
    return CollectorMonth(1, code, "GH", "urban", "GHS", month, Decimal(income), None)


def test_income_stability_is_the_coefficient_of_variation_over_six_months() -> None:
    until = dt.date(2026, 6, 1)
    window = money_queries.last_months(until)
    steady = [collector_month(m, "300", "STEADY") for m in window]
    swinging = [collector_month(m, "600", "SWING") for m in window[::2]]  # 600, 0, 600, ...
    older = [collector_month(dt.date(2025, 1, 1), "99999", "STEADY")]

    result = {s.collector_code: s for s in income_stability(steady + swinging + older, until)}

    assert window == [dt.date(2026, m, 1) for m in range(1, 7)]
    assert result["STEADY"].variation == Decimal("0.00")
    assert result["SWING"].incomes == (Decimal(600), 0, 600, 0, 600, 0)
    assert result["SWING"].variation == Decimal("1.00")
    assert isinstance(result["SWING"].variation, Decimal)
    assert [s.collector_code for s in income_stability(steady + swinging, until)] == [
        "SWING",
        "STEADY",
    ]


def test_a_partner_sees_only_its_own_income(world: World) -> None:
    other_org = make_organisation(OrganisationKind.COLLECTION_PARTNER, country="GH")
    other_hub = make_hub(other_org)
    paid_in(last_month(), world, phones=10)
    paid_in(
        last_month(), world, actor=make_member(other_org), hub=other_hub,
        collector=make_collector(other_hub), phones=20,
    )  # fmt: skip

    assert [r.organisation_id for r in money_queries.income_months([other_org])] == [other_org.pk]
    assert len(money_queries.income_months()) == 2
