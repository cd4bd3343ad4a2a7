"""The demo's plausibility signals: the normal data raises none; one staged suspicious intake sits
in the operator's queue.

A collector at Kumasi sells phones whose IMEIs the hub reads; days later a collector at Accra
brings one of the same phones again (the same IMEI collected twice: sold, stolen back or
recycled through a second hub). The second intake is open, not packed yet: the operator sees the
flag with its evidence, and any lot it is packed into waits for the flag to be resolved."""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable
from decimal import Decimal
from typing import TYPE_CHECKING

from django.utils import timezone

from oneforone.collection.actions import record_intake
from oneforone.collection.models import Collector

if TYPE_CHECKING:
    from oneforone.demo import Demo, Timeline

# A type allocation code no demo plan uses, so that only the staged phones share IMEIs.
STAGED_TAC = "35999099"
STAGED_SERIAL = 990_001
FIRST_SALE_DAYS_AGO = 6
STAGED_PHONES = (40, 30)
GRAMS_PER_PHONE = Decimal("0.055")  # kg, as the hubs weigh every day


def schedule(
    timeline: Timeline, rng: random.Random, demo: Demo, first_day: dt.date, today: dt.date
) -> None:
    """Put this part of the demo on the timeline (its own random stream keeps the rest as is)."""
    from oneforone.demo import imei

    imeis = [imei(STAGED_TAC, STAGED_SERIAL + n) for n in range(4)]
    first_day_sold = _buying_day(today - dt.timedelta(days=FIRST_SALE_DAYS_AGO))
    again = _buying_day(today - dt.timedelta(days=1))
    timeline.at(
        _moment(rng, first_day_sold),
        _sale(demo, "gh-kumasi", 3, STAGED_PHONES[0], imeis),
    )
    timeline.at(_moment(rng, again), _sale(demo, "gh-accra", 5, STAGED_PHONES[1], imeis[2:3]))


def _sale(
    demo: Demo, hub_code: str, nth_active: int, phones: int, imeis: list[str]
) -> Callable[[], None]:
    from oneforone.demo import HUBS

    plan = next(p for p in HUBS if p.code == hub_code)

    def action() -> None:
        hub = demo.hubs[hub_code]
        # Among the collectors still active then: other parts of the demo suspend or erase some.
        seller = Collector.objects.filter(hub=hub, active=True, erased_at__isnull=True).order_by(
            "code"
        )[nth_active]
        record_intake(
            actor=demo.users[plan.org],
            hub=hub,
            collector=seller,
            collected_at=timezone.now(),
            phones=phones,
            net_weight_kg=phones * GRAMS_PER_PHONE,
            batteries_removed=phones // 3,
            price_per_phone=plan.prices[-1],
            currency=plan.currency,
            imeis=imeis,
            note="IMEIs read from the phones that still show one",
        )

    return action


def _buying_day(day: dt.date) -> dt.date:
    """Hubs buy Monday to Saturday."""
    return day - dt.timedelta(days=1) if day.isoweekday() == 7 else day


def _moment(rng: random.Random, day: dt.date) -> dt.datetime:
    minute = rng.randint(9 * 60, 15 * 60)
    return dt.datetime.combine(day, dt.time(minute // 60, minute % 60), tzinfo=dt.UTC)
