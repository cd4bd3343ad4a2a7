"""Reconciling what the recycler counted and weighed with what the hub dispatched.

A finding is stored as a code with its figures (JSON on `Reception.flags`) and worded when it is
shown, in the reader's language (`describe_flag`). Receptions recorded before findings had codes
hold English sentences; they are shown as they were written (receptions are append-only)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from babel import Locale
from babel.numbers import format_decimal, format_percent
from django.conf import settings
from django.utils.translation import gettext, ngettext

from oneforone.core.money import active_locale

Flag = dict[str, Any]

COUNT_DIFFERS = "count_differs"
GRAMS_PER_PHONE = "grams_per_phone"
WEIGHT_DIFFERS = "weight_differs"
PACKAGES_DIFFER = "packages_differ"


def reception_flags(
    *, dispatched_phones: int, counted_phones: int, net_weight_kg: Decimal
) -> list[Flag]:
    flags: list[Flag] = []
    difference = counted_phones - dispatched_phones
    tolerance = Decimal(str(settings.RECEPTION_COUNT_TOLERANCE))
    if abs(difference) > dispatched_phones * tolerance:
        flags.append(
            {
                "code": COUNT_DIFFERS,
                "counted": counted_phones,
                "dispatched": dispatched_phones,
                "tolerance": str(tolerance),
            }
        )
    grams = net_weight_kg * 1000 / counted_phones
    low, high = settings.RECEPTION_GRAMS_PER_PHONE_MIN, settings.RECEPTION_GRAMS_PER_PHONE_MAX
    if not low <= grams <= high:
        flags.append(
            {
                "code": GRAMS_PER_PHONE,
                "net_weight_kg": str(net_weight_kg),
                "counted": counted_phones,
                "low": str(low),
                "high": str(high),
            }
        )
    return flags


def battery_reception_flags(
    *,
    dispatched_kg: Decimal,
    net_weight_kg: Decimal,
    dispatched_packages: int | None,
    packages: int,
) -> list[Flag]:
    """Batteries are reconciled by weight (the count tolerance applied to kg) and packages."""
    flags: list[Flag] = []
    difference = net_weight_kg - dispatched_kg
    tolerance = Decimal(str(settings.RECEPTION_COUNT_TOLERANCE))
    if abs(difference) > dispatched_kg * tolerance:
        flags.append(
            {
                "code": WEIGHT_DIFFERS,
                "received_kg": str(net_weight_kg),
                "dispatched_kg": str(dispatched_kg),
                "tolerance": str(tolerance),
            }
        )
    if dispatched_packages is not None and packages != dispatched_packages:
        flags.append(
            {"code": PACKAGES_DIFFER, "received": packages, "dispatched": dispatched_packages}
        )
    return flags


def describe_flag(flag: Flag | str) -> str:
    """The finding as a sentence in the active language, with its figures."""
    if isinstance(flag, str):
        return flag
    locale = active_locale()

    def signed(value: Decimal | int, pattern: str) -> str:
        return format_decimal(value, format=f"+{pattern};-{pattern}", locale=locale)

    def percent(value: Decimal, *, sign: bool = False) -> str:
        # The locale's own percent pattern (1,0 % in French), with one decimal.
        integer, zero, suffix = Locale.parse(locale).percent_formats[None].pattern.rpartition("0")
        pattern = f"{integer}{zero}.0{suffix}"
        return format_percent(
            value, format=f"+{pattern};-{pattern}" if sign else pattern, locale=locale
        )

    code = flag.get("code")
    if code == COUNT_DIFFERS:
        counted, dispatched = int(flag["counted"]), int(flag["dispatched"])
        difference = counted - dispatched
        return ngettext(
            "count differs from dispatch by %(difference)s phone (%(share)s; tolerance "
            "±%(tolerance)s)",
            "count differs from dispatch by %(difference)s phones (%(share)s; tolerance "
            "±%(tolerance)s)",
            abs(difference),
        ) % {
            "difference": signed(difference, "#,##0"),
            "share": percent(Decimal(difference) / dispatched, sign=True),
            "tolerance": percent(Decimal(flag["tolerance"])),
        }
    if code == GRAMS_PER_PHONE:
        grams = Decimal(flag["net_weight_kg"]) * 1000 / int(flag["counted"])
        return gettext(
            "%(grams)s g per phone is outside the expected %(low)s-%(high)s g for this stream"
        ) % {
            "grams": format_decimal(grams.quantize(Decimal(1)), locale=locale),
            "low": format_decimal(Decimal(flag["low"]), locale=locale),
            "high": format_decimal(Decimal(flag["high"]), locale=locale),
        }
    if code == WEIGHT_DIFFERS:
        received, dispatched_kg = Decimal(flag["received_kg"]), Decimal(flag["dispatched_kg"])
        difference_kg = received - dispatched_kg
        return gettext(
            "weight differs from dispatch by %(difference)s kg (%(share)s; tolerance "
            "±%(tolerance)s)"
        ) % {
            "difference": signed(difference_kg, "#,##0.000"),
            "share": percent(difference_kg / dispatched_kg, sign=True),
            "tolerance": percent(Decimal(flag["tolerance"])),
        }
    if code == PACKAGES_DIFFER:
        received_packages = int(flag["received"])
        return ngettext(
            "%(received)s package received, %(dispatched)s dispatched",
            "%(received)s packages received, %(dispatched)s dispatched",
            received_packages,
        ) % {
            "received": format_decimal(received_packages, locale=locale),
            "dispatched": format_decimal(int(flag["dispatched"]), locale=locale),
        }
    return gettext("unknown finding %(code)s") % {"code": code}
