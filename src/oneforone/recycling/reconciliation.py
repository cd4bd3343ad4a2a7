"""Reconciling what the recycler counted and weighed with what the hub dispatched."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings


def reception_flags(
    *, dispatched_phones: int, counted_phones: int, net_weight_kg: Decimal
) -> list[str]:
    flags = []
    difference = counted_phones - dispatched_phones
    tolerance = settings.RECEPTION_COUNT_TOLERANCE
    if abs(difference) > dispatched_phones * tolerance:
        flags.append(
            f"count differs from dispatch by {difference:+,} phones "
            f"({difference / dispatched_phones:+.1%}; tolerance ±{tolerance:.1%})"
        )
    grams = net_weight_kg * 1000 / counted_phones
    low, high = settings.RECEPTION_GRAMS_PER_PHONE_MIN, settings.RECEPTION_GRAMS_PER_PHONE_MAX
    if not low <= grams <= high:
        flags.append(
            f"{grams:.0f} g per phone is outside the expected {low}-{high} g for this stream"
        )
    return flags
