"""Money pages: a hub pays its collectors and reverses a payment; a collection partner reads its
income and living wages; the operator sets price caps, fee rates and exchange rates, which
collection partners read; everyone else gets a 403, and other partners' records a 404."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from factories import World, make_collector, make_hub, make_member, make_organisation, record_intake
from oneforone.accounts.models import Organisation, OrganisationKind, Role, User
from oneforone.collection import payment_actions
from oneforone.collection.models import (
    ExchangeRate,
    HandlingFeeRate,
    Payment,
    PaymentKind,
    PaymentMethod,
    PriceCap,
)

pytestmark = pytest.mark.django_db

PAGES = (
    "collection-income",
    "collection-price-caps",
    "collection-fee-rates",
    "collection-exchange-rates",
)


def client_for(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def last_month() -> dt.date:
    return (timezone.localdate().replace(day=1) - dt.timedelta(days=1)).replace(day=1)


class Other:
    """A second collection partner, in Nigeria, with its own hub, collector and paid intake."""

    def __init__(self, world: World) -> None:
        self.org: Organisation = make_organisation(
            OrganisationKind.COLLECTION_PARTNER, name="Lagos Recovery", country="NG"
        )
        self.user = make_member(self.org)
        self.hub = make_hub(self.org, country="NG", currency="NGN")
        self.collector = make_collector(self.hub)
        self.intake = record_intake(
            world, actor=self.user, hub=self.hub, collector=self.collector, phones=10,
            price="650", currency="NGN", paid_with=PaymentMethod.CASH,
        )  # fmt: skip


# --- who may see what ----------------------------------------------------------------------------


@pytest.mark.parametrize("name", PAGES)
def test_brands_carriers_and_visitors_see_no_money_page(world: World, name: str) -> None:
    assert client_for(world.partner_admin).get(reverse(name)).status_code == 403
    assert client_for(world.carrier_user).get(reverse(name)).status_code == 403
    assert Client().get(reverse(name)).status_code == 302  # to the login page


@pytest.mark.parametrize("name", PAGES)
def test_collection_partners_and_operator_staff_read_the_money_pages(
    world: World, name: str
) -> None:
    assert client_for(world.hub_user).get(reverse(name)).status_code == 200
    assert client_for(world.operator_user).get(reverse(name)).status_code == 200


def test_the_payments_page_is_for_the_hubs_own_organisation(world: World) -> None:
    other = Other(world)
    url = reverse("collection-payments")

    assert client_for(world.hub_user).get(url).status_code == 200
    assert client_for(world.hub_user).get(f"{url}?hub={other.hub.code}").status_code == 404
    assert client_for(world.partner_admin).get(url).status_code == 403
    assert client_for(world.operator_user).get(url).status_code == 403


# --- the hub's payday ----------------------------------------------------------------------------


def test_a_hub_sees_what_each_collector_is_due_and_pays_everyone(world: World) -> None:
    second = make_collector(world.hub)
    record_intake(world, phones=40, price="2.60")
    record_intake(world, phones=10, price="2.60", collector=second)
    client = client_for(world.hub_user)

    page = client.get(reverse("collection-payments")).content.decode()
    assert world.collector.code in page
    assert second.code in page
    assert "GHS130.00" in page

    response = client.post(
        reverse("collection-pay"),
        {"hub": world.hub.code, "method": PaymentMethod.MOBILE_MONEY, "reference": "MP-1"},
        follow=True,
    )
    assert "Paid GHS130.00 for 2 intakes." in response.content.decode()
    assert 'data-testid="nothing-due"' in response.content.decode()
    assert set(Payment.objects.values_list("reference", flat=True)) == {"MP-1"}


def test_paying_one_collector_leaves_the_others_due(world: World) -> None:
    second = make_collector(world.hub)
    record_intake(world, phones=40, price="2.60")
    record_intake(world, phones=10, price="2.60", collector=second)

    client_for(world.hub_user).post(
        reverse("collection-pay"),
        {"hub": world.hub.code, "method": PaymentMethod.CASH, "collector": second.code},
    )

    assert list(Payment.objects.values_list("collector", flat=True)) == [second.pk]


def test_mobile_money_without_a_reference_is_refused_with_what_to_do(world: World) -> None:
    record_intake(world, phones=40)
    response = client_for(world.hub_user).post(
        reverse("collection-pay"), {"hub": world.hub.code, "method": PaymentMethod.MOBILE_MONEY}
    )
    assert response.status_code == 400
    assert "Enter the transaction reference" in response.content.decode()
    assert not Payment.objects.exists()


def test_a_read_only_member_cannot_pay(world: World) -> None:
    record_intake(world, phones=40)
    viewer = make_member(world.collection_partner, role=Role.VIEWER)
    response = client_for(viewer).post(
        reverse("collection-pay"), {"hub": world.hub.code, "method": PaymentMethod.CASH}
    )
    assert response.status_code == 403
    assert not Payment.objects.exists()


def test_a_hub_reverses_its_own_payment_with_a_reason_but_not_anothers(world: World) -> None:
    other = Other(world)
    intake = record_intake(world, phones=40, price="2.60", paid_with=PaymentMethod.CASH)
    mine = Payment.objects.get(intake=intake)
    theirs = Payment.objects.get(intake=other.intake)
    client = client_for(world.hub_user)

    no_reason = client.post(reverse("collection-payment-reverse", args=[mine.pk]), {}, follow=True)
    assert "say why" in no_reason.content.decode()
    assert not Payment.objects.filter(reverses=mine).exists()

    response = client.post(
        reverse("collection-payment-reverse", args=[mine.pk]),
        {"reason": "paid the wrong collector"},
        follow=True,
    )
    assert "Reversed: -GHS104.00" in response.content.decode()
    assert Payment.objects.get(reverses=mine).amount == Decimal("-104.0000")
    assert (
        client.post(
            reverse("collection-payment-reverse", args=[theirs.pk]), {"reason": "x"}
        ).status_code
        == 404
    )


# --- income and living wages ---------------------------------------------------------------------


def test_a_partner_reads_its_own_income_and_living_wage_months_only(world: World) -> None:
    other = Other(world)
    record_intake(world, phones=1000, price="2.60", paid_with=PaymentMethod.CASH)

    page = client_for(world.hub_user).get(reverse("collection-income")).content.decode()

    assert "Global Living Wage Coalition" in page
    assert "Lagos Recovery" not in page
    assert other.hub.name not in page
    assert 'data-testid="reconciliation"' in page
    assert "reconciles" in page


def test_the_operator_reads_every_partner_and_no_benchmark_where_none_exists(
    world: World,
) -> None:
    other = Other(world)
    record_intake(world, phones=1000, price="2.60", paid_with=PaymentMethod.CASH)
    client = client_for(world.operator_user)

    page = client.get(reverse("collection-income")).content.decode()
    assert world.collection_partner.name in page
    assert other.org.name in page
    assert "no benchmark" in page

    only = client.get(reverse("collection-income"), {"org": other.org.slug}).content.decode()
    assert world.hub.name not in only
    assert client.get(reverse("collection-income"), {"org": "nope"}).status_code == 404


def test_the_income_page_takes_as_many_queries_for_many_collectors_as_for_one(
    world: World, django_assert_max_num_queries: pytest.FixtureRequest
) -> None:
    for _ in range(6):
        record_intake(
            world, phones=50, collector=make_collector(world.hub), paid_with=PaymentMethod.CASH
        )
    client = client_for(world.hub_user)
    with django_assert_max_num_queries(16):  # type: ignore[operator]
        assert client.get(reverse("collection-income")).status_code == 200


# --- the operator's settings ---------------------------------------------------------------------


def cap_post(**overrides: str) -> dict[str, str]:
    data = {
        "country": "GH",
        "valid_from": (timezone.localdate() - dt.timedelta(days=30)).isoformat(),
        "valid_until": "",
        "max_per_phone": "3.00",
        "min_per_phone": "2.00",
        "second_hand_value": "150",
        "source": "Accra market survey, March",
    }
    return data | overrides


def test_the_operator_sets_a_cap_and_an_overlap_is_explained(world: World) -> None:
    client = client_for(world.operator_user)
    url = reverse("collection-price-caps")

    assert client.post(url, cap_post()).status_code == 302
    refused = client.post(url, cap_post(valid_from=timezone.localdate().isoformat()))

    assert refused.status_code == 400
    assert "covers part of this period; end that cap first" in refused.content.decode()
    assert PriceCap.objects.count() == 1
    above = client.post(url, cap_post(max_per_phone="200", valid_from="2020-01-01"))
    assert "is not below the second-hand value" in above.content.decode()


def test_the_operator_ends_a_cap(world: World) -> None:
    client = client_for(world.operator_user)
    url = reverse("collection-price-caps")
    client.post(url, cap_post())
    cap = PriceCap.objects.get()
    client.post(url, {"cap": cap.pk, "last_day": timezone.localdate().isoformat()})
    cap.refresh_from_db()
    assert cap.valid_until == timezone.localdate()


def test_collection_partners_read_the_caps_of_their_countries_and_cannot_change_them(
    world: World,
) -> None:
    other = Other(world)
    client_for(world.operator_user).post(reverse("collection-price-caps"), cap_post())
    client = client_for(other.user)

    page = client.get(reverse("collection-price-caps")).content.decode()
    assert "Accra market survey" not in page  # Ghana's cap, not Nigeria's
    assert "Set a price cap" not in page
    assert client.post(reverse("collection-price-caps"), cap_post()).status_code == 403
    mine = client_for(world.hub_user).get(reverse("collection-price-caps")).content.decode()
    assert "Accra market survey" in mine


def test_the_operator_sets_a_fee_rate_and_pays_a_months_fee(world: World) -> None:
    record_intake(world, phones=100, collected_on=last_month().replace(day=5))
    client = client_for(world.operator_user)
    url = reverse("collection-fee-rates")
    common = {"organisation": world.collection_partner.pk, "kind": PaymentKind.STORAGE_FEE}

    client.post(
        url,
        common | {"per_phone": "0.20", "currency": "GHS", "valid_from": last_month().isoformat()},
    )
    response = client.post(
        url,
        common | {"period": last_month().isoformat(), "method": "bank_transfer", "reference": "S1"},
        follow=True,
    )

    assert f"Paid GHS20.00 to {world.collection_partner.name}" in response.content.decode()
    assert HandlingFeeRate.objects.count() == 1
    again = client.post(
        url, common | {"period": last_month().isoformat(), "method": "cash", "reference": ""}
    )
    assert again.status_code == 400
    assert "is paid already; reverse it first" in again.content.decode()


def test_a_partner_sees_its_own_fees_only_and_cannot_pay_itself(world: World) -> None:
    other = Other(world)
    for org, currency in ((world.collection_partner, "GHS"), (other.org, "NGN")):
        payment_actions.set_handling_fee_rate(
            actor=world.operator_user, organisation=org, kind=PaymentKind.STORAGE_FEE,
            per_phone=Decimal("0.20"), currency=currency, valid_from=dt.date(2020, 1, 1),
        )  # fmt: skip
    client = client_for(other.user)
    page = client.get(reverse("collection-fee-rates")).content.decode()
    assert "NGN" in page
    assert "GHS" not in page
    assert "Pay a month" not in page
    assert client.post(reverse("collection-fee-rates"), {"per_phone": "1"}).status_code == 403


def test_the_operator_records_an_exchange_rate_once_a_day(world: World) -> None:
    client = client_for(world.operator_user)
    url = reverse("collection-exchange-rates")
    data = {
        "currency": "XAF",
        "rate_date": "2026-01-02",
        "units_per_eur": "655.957",
        "source": "BEAC fixed parity",
    }

    assert client.post(url, data).status_code == 302
    again = client.post(url, data)

    assert again.status_code == 400
    assert "is recorded already" in again.content.decode()
    assert ExchangeRate.objects.get().units_per_eur == Decimal("655.957000")
    partner_page = client_for(world.hub_user).get(url).content.decode()
    assert "BEAC fixed parity" in partner_page
    assert "Record a rate" not in partner_page
    assert client_for(world.hub_user).post(url, data).status_code == 403


def test_the_payments_page_takes_as_many_queries_for_many_collectors_as_for_one(
    world: World, django_assert_max_num_queries: pytest.FixtureRequest
) -> None:
    for n in range(6):
        collector = make_collector(world.hub)
        record_intake(world, phones=50, collector=collector, paid_with=PaymentMethod.CASH)
        if n % 2:
            record_intake(world, phones=20, collector=collector)
    client = client_for(world.hub_user)
    with django_assert_max_num_queries(12):  # type: ignore[operator]
        page = client.get(reverse("collection-payments"))
    assert page.status_code == 200
    assert page.content.decode().count(">Pay</button>") == 3


def test_income_in_eur_names_the_rate_used_or_says_there_is_none(world: World) -> None:
    record_intake(
        world, phones=40, price="2.60", paid_with=PaymentMethod.CASH,
        collected_on=timezone.localdate(),
    )  # fmt: skip
    client = client_for(world.hub_user)
    url = reverse("collection-income")

    without = client.get(url).content.decode()
    assert "no rate" in without

    payment_actions.record_exchange_rate(
        actor=world.operator_user,
        currency="GHS",
        rate_date=timezone.localdate().replace(day=1) - dt.timedelta(days=1),
        units_per_eur=Decimal("16"),
        source="Bank of Ghana interbank mid-rate",
    )
    page = client.get(url).content.decode()
    assert "€6.50" in page
    assert "(Bank of Ghana interbank mid-rate)" in page
