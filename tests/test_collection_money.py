"""Money of the collection network: collectors are paid what their intakes are owed, partners a
handling fee per phone, corrections are reversals, prices stay under the country's cap, EUR
figures come from dated rates, no float touches an amount, and the ledger reconciles."""

from __future__ import annotations

import ast
import datetime as dt
import inspect
from decimal import Decimal
from pathlib import Path

import pytest
import time_machine
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from factories import (
    World,
    make_collector,
    make_hub,
    make_member,
    make_organisation,
    make_world,
    race,
    record_intake,
)
from oneforone.accounts.models import OrganisationKind
from oneforone.accounts.permissions import NotAllowed
from oneforone.collection import fx, money_queries, payment_actions, payments, prices
from oneforone.collection.actions import CollectionError
from oneforone.collection.models import (
    Country,
    ExchangeRate,
    HandlingFeeRate,
    Payment,
    PaymentKind,
    PaymentMethod,
    PriceCap,
)
from oneforone.collection.payment_actions import PaymentError
from oneforone.core.models import AuditEvent
from oneforone.core.money import quantize

pytestmark = pytest.mark.django_db

CASH = PaymentMethod.CASH
MOMO = PaymentMethod.MOBILE_MONEY


def last_month() -> dt.date:
    return (timezone.localdate().replace(day=1) - dt.timedelta(days=1)).replace(day=1)


def in_last_month(day: int = 10) -> dt.date:
    return last_month().replace(day=day)


# --- paying collectors ---------------------------------------------------------------------------


def test_paying_a_collector_pays_what_the_intake_is_still_owed(world: World) -> None:
    intake = record_intake(world, phones=40, price="2.60")

    payment = payment_actions.pay_collector(
        actor=world.hub_user, intake=intake, method=MOMO, reference="MP2411.1234.A"
    )

    assert payment.amount == Decimal("104.0000")
    assert (payment.kind, payment.collector, payment.currency) == (
        PaymentKind.PURCHASE,
        world.collector,
        "GHS",
    )
    assert payments.outstanding(intake) == 0
    assert AuditEvent.objects.filter(code="collection.payment.collector_paid").count() == 1


def test_an_intake_paid_already_cannot_be_paid_again(world: World) -> None:
    intake = record_intake(world, phones=10, paid_with=CASH)

    with pytest.raises(PaymentError, match="is paid already; nothing is owed"):
        payment_actions.pay_collector(actor=world.hub_user, intake=intake, method=CASH)


def test_the_database_refuses_paying_more_than_an_intake_is_owed(world: World) -> None:
    intake = record_intake(world, phones=10, price="1.00")
    with pytest.raises(DatabaseError, match="is owed"), transaction.atomic():
        payments.purchase_payment(
            intake=intake,
            method=CASH,
            reference="",
            paid_by=world.hub_user,
            paid_at=timezone.now(),
            recorded_at=timezone.now(),
            amount=Decimal("10.01"),
        )


def test_mobile_money_needs_its_reference(world: World) -> None:
    intake = record_intake(world, phones=10)

    with pytest.raises(PaymentError, match="needs its transaction reference"):
        payment_actions.pay_collector(actor=world.hub_user, intake=intake, method=MOMO)


def test_only_the_hubs_own_organisation_pays_its_collectors(world: World) -> None:
    intake = record_intake(world, phones=10)
    other = make_member(make_organisation(OrganisationKind.COLLECTION_PARTNER, country="GH"))

    with pytest.raises(NotAllowed):
        payment_actions.pay_collector(actor=other, intake=intake, method=CASH)
    with pytest.raises(NotAllowed):
        payment_actions.pay_all_due(actor=other, hub=world.hub, method=CASH)


def test_payday_pays_every_unpaid_intake_once(world: World) -> None:
    second = make_collector(world.hub)
    record_intake(world, phones=10, price="2.00", paid_with=CASH)
    record_intake(world, phones=20, price="2.00")
    record_intake(world, phones=5, price="2.00", collector=second)

    due = money_queries.due_by_collector(world.hub)
    assert [(d.collector_code, d.amount, d.intakes) for d in due] == [
        (world.collector.code, Decimal("40.0000"), 1),
        (second.code, Decimal("10.0000"), 1),
    ]

    made = payment_actions.pay_all_due(actor=world.hub_user, hub=world.hub, method=CASH)

    assert sorted(p.amount for p in made) == [Decimal("10.0000"), Decimal("40.0000")]
    assert money_queries.due_by_collector(world.hub) == []
    assert payment_actions.pay_all_due(actor=world.hub_user, hub=world.hub, method=CASH) == []
    assert AuditEvent.objects.filter(code="collection.payment.payday").count() == 1


def test_payday_for_one_collector_leaves_the_others_due(world: World) -> None:
    second = make_collector(world.hub)
    record_intake(world, phones=20, price="2.00")
    record_intake(world, phones=5, price="2.00", collector=second)

    payment_actions.pay_all_due(
        actor=world.hub_user, hub=world.hub, method=MOMO, reference="TX-9", collector=second
    )

    assert [d.collector_code for d in money_queries.due_by_collector(world.hub)] == [
        world.collector.code
    ]


def test_amounts_due_per_collector_take_one_query(
    world: World, django_assert_num_queries: pytest.FixtureRequest
) -> None:
    for _ in range(3):
        record_intake(world, phones=10, collector=make_collector(world.hub))
    with django_assert_num_queries(1):  # type: ignore[operator]
        assert len(money_queries.due_by_collector(world.hub)) == 3


# --- reversals -----------------------------------------------------------------------------------


def test_a_reversal_negates_the_payment_it_names_and_the_intake_is_due_again(world: World) -> None:
    intake = record_intake(world, phones=10, price="2.00", paid_with=CASH)
    original = Payment.objects.get(intake=intake)

    [reversal] = payment_actions.reverse_payment(
        actor=world.hub_user, payment=original, reason="paid the wrong collector"
    )

    assert (reversal.amount, reversal.reverses, reversal.reason) == (
        Decimal("-20.0000"),
        original,
        "paid the wrong collector",
    )
    assert payments.outstanding(intake) == Decimal("20.0000")
    with pytest.raises(PaymentError, match="reversed already"):
        payment_actions.reverse_payment(actor=world.hub_user, payment=original, reason="again")
    with pytest.raises(PaymentError, match="itself a reversal"):
        payment_actions.reverse_payment(actor=world.hub_user, payment=reversal, reason="undo")


def test_a_reversal_needs_a_reason(world: World) -> None:
    intake = record_intake(world, phones=10, paid_with=CASH)
    with pytest.raises(PaymentError, match="say why"):
        payment_actions.reverse_payment(
            actor=world.hub_user, payment=Payment.objects.get(intake=intake), reason="  "
        )


def test_ledger_rows_are_never_changed_or_deleted(world: World) -> None:
    intake = record_intake(world, phones=10, paid_with=CASH)
    payment = Payment.objects.get(intake=intake)

    with pytest.raises(DatabaseError), transaction.atomic():
        Payment.objects.filter(pk=payment.pk).update(amount=Decimal(1))
    with pytest.raises(DatabaseError), transaction.atomic():
        Payment.objects.filter(pk=payment.pk).delete()


def test_the_database_refuses_a_reversal_that_does_not_negate_exactly(world: World) -> None:
    intake = record_intake(world, phones=10, price="2.00", paid_with=CASH)
    original = Payment.objects.get(intake=intake)
    with pytest.raises(DatabaseError, match="must negate it exactly"), transaction.atomic():
        Payment.objects.create(
            kind=original.kind,
            payer=original.payer,
            collector=original.collector,
            hub=original.hub,
            intake=intake,
            amount=Decimal("-5"),
            currency="GHS",
            method=CASH,
            paid_at=timezone.now(),
            paid_by=world.hub_user,
            recorded_at=timezone.now(),
            reverses=original,
            reason="partial",
        )


# --- handling fees -------------------------------------------------------------------------------


def fee_rate(world: World, kind: str = PaymentKind.STORAGE_FEE, per_phone: str = "0.20") -> None:
    payment_actions.set_handling_fee_rate(
        actor=world.operator_user,
        organisation=world.collection_partner,
        kind=kind,
        per_phone=Decimal(per_phone),
        currency="GHS",
        valid_from=last_month() - dt.timedelta(days=365),
    )


def test_a_handling_fee_is_the_rate_times_the_phones_each_hub_collected_in_the_month(
    world: World,
) -> None:
    fee_rate(world)
    second_hub = make_hub(world.collection_partner)
    record_intake(world, phones=100, collected_on=in_last_month(3))
    record_intake(world, phones=50, collected_on=in_last_month(20))
    record_intake(
        world, phones=30, hub=second_hub, collector=make_collector(second_hub),
        collected_on=in_last_month(4),
    )  # fmt: skip
    record_intake(world, phones=999, collected_on=last_month() - dt.timedelta(days=1))

    rows = payment_actions.pay_handling_fee(
        actor=world.operator_user,
        organisation=world.collection_partner,
        kind=PaymentKind.STORAGE_FEE,
        period=in_last_month(15),
        method=PaymentMethod.BANK_TRANSFER,
        reference="SEPA-77",
    )

    assert {(row.hub, row.amount) for row in rows} == {
        (world.hub, Decimal("30.0000")),
        (second_hub, Decimal("6.0000")),
    }
    assert {(row.period, row.payee_organisation, row.payer) for row in rows} == {
        (last_month(), world.collection_partner, world.operator)
    }


def test_a_months_fee_is_paid_once_unless_the_first_was_reversed(world: World) -> None:
    fee_rate(world)
    record_intake(world, phones=100, collected_on=in_last_month())
    pay = {
        "actor": world.operator_user,
        "organisation": world.collection_partner,
        "kind": PaymentKind.STORAGE_FEE,
        "period": last_month(),
        "method": CASH,
    }
    [first] = payment_actions.pay_handling_fee(**pay)  # type: ignore[arg-type]

    with pytest.raises(PaymentError, match="is paid already; reverse it first"):
        payment_actions.pay_handling_fee(**pay)  # type: ignore[arg-type]

    payment_actions.reverse_payment(actor=world.operator_user, payment=first, reason="wrong rate")
    [again] = payment_actions.pay_handling_fee(**pay)  # type: ignore[arg-type]
    assert again.amount == first.amount


def test_a_fee_needs_a_rate_a_finished_month_and_operator_staff(world: World) -> None:
    record_intake(world, phones=100, collected_on=in_last_month())
    pay = {
        "actor": world.operator_user,
        "organisation": world.collection_partner,
        "kind": PaymentKind.RECORD_KEEPING_FEE,
        "period": last_month(),
        "method": CASH,
    }
    with pytest.raises(PaymentError, match="has no handling fee: record keeping rate"):
        payment_actions.pay_handling_fee(**pay)  # type: ignore[arg-type]
    fee_rate(world, PaymentKind.RECORD_KEEPING_FEE)
    with pytest.raises(PaymentError, match="is not over yet"):
        payment_actions.pay_handling_fee(**{**pay, "period": timezone.localdate()})  # type: ignore[arg-type]
    with pytest.raises(NotAllowed):
        payment_actions.pay_handling_fee(**{**pay, "actor": world.hub_user})  # type: ignore[arg-type]


def test_a_new_fee_rate_ends_the_one_before(world: World) -> None:
    fee_rate(world, per_phone="0.20")
    start = last_month()
    payment_actions.set_handling_fee_rate(
        actor=world.operator_user,
        organisation=world.collection_partner,
        kind=PaymentKind.STORAGE_FEE,
        per_phone=Decimal("0.25"),
        currency="GHS",
        valid_from=start,
    )
    rates = list(HandlingFeeRate.objects.order_by("valid_from"))
    assert [(r.per_phone, r.valid_until) for r in rates] == [
        (Decimal("0.2000"), start - dt.timedelta(days=1)),
        (Decimal("0.2500"), None),
    ]
    assert payment_actions.fee_rate_for(world.collection_partner, "storage_fee", start) == rates[1]


# --- price caps ----------------------------------------------------------------------------------


def ghana() -> Country:
    return Country.objects.get(code="GH")


def cap(world: World, **overrides: object) -> PriceCap:
    arguments: dict[str, object] = {
        "actor": world.operator_user,
        "country": ghana(),
        "valid_from": timezone.localdate() - dt.timedelta(days=400),
        "max_per_phone": Decimal("3.00"),
        "min_per_phone": Decimal("2.00"),
        "second_hand_value": Decimal("150"),
        "source": "Accra market survey",
    }
    arguments.update(overrides)
    return payment_actions.set_price_cap(**arguments)  # type: ignore[arg-type]


def test_a_price_above_the_cap_is_refused_with_what_to_do(world: World) -> None:
    cap(world)

    with pytest.raises(CollectionError) as refused:
        record_intake(world, phones=10, price="3.50")

    message = str(refused.value)
    assert "GHS3.50 a phone is above the cap of GHS3.00 set for GH" in message
    assert "pay at most the cap" in message
    with pytest.raises(CollectionError, match=r"below the fair-pay floor of GHS2\.00"):
        record_intake(world, phones=10, price="1.00")
    assert record_intake(world, phones=10, price="3.00").amount_paid == Decimal("30.0000")


def test_a_cap_must_stay_below_the_second_hand_value(world: World) -> None:
    with pytest.raises(PaymentError, match="is not below the second-hand value"):
        cap(world, max_per_phone=Decimal("150"))


def test_overlapping_caps_are_refused_with_a_clear_message(world: World) -> None:
    first = cap(world)

    with pytest.raises(PaymentError, match="covers part of this period; end that cap first"):
        cap(world, valid_from=timezone.localdate())

    payment_actions.end_price_cap(
        actor=world.operator_user, cap=first, last_day=timezone.localdate() - dt.timedelta(days=1)
    )
    second = cap(world, valid_from=timezone.localdate(), max_per_phone=Decimal("3.20"))
    assert prices.cap_for("GH", timezone.localdate()) == second


def test_the_database_refuses_overlapping_caps_written_directly(world: World) -> None:
    first = cap(world)
    with pytest.raises(DatabaseError, match="already covers"), transaction.atomic():
        PriceCap.objects.create(
            country=ghana(),
            valid_from=first.valid_from + dt.timedelta(days=10),
            max_per_phone=Decimal("3"),
            currency="GHS",
            second_hand_value=Decimal("100"),
            source="x",
            set_by=world.operator_user,
            set_at=timezone.now(),
        )


def test_only_operator_staff_set_caps_rates_and_exchange_rates(world: World) -> None:
    with pytest.raises(NotAllowed):
        cap(world, actor=world.hub_user)
    with pytest.raises(NotAllowed):
        payment_actions.record_exchange_rate(
            actor=world.partner_admin,
            currency="GHS",
            rate_date=timezone.localdate(),
            units_per_eur=Decimal("16.5"),
            source="Bank of Ghana",
        )


# --- exchange rates ------------------------------------------------------------------------------


def rate(world: World, day: dt.date, units: str, currency: str = "GHS") -> ExchangeRate:
    return payment_actions.record_exchange_rate(
        actor=world.operator_user,
        currency=currency,
        rate_date=day,
        units_per_eur=Decimal(units),
        source="Bank of Ghana interbank reference rate",
    )


def test_eur_figures_use_the_latest_rate_on_or_before_the_day_and_say_which(world: World) -> None:
    june = dt.date(2026, 6, 1)
    rate(world, june, "16.000000")
    rate(world, dt.date(2026, 7, 1), "20.000000")

    converted = fx.to_eur(Decimal("104.00"), "GHS", dt.date(2026, 6, 30))

    assert converted.eur == Decimal("6.50")
    assert converted.basis == (
        "1 EUR = 16 GHS on 01 Jun 2026 (Bank of Ghana interbank reference rate)"
    )
    with pytest.raises(fx.NoRate, match="no GHS exchange rate on or before 31 May 2026"):
        fx.to_eur(Decimal(1), "GHS", dt.date(2026, 5, 31))
    assert fx.to_eur(Decimal("2.005"), "EUR", june).rate is None


def test_converting_never_changes_a_recorded_amount(world: World) -> None:
    intake = record_intake(world, phones=40, price="2.60", paid_with=CASH)
    rate(world, intake.collected_on, "16.5")
    payment = Payment.objects.get(intake=intake)

    fx.to_eur(payment.amount, payment.currency, intake.collected_on)

    payment.refresh_from_db()
    assert (payment.amount, payment.currency) == (Decimal("104.0000"), "GHS")


def test_a_days_rate_is_recorded_once(world: World) -> None:
    rate(world, dt.date(2026, 6, 1), "16")
    with pytest.raises(PaymentError, match="is recorded already"):
        rate(world, dt.date(2026, 6, 1), "17")


# --- no float anywhere in the money path ---------------------------------------------------------

MONEY_MODULES = (payment_actions, payments, prices, fx, money_queries)


@pytest.mark.parametrize("module", MONEY_MODULES, ids=lambda m: m.__name__)
def test_no_float_literal_or_float_call_in_the_money_modules(module: object) -> None:
    tree = ast.parse(Path(inspect.getfile(module)).read_text())  # type: ignore[arg-type]
    floats = [
        node.lineno
        for node in ast.walk(tree)
        if (isinstance(node, ast.Constant) and isinstance(node.value, float))
        or (isinstance(node, ast.Call) and getattr(node.func, "id", "") == "float")
    ]
    assert floats == [], f"floats on lines {floats}"


def test_a_float_passed_into_the_money_path_raises_type_error(world: World) -> None:
    intake = record_intake(world, phones=10)
    with pytest.raises(TypeError):
        fx.to_eur(1.5, "GHS", timezone.localdate())  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        cap(world, max_per_phone=2.5)
    with pytest.raises(TypeError):
        payment_actions.record_exchange_rate(
            actor=world.operator_user,
            currency="NGN",
            rate_date=timezone.localdate(),
            units_per_eur=1650.5,  # type: ignore[arg-type]
            source="CBN",
        )
    with pytest.raises(TypeError):
        payments.purchase_payment(
            intake=intake,
            method=CASH,
            reference="",
            paid_by=world.hub_user,
            paid_at=timezone.now(),
            recorded_at=timezone.now(),
            amount=0.5,  # type: ignore[arg-type]
        )
    with pytest.raises(TypeError):
        quantize(0.1, "GHS")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        record_intake(world, phones=10, price_per_phone=0.5)


def test_money_columns_are_numeric_in_the_database() -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            """SELECT table_name, column_name, data_type FROM information_schema.columns
               WHERE table_name IN ('collection_payment', 'collection_intake',
                   'collection_pricecap', 'collection_handlingfeerate', 'collection_exchangerate',
                   'collection_livingwagebenchmark')
                 AND data_type IN ('real', 'double precision')"""
        )
        assert cursor.fetchall() == []


# --- the ledger reconciles -----------------------------------------------------------------------


def test_totals_per_currency_reconcile_with_the_payment_ledger(world: World) -> None:
    """Two currencies; on-the-spot, payday, reversed and unpaid intakes; a reversed intake that
    was paid; handling fees, one reversed and paid again: each side adds up to the ledger."""
    lagos_org = make_organisation(OrganisationKind.COLLECTION_PARTNER, country="NG")
    lagos = make_hub(lagos_org, country="NG", currency="NGN")
    lagos_user = make_member(lagos_org)
    lagos_collector = make_collector(lagos)
    fee_rate(world, per_phone="0.20")

    spot = record_intake(
        world, phones=100, price="2.60", paid_with=CASH, collected_on=in_last_month(2)
    )
    record_intake(world, phones=50, price="2.50", collected_on=in_last_month(3))
    record_intake(world, phones=7, price="2.70", collected_on=timezone.localdate())
    payment_actions.pay_all_due(actor=world.hub_user, hub=world.hub, method=MOMO, reference="B1")
    record_intake(world, phones=3, price="2.70", collected_on=timezone.localdate())
    wrong = Payment.objects.get(intake=spot)
    payment_actions.reverse_payment(actor=world.hub_user, payment=wrong, reason="counted twice")
    payment_actions.pay_collector(actor=world.hub_user, intake=spot, method=CASH)
    [fee] = payment_actions.pay_handling_fee(
        actor=world.operator_user, organisation=world.collection_partner,
        kind=PaymentKind.STORAGE_FEE, period=last_month(), method=CASH,
    )  # fmt: skip
    payment_actions.reverse_payment(actor=world.operator_user, payment=fee, reason="rate")
    payment_actions.pay_handling_fee(
        actor=world.operator_user, organisation=world.collection_partner,
        kind=PaymentKind.STORAGE_FEE, period=last_month(), method=CASH,
    )  # fmt: skip
    ng = record_intake(
        world, actor=lagos_user, hub=lagos, collector=lagos_collector, phones=20,
        price="650", currency="NGN", paid_with=CASH,
    )  # fmt: skip
    with connection.cursor() as cursor:  # a paid intake cancelled later: the collector owes it
        cursor.execute(
            """INSERT INTO collection_intake (hub_id, collector_id, client_uuid, revision,
                 collected_on, collected_at, phones, net_weight_kg, batteries_removed,
                 battery_weight_kg, condition, note, price_per_phone, currency, reverses_id,
                 recorded_by_id, recorded_at)
               SELECT hub_id, collector_id, gen_random_uuid(), 1, collected_on, collected_at,
                 -phones, -net_weight_kg, -batteries_removed, -battery_weight_kg, condition,
                 'reversal', price_per_phone, currency, id, recorded_by_id, now()
               FROM collection_intake WHERE id = %s""",
            [ng.pk],
        )

    lines = {line.currency: line for line in money_queries.reconciliation()}

    ghs, ngn = lines["GHS"], lines["NGN"]
    assert ghs.bought == Decimal("260") + Decimal("125") + Decimal("18.9") + Decimal("8.1")
    assert ghs.due == Decimal("8.1")
    assert ghs.purchases_paid == Decimal("260") + Decimal("125") + Decimal("18.9")
    assert ghs.fees_paid == Decimal("30.00")  # 150 phones x 0.20, paid, reversed, paid again
    assert ghs.ledger_total == sum(
        Payment.objects.filter(currency="GHS").values_list("amount", flat=True), Decimal(0)
    )
    assert (ngn.bought, ngn.due, ngn.paid_for_reversed, ngn.purchases_paid) == (
        Decimal(0),
        Decimal(0),
        Decimal("13000"),
        Decimal("13000"),
    )
    assert all(line.balanced for line in lines.values())
    assert [line.currency for line in money_queries.reconciliation([lagos_org])] == ["NGN"]


def test_handling_fees_are_counted_in_their_month_even_when_paid_later(world: World) -> None:
    fee_rate(world)
    record_intake(world, phones=100, collected_on=in_last_month())
    month = last_month()
    with time_machine.travel(timezone.now() + dt.timedelta(days=40)):
        payment_actions.pay_handling_fee(
            actor=world.operator_user, organisation=world.collection_partner,
            kind=PaymentKind.STORAGE_FEE, period=month, method=CASH,
        )  # fmt: skip
    [row] = money_queries.income_months([world.collection_partner])
    assert (row.month, row.fees, row.purchases) == (month, Decimal("20.0000"), 0)


# --- at the same time ----------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_two_paydays_at_once_pay_each_intake_once() -> None:
    world = make_world()
    intakes = [record_intake(world, phones=10 + n, price="2.00") for n in range(4)]
    owed = sum((i.phones * Decimal("2.00") for i in intakes), Decimal(0))

    outcomes = race(
        {
            name: lambda: payment_actions.pay_all_due(
                actor=world.hub_user, hub=world.hub, method=CASH
            )
            for name in ("desk", "phone")
        }
    )

    assert not [o for o in outcomes.values() if isinstance(o, BaseException)], outcomes
    assert sum(Payment.objects.values_list("amount", flat=True), Decimal(0)) == owed
    assert sorted(len(o) for o in outcomes.values()) == [0, 4]


@pytest.mark.django_db(transaction=True)
def test_two_clicks_on_a_months_fee_pay_it_once() -> None:
    world = make_world()
    fee_rate(world)
    record_intake(world, phones=100, collected_on=in_last_month())
    pay = {
        "actor": world.operator_user,
        "organisation": world.collection_partner,
        "kind": PaymentKind.STORAGE_FEE,
        "period": last_month(),
        "method": CASH,
    }
    outcomes = race(
        {
            name: lambda: payment_actions.pay_handling_fee(**pay)  # type: ignore[arg-type]
            for name in ("first", "second")
        }
    )
    assert Payment.objects.filter(kind=PaymentKind.STORAGE_FEE).count() == 1
    assert sum(isinstance(o, PaymentError) for o in outcomes.values()) == 1


@pytest.mark.django_db(transaction=True)
def test_two_reversals_at_once_cancel_a_payment_once() -> None:
    world = make_world()
    intake = record_intake(world, phones=10, price="2.00", paid_with=CASH)
    original = Payment.objects.get(intake=intake)

    outcomes = race(
        {
            name: lambda: payment_actions.reverse_payment(
                actor=world.hub_user, payment=original, reason="wrong collector"
            )
            for name in ("desk", "phone")
        }
    )

    assert Payment.objects.filter(reverses=original).count() == 1
    assert sum(isinstance(o, PaymentError) for o in outcomes.values()) == 1, outcomes
