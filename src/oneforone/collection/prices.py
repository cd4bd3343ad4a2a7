"""The price a hub may pay per phone: the country's cap (and fair-pay floor) on a day."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.db.models import Q
from django.utils.formats import date_format
from django.utils.translation import gettext

from oneforone.collection.models import Hub, PriceCap
from oneforone.core.money import Money


def cap_for(country: str, on: dt.date) -> PriceCap | None:
    return (
        PriceCap.objects.filter(country_id=country, valid_from__lte=on)
        .filter(Q(valid_until__isnull=True) | Q(valid_until__gte=on))
        .first()
    )


def outside_cap(hub: Hub, price: Decimal, on: dt.date) -> str | None:
    """Why `price` may not be paid at `hub` on `on`, worded for the hub operator; None if fine."""
    cap = cap_for(hub.country, on)
    if cap is None or cap.currency != hub.currency:
        return None
    if price > cap.max_per_phone:
        return gettext(
            "%(price)s a phone is above the cap of %(cap)s set for %(country)s from %(day)s, "
            "which keeps the price below what a working phone sells for; pay at most the cap, "
            "or buy only dead phones"
        ) % {
            "price": Money(price, hub.currency),
            "cap": Money(cap.max_per_phone, cap.currency),
            "country": hub.country,
            "day": date_format(cap.valid_from, "d M Y"),
        }
    if price < cap.min_per_phone:
        return gettext(
            "%(price)s a phone is below the fair-pay floor of %(floor)s set for %(country)s; "
            "pay at least that"
        ) % {
            "price": Money(price, hub.currency),
            "floor": Money(cap.min_per_phone, cap.currency),
            "country": hub.country,
        }
    return None
