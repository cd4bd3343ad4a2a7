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


def battery_reception_flags(
    *,
    dispatched_kg: Decimal,
    net_weight_kg: Decimal,
    dispatched_packages: int | None,
    packages: int,
) -> list[str]:
    """Batteries are reconciled by weight (the count tolerance applied to kg) and packages."""
    flags = []
    difference = net_weight_kg - dispatched_kg
    tolerance = settings.RECEPTION_COUNT_TOLERANCE
    if abs(difference) > dispatched_kg * Decimal(str(tolerance)):
        flags.append(
            f"weight differs from dispatch by {difference:+,.3f} kg "
            f"({difference / dispatched_kg:+.1%}; tolerance ±{tolerance:.1%})"
        )
    if dispatched_packages is not None and packages != dispatched_packages:
        flags.append(f"{packages} packages received, {dispatched_packages} dispatched")
    return flags
