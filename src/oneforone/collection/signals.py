"""Fraud and plausibility signals: each detector raises a Flag with its evidence.

Called inside the actions that record intakes and seal lots (same transaction). A detector looks
at one record against a norm (the hub's, the stream's, the collector's own history, the country's
price cap, the hub's hours and place) and, when the record is far from it, returns the evidence:
the figures, the norm, the threshold and the records compared. Thresholds are named below with
the reason for each; docs/collection-signals.md explains them for the people who resolve flags.
"""

from __future__ import annotations

import datetime as dt
import math
import statistics
import zoneinfo
from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any

from django.db import connection
from django.utils import timezone, translation

from oneforone.collection import prices
from oneforone.collection.models import Country, Flag, FlagKind, Hub, Intake, IntakeImei, Lot

Evidence = dict[str, Any]

# --- thresholds ---------------------------------------------------------------------------------

# Weight per phone against the hub's own recent intakes of the same condition. A scale that is
# off, stones in the bag or phones bought by the kilogram show up as a weight per phone far from
# what the same hub weighs every day; screens alone weigh less than whole phones, so each
# condition has its own norm. Median and MAD (robust: one odd intake does not move the norm);
# the band is at least a quarter of the median, because a hub whose intakes are all alike has a
# tiny MAD, and a phone model mix shifting by 25% is still normal.
WEIGHT_HISTORY = 60  # the hub's latest intakes of the condition that make its norm
WEIGHT_MIN_HISTORY = 12  # fewer than this: no norm yet, no flag
WEIGHT_MAD_FACTOR = Decimal(5)  # robust z-score beyond which a weight is implausible
WEIGHT_MIN_BAND = Decimal("0.25")  # the band around the median is at least this share of it

# The same test for a sealed lot against the latest lots of its kind across the network (the
# stream): a lot whose weight per phone drifts from the stream's is repacked or mislabelled.
# Lots average many intakes, so their band is narrower.
LOT_HISTORY = 100
LOT_MIN_HISTORY = 10
LOT_MAD_FACTOR = Decimal(5)
LOT_MIN_BAND = Decimal("0.15")

# A collector's phones in the seven days up to an intake against the median of their active
# weeks (weeks in which they brought phones) over the half year before. Collectors bring phones
# in bursts, a normal busy week is up to five times their median one, so the factor is six; the
# minimum keeps a collector who goes from 20 to 150 phones out of the queue.
VOLUME_WINDOW = dt.timedelta(days=7)
VOLUME_HISTORY_WEEKS = 26
VOLUME_MIN_ACTIVE_WEEKS = 4  # a shorter history says too little about the collector
VOLUME_FACTOR = 6
VOLUME_MIN_PHONES = 600

# Opening hours: a purchase recorded up to half an hour before opening or after closing is a
# queue at the door or a late entry, not a signal.
HOURS_GRACE = dt.timedelta(minutes=30)

# Distance from the hub: the GPS fix's own accuracy is given the benefit of the doubt, up to
# this much (a fix claiming to be 20 km accurate says nothing about where the hub device was).
GPS_ACCURACY_CREDIT_M = 1000
EARTH_RADIUS_M = 6_371_008.8  # mean radius (IUGG)

IMEI_LOCK_NAMESPACE = 0x1D1  # advisory locks on IMEIs: (this, hashtext(imei))


# --- entry points -------------------------------------------------------------------------------


def raise_for_intake(intake: Intake) -> list[Flag]:
    """The flags a newly recorded (or edited) intake raises; kinds it carries already are kept
    as they are (one flag of a kind per intake). A reversing record raises none: it cancels."""
    if intake.reverses_id is not None:
        return []
    detectors: Sequence[tuple[str, Callable[[Intake], Evidence | None]]] = (
        (FlagKind.WEIGHT_PER_PHONE_HUB, weight_per_phone_at_hub),
        (FlagKind.VOLUME_JUMP, volume_jump),
        (FlagKind.PRICE_OUTSIDE_CAP, price_outside_cap),
        (FlagKind.OUTSIDE_HOURS, outside_hours),
        (FlagKind.FAR_FROM_HUB, far_from_hub),
    )
    present = set(Flag.objects.filter(intake=intake).values_list("kind", flat=True))
    now = timezone.now()
    flags = [
        Flag(
            kind=kind,
            hub_id=intake.hub_id,
            intake=intake,
            collector_id=intake.collector_id,
            evidence=evidence,
            raised_at=now,
        )
        for kind, detect in detectors
        if kind not in present and (evidence := detect(intake)) is not None
    ]
    return Flag.objects.bulk_create(flags + repeated_imeis(intake))


def raise_for_lot(lot: Lot) -> list[Flag]:
    """The flags a newly sealed lot raises."""
    evidence = lot_weight_per_unit(lot)
    if (
        evidence is None
        or Flag.objects.filter(lot=lot, kind=FlagKind.WEIGHT_PER_PHONE_LOT).exists()
    ):
        return []
    flag = Flag.objects.create(
        kind=FlagKind.WEIGHT_PER_PHONE_LOT,
        hub_id=lot.hub_id,
        lot=lot,
        evidence=evidence,
        raised_at=timezone.now(),
    )
    return [flag]


# --- detectors ----------------------------------------------------------------------------------


def weight_per_phone_at_hub(intake: Intake) -> Evidence | None:
    grams = _grams_per_unit(intake.net_weight_kg, intake.phones)
    history = list(
        _standing_intakes()
        .filter(
            hub_id=intake.hub_id, condition=intake.condition, collected_at__lte=intake.collected_at
        )
        .exclude(pk=intake.pk)
        .order_by("-collected_at", "-id")
        .values_list("id", "net_weight_kg", "phones")[:WEIGHT_HISTORY]
    )
    if len(history) < WEIGHT_MIN_HISTORY:
        return None
    norm = [_grams_per_unit(kg, phones) for _, kg, phones in history]
    band = _band(norm, WEIGHT_MAD_FACTOR, WEIGHT_MIN_BAND)
    if band.contains(grams):
        return None
    return {
        "grams_per_phone": str(grams),
        "phones": intake.phones,
        "net_weight_kg": str(intake.net_weight_kg),
        "condition": intake.condition,
        **band.as_evidence("grams_per_phone"),
        "compared_intakes": [pk for pk, _, _ in history],
        "rule": (
            f"weight per phone outside the median ± max({WEIGHT_MAD_FACTOR} × 1.4826 × MAD, "
            f"{WEIGHT_MIN_BAND:%} of the median) of the hub's latest {len(history)} intakes of "
            "the same condition"
        ),
    }


def lot_weight_per_unit(lot: Lot) -> Evidence | None:
    units = lot.phones or lot.batteries
    if not units:
        return None
    grams = _grams_per_unit(lot.net_weight_kg, units)
    history = list(
        Lot.objects.filter(kind=lot.kind)
        .exclude(pk=lot.pk)
        .order_by("-sealed_at", "-id")
        .values_list("id", "seal_number", "net_weight_kg", "phones", "batteries")[:LOT_HISTORY]
    )
    if len(history) < LOT_MIN_HISTORY:
        return None
    norm = [_grams_per_unit(kg, phones or batteries) for _, _, kg, phones, batteries in history]
    band = _band(norm, LOT_MAD_FACTOR, LOT_MIN_BAND)
    if band.contains(grams):
        return None
    unit = "phone" if lot.phones else "battery"
    return {
        f"grams_per_{unit}": str(grams),
        "units": units,
        "net_weight_kg": str(lot.net_weight_kg),
        "kind": lot.kind,
        **band.as_evidence(f"grams_per_{unit}"),
        "compared_lots": [seal for _, seal, _, _, _ in history],
        "rule": (
            f"weight per {unit} outside the median ± max({LOT_MAD_FACTOR} × 1.4826 × MAD, "
            f"{LOT_MIN_BAND:%} of the median) of the latest {len(history)} {lot.kind} lots of "
            "the network"
        ),
    }


def volume_jump(intake: Intake) -> Evidence | None:
    window_start = intake.collected_at - VOLUME_WINDOW
    history_start = window_start - VOLUME_HISTORY_WEEKS * VOLUME_WINDOW
    rows = list(
        _standing_intakes()
        .filter(
            collector_id=intake.collector_id,
            collected_at__gt=history_start,
            collected_at__lte=intake.collected_at,
        )
        .exclude(pk=intake.pk)
        .values_list("collected_at", "phones")
    )
    in_window = intake.phones + sum(p for at, p in rows if at > window_start)
    weeks: dict[int, int] = {}
    for at, phones in rows:
        if at <= window_start:
            week = (window_start - at) // VOLUME_WINDOW
            weeks[week] = weeks.get(week, 0) + phones
    if len(weeks) < VOLUME_MIN_ACTIVE_WEEKS:
        return None
    median_week = statistics.median(weeks.values())
    threshold = max(VOLUME_FACTOR * median_week, VOLUME_MIN_PHONES)
    if in_window <= threshold:
        return None
    return {
        "phones_last_7_days": in_window,
        "median_active_week": median_week,
        "active_weeks": len(weeks),
        "threshold": threshold,
        "weekly_phones_before": [weeks[w] for w in sorted(weeks)],
        "rule": (
            f"phones in the 7 days up to this intake above {VOLUME_FACTOR} × the median of the "
            f"collector's active weeks in the {VOLUME_HISTORY_WEEKS} weeks before, and above "
            f"{VOLUME_MIN_PHONES}"
        ),
    }


def repeated_imeis(intake: Intake) -> list[Flag]:
    """Flags for the later collections of an IMEI this intake shares with others that stand.

    The later collection is the repeat, whichever record reaches the server first: an offline
    device may sync the earlier purchase after the later one, and a batch sent in another order
    must end with the same flags. So the flag may land on another intake than the one recorded."""
    imeis = list(IntakeImei.objects.filter(intake=intake).values_list("imei", flat=True))
    if not imeis:
        return []
    _lock_imeis(imeis)
    rows = list(
        IntakeImei.objects.filter(
            imei__in=imeis, intake__reverses__isnull=True, intake__reversed_by__isnull=True
        ).values_list(
            "imei",
            "intake_id",
            "intake__client_uuid",
            "intake__collected_at",
            "intake__hub_id",
            "intake__hub__code",
            "intake__collector_id",
        )
    )
    by_imei: dict[str, list[tuple[Any, ...]]] = {}
    for row in sorted(rows, key=lambda r: (r[3], str(r[2]))):
        by_imei.setdefault(row[0], []).append(row)
    earlier_of: dict[int, list[tuple[Any, ...]]] = {}
    subjects: dict[int, tuple[Any, ...]] = {}
    for collections in by_imei.values():
        for position, row in enumerate(collections[1:], start=1):
            subjects[row[1]] = row
            earlier_of.setdefault(row[1], []).extend(collections[:position])
    flagged = set(
        Flag.objects.filter(kind=FlagKind.DUPLICATE_IMEI, intake_id__in=list(subjects)).values_list(
            "intake_id", flat=True
        )
    )
    now = timezone.now()
    return [
        Flag(
            kind=FlagKind.DUPLICATE_IMEI,
            hub_id=row[4],
            intake_id=pk,
            collector_id=row[6],
            evidence={
                "imeis": sorted({earlier[0] for earlier in earlier_of[pk]}),
                "also_in": [
                    {
                        "imei": imei,
                        "intake": other,
                        "intake_uuid": str(uuid),
                        "hub": hub,
                        "collected_at": at.isoformat(timespec="minutes"),
                    }
                    for imei, other, uuid, at, _, hub, _ in earlier_of[pk]
                ],
                "rule": "an IMEI already collected earlier in another intake (any hub) that stands",
            },
            raised_at=now,
        )
        for pk, row in subjects.items()
        if pk not in flagged
    ]


def price_outside_cap(intake: Intake) -> Evidence | None:
    """Only an offline record synced later (enforce_cap=False) can get here: the hub device
    bought at a price the server would have refused."""
    hub = intake.hub
    with translation.override("en"):  # the rule is stored with the flag: written as recorded
        refusal = prices.outside_cap(hub, intake.price_per_phone, intake.collected_on)
    if refusal is None:
        return None
    cap = prices.cap_for(hub.country, intake.collected_on)
    assert cap is not None
    return {
        "price_per_phone": str(intake.price_per_phone),
        "currency": intake.currency,
        "cap_max": str(cap.max_per_phone),
        "cap_min": str(cap.min_per_phone),
        "cap_from": cap.valid_from.isoformat(),
        "cap_until": cap.valid_until.isoformat() if cap.valid_until else None,
        "second_hand_value": str(cap.second_hand_value),
        "rule": refusal,
    }


def outside_hours(intake: Intake) -> Evidence | None:
    """A time outside the hub's opening hours or on a day it does not buy, in the hub's zone.

    Records entered without a time of purchase are not checked: record_intake puts a date-only
    purchase at noon of that day, and one entered without date or time at the moment of entry;
    neither time says when the phones changed hands."""
    if not _has_time_of_purchase(intake):
        return None
    hub = intake.hub
    local = intake.collected_at.astimezone(_zone(hub))
    opens = dt.datetime.combine(local.date(), hub.opens_at, local.tzinfo) - HOURS_GRACE
    closes = dt.datetime.combine(local.date(), hub.closes_at, local.tzinfo) + HOURS_GRACE
    closed_day = local.isoweekday() not in hub.open_weekdays
    if not closed_day and opens <= local <= closes:
        return None
    return {
        "local_time": local.isoformat(timespec="minutes"),
        "weekday": local.isoweekday(),
        "open_weekdays": list(hub.open_weekdays),
        "opens_at": hub.opens_at.isoformat(timespec="minutes"),
        "closes_at": hub.closes_at.isoformat(timespec="minutes"),
        "grace_minutes": int(HOURS_GRACE.total_seconds() // 60),
        "timezone": str(local.tzinfo),
        "rule": "a closed weekday" if closed_day else "outside the opening hours and their grace",
    }


def far_from_hub(intake: Intake) -> Evidence | None:
    hub = intake.hub
    if None in (intake.latitude, intake.longitude, hub.latitude, hub.longitude):
        return None
    distance = haversine_m(intake.latitude, intake.longitude, hub.latitude, hub.longitude)  # type: ignore[arg-type]
    credit = min(intake.gps_accuracy_m or 0, GPS_ACCURACY_CREDIT_M)
    if distance - credit <= hub.radius_m:
        return None
    return {
        "distance_m": round(distance),
        "gps_accuracy_m": intake.gps_accuracy_m,
        "accuracy_credited_m": credit,
        "radius_m": hub.radius_m,
        "intake_position": [str(intake.latitude), str(intake.longitude)],
        "hub_position": [str(hub.latitude), str(hub.longitude)],
        "rule": "distance less the fix's accuracy (at most "
        f"{GPS_ACCURACY_CREDIT_M} m) beyond the hub's radius",
    }


# --- helpers ------------------------------------------------------------------------------------


class Band:
    """A robust norm: median ± half-width, from the median absolute deviation."""

    def __init__(self, median: Decimal, mad: Decimal, half_width: Decimal) -> None:
        self.median, self.mad, self.half_width = median, mad, half_width

    def contains(self, value: Decimal) -> bool:
        return abs(value - self.median) <= self.half_width

    def as_evidence(self, name: str) -> Evidence:
        return {
            f"norm_median_{name}": str(self.median),
            "norm_mad": str(self.mad),
            "allowed_low": str(self.median - self.half_width),
            "allowed_high": str(self.median + self.half_width),
        }


MAD_TO_SIGMA = Decimal("1.4826")  # MAD × this estimates the standard deviation of normal data


def _band(values: Sequence[Decimal], factor: Decimal, min_share: Decimal) -> Band:
    median = statistics.median(values)
    mad = statistics.median(abs(v - median) for v in values)
    half_width = max(factor * MAD_TO_SIGMA * mad, min_share * median)
    quantum = Decimal("0.1")
    return Band(median.quantize(quantum), mad.quantize(quantum), half_width.quantize(quantum))


def _grams_per_unit(kg: Decimal, units: int) -> Decimal:
    return (kg * 1000 / units).quantize(Decimal("0.1"))


def _standing_intakes() -> Any:
    """Intakes that count: neither a reversal nor reversed."""
    return Intake.objects.filter(reverses__isnull=True, reversed_by__isnull=True)


def _lock_imeis(imeis: Sequence[str]) -> None:
    """Two hubs recording the same phone at the same moment: the second waits for the first to
    commit, then sees it (without the lock each would miss the other's uncommitted record)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_advisory_xact_lock(%s, hashtext(imei))"
            " FROM (SELECT imei FROM unnest(%s::text[]) AS imei ORDER BY imei) AS sorted",
            [IMEI_LOCK_NAMESPACE, list(imeis)],
        )


def _zone(hub: Hub) -> zoneinfo.ZoneInfo:
    country = Country.objects.filter(code=hub.country).values_list("timezone", flat=True).first()
    return zoneinfo.ZoneInfo(country or "UTC")


def _has_time_of_purchase(intake: Intake) -> bool:
    local = intake.collected_at.astimezone(_zone(intake.hub))
    date_only = local.time() == dt.time(12)
    entry_moment = abs(intake.collected_at - intake.recorded_at) < dt.timedelta(seconds=1)
    return not (date_only or entry_moment)


def haversine_m(lat1: Decimal, lon1: Decimal, lat2: Decimal, lon2: Decimal) -> float:
    """Great-circle distance in metres (a distance, not money: floats are right here)."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    d_phi = phi2 - phi1
    d_lambda = math.radians(lon2 - lon1)
    a = math.sin(d_phi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(d_lambda / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(math.sqrt(a))
