"""The demo's money: price caps, handling-fee rates, exchange rates, paydays for collectors and handling fees to the collection partners, through the payment actions."""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING

from oneforone.collection import money_queries, payment_actions
from oneforone.collection.models import Country, PaymentKind, PaymentMethod

if TYPE_CHECKING:
    from oneforone.demo import Demo, Timeline


@dataclass(frozen=True)
class CountryMoney:
    """A country's cap and fair-pay floor (above every price the demo's hubs pay, below what a
    working basic phone sells for), and its currency's rate against the euro."""

    country: str
    currency: str
    org: str  # the demo's collection partner there
    max_per_phone: Decimal
    min_per_phone: Decimal
    second_hand_value: Decimal
    storage_fee: Decimal  # per phone collected
    record_keeping_fee: Decimal
    units_per_eur: Decimal  # at the start of the history
    monthly_drift: Decimal  # the most the rate moves in a month, as a share (0: a fixed peg)
    rate_source: str


# fmt: off
COUNTRIES: tuple[CountryMoney, ...] = (
    CountryMoney("GH", "GHS", "gh", Decimal("3.00"), Decimal("2.40"), Decimal("150"),
                 Decimal("0.30"), Decimal("0.15"), Decimal("16.20"), Decimal("0.025"),
                 "Bank of Ghana interbank mid-rate (demo values)"),
    CountryMoney("NG", "NGN", "ng", Decimal("800"), Decimal("600"), Decimal("25000"),
                 Decimal("60"), Decimal("30"), Decimal("1650"), Decimal("0.03"),
                 "Central Bank of Nigeria NFEM closing rate (demo values)"),
    CountryMoney("CM", "XAF", "cm", Decimal("300"), Decimal("220"), Decimal("8000"),
                 Decimal("25"), Decimal("12"), Decimal("655.957"), Decimal(0),
                 "BEAC fixed parity: 1 EUR = 655.957 XAF"),
)
# fmt: on
CAP_SOURCE = "Operator's market survey of second-hand basic phones (demo)"
PAYDAY_WEEKDAY = 5  # Saturday: collectors are paid for the week's intakes in the evening
FEE_DAY = 5  # handling fees for a month are paid on the 5th of the next


def schedule(
    timeline: Timeline, rng: random.Random, demo: Demo, first_day: dt.date, today: dt.date
) -> None:
    """Put this part of the demo on the timeline (its own random stream keeps the rest as is)."""
    first_month = first_day.replace(day=1)
    timeline.at(_at(first_month - dt.timedelta(days=18), 10), lambda: _set_up(demo, first_day))
    _schedule_exchange_rates(timeline, rng, demo, first_month, today)
    _schedule_paydays(timeline, demo, first_day, today)
    _schedule_handling_fees(timeline, demo, first_month, today)


def _at(day: dt.date, hour: int) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour), tzinfo=dt.UTC)


def _set_up(demo: Demo, first_day: dt.date) -> None:
    """Price caps and fee rates, in force before the first intake."""
    operator = demo.users["operator"]
    for plan in COUNTRIES:
        country = Country.objects.get(code=plan.country)
        payment_actions.set_price_cap(
            actor=operator,
            country=country,
            valid_from=first_day - dt.timedelta(days=60),
            max_per_phone=plan.max_per_phone,
            min_per_phone=plan.min_per_phone,
            second_hand_value=plan.second_hand_value,
            source=CAP_SOURCE,
        )
        for kind, per_phone in (
            (PaymentKind.STORAGE_FEE, plan.storage_fee),
            (PaymentKind.RECORD_KEEPING_FEE, plan.record_keeping_fee),
        ):
            payment_actions.set_handling_fee_rate(
                actor=operator,
                organisation=demo.orgs[plan.org],
                kind=kind,
                per_phone=per_phone,
                currency=plan.currency,
                valid_from=first_day.replace(day=1),
            )


def _months(first_month: dt.date, until: dt.date) -> list[dt.date]:
    months = [first_month]
    while (nxt := payment_actions.next_month(months[-1])) <= until:
        months.append(nxt)
    return months


def _schedule_exchange_rates(
    timeline: Timeline, rng: random.Random, demo: Demo, first_month: dt.date, today: dt.date
) -> None:
    """A rate per currency on the first day of each month, read by the operator that morning."""
    for plan in COUNTRIES:
        rate = plan.units_per_eur
        for month in _months(first_month, today - dt.timedelta(days=1)):
            drift = Decimal(rng.randint(-1000, 1000)) / 1000 * plan.monthly_drift
            rate = (rate * (1 + drift)).quantize(Decimal("0.0001")) if plan.monthly_drift else rate
            timeline.at(
                _at(month, 7), _record_rate(demo, plan.currency, month, rate, plan.rate_source)
            )


def _record_rate(
    demo: Demo, currency: str, day: dt.date, rate: Decimal, source: str
) -> Callable[[], object]:
    return lambda: payment_actions.record_exchange_rate(
        actor=demo.users["operator"],
        currency=currency,
        rate_date=day,
        units_per_eur=rate,
        source=source,
    )


def _schedule_paydays(timeline: Timeline, demo: Demo, first_day: dt.date, today: dt.date) -> None:
    """Every Saturday evening each hub pays what its collectors are still owed; nothing when
    intakes were paid on the spot."""
    from oneforone.demo import HUBS

    day = first_day + dt.timedelta(days=(PAYDAY_WEEKDAY - first_day.weekday()) % 7)
    while day < today:
        for plan in HUBS:
            timeline.at(_at(day, 17), _payday(demo, plan.org, plan.code))
        day += dt.timedelta(days=7)


def _payday(demo: Demo, org: str, hub_code: str) -> Callable[[], None]:
    def action() -> None:
        hub = demo.hubs.get(hub_code)
        if hub is not None and money_queries.unpaid_intakes([hub]).exists():
            payment_actions.pay_all_due(actor=demo.users[org], hub=hub, method=PaymentMethod.CASH)

    return action


def _schedule_handling_fees(
    timeline: Timeline, demo: Demo, first_month: dt.date, today: dt.date
) -> None:
    """On the 5th the operator pays each partner last month's storage and record-keeping fees."""
    for month in _months(first_month, today):
        paid_on = payment_actions.next_month(month).replace(day=FEE_DAY)
        if paid_on >= today:
            break
        for plan in COUNTRIES:
            timeline.at(_at(paid_on, 9), _fees(demo, plan.org, month))


def _fees(demo: Demo, org: str, month: dt.date) -> Callable[[], None]:
    def action() -> None:
        organisation = demo.orgs[org]
        if not payment_actions.phones_per_hub(organisation, month):
            return
        for kind in (PaymentKind.STORAGE_FEE, PaymentKind.RECORD_KEEPING_FEE):
            payment_actions.pay_handling_fee(
                actor=demo.users["operator"],
                organisation=organisation,
                kind=kind,
                period=month,
                method=PaymentMethod.BANK_TRANSFER,
                reference=f"SEPA-{organisation.slug[:12].upper()}-{month:%Y%m}-{kind[:3].upper()}",
            )

    return action
