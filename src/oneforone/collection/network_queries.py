"""Read models of the collection network: the operator's overview and flag queue, a collection
partner's hubs, one hub's day. Queries only; the pages render what these return."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet, Sum
from django.utils import timezone
from django.utils.translation import gettext_lazy

from oneforone.accounts.models import Organisation
from oneforone.collection.models import (
    Collector,
    Country,
    Flag,
    Hub,
    Intake,
    Lot,
    Payment,
    PaymentKind,
)
from oneforone.core.money import Money


def open_flags_on_lots(lots: QuerySet[Lot]) -> list[str]:
    """Seal numbers of `lots` that carry an open flag, on the lot or on an intake packed in it."""
    open_flags = Flag.objects.filter(resolved_at__isnull=True)
    on_lot = open_flags.filter(lot=OuterRef("pk"))
    on_intake = open_flags.filter(
        Q(intake__lot=OuterRef("pk")) | Q(intake__battery_lot=OuterRef("pk"))
    )
    return sorted(
        lots.filter(Exists(on_lot) | Exists(on_intake)).values_list("seal_number", flat=True)
    )


def local_today(hub: Hub, zones: dict[str, str]) -> dt.date:
    return timezone.now().astimezone(zoneinfo.ZoneInfo(zones.get(hub.country, "UTC"))).date()


def country_zones() -> dict[str, str]:
    return dict(Country.objects.values_list("code", "timezone"))


# --- the operator's flag queue ------------------------------------------------------------------


@dataclass(frozen=True)
class FlagFilter:
    kind: str = ""
    hub: str = ""
    country: str = ""
    state: str = "open"  # open, resolved or all


def flag_queue(chosen: FlagFilter) -> QuerySet[Flag]:
    """Open flags first (oldest first: they wait longest), then the resolved ones, newest first."""
    flags = Flag.objects.select_related("hub", "intake", "lot", "collector", "resolved_by")
    if chosen.kind:
        flags = flags.filter(kind=chosen.kind)
    if chosen.hub:
        flags = flags.filter(hub__code=chosen.hub)
    if chosen.country:
        flags = flags.filter(hub__country=chosen.country)
    if chosen.state == "open":
        flags = flags.filter(resolved_at__isnull=True)
    elif chosen.state == "resolved":
        flags = flags.filter(resolved_at__isnull=False)
    if chosen.state == "open":
        return flags.order_by("raised_at", "id")
    return flags.order_by(F("resolved_at").desc(nulls_first=True), "-raised_at", "-id")


# The keys the plausibility signals store in a flag's evidence, as a person reads them.
EVIDENCE_LABELS = {
    "accuracy_credited_m": gettext_lazy("accuracy credited (m)"),
    "active_weeks": gettext_lazy("active weeks"),
    "allowed_high": gettext_lazy("allowed high"),
    "allowed_low": gettext_lazy("allowed low"),
    "also_in": gettext_lazy("also in"),
    "cap_from": gettext_lazy("cap from"),
    "cap_max": gettext_lazy("cap max"),
    "cap_min": gettext_lazy("cap min"),
    "cap_until": gettext_lazy("cap until"),
    "closes_at": gettext_lazy("closes at"),
    "collected_at": gettext_lazy("collected at"),
    "compared_intakes": gettext_lazy("compared intakes"),
    "compared_lots": gettext_lazy("compared lots"),
    "condition": gettext_lazy("condition"),
    "currency": gettext_lazy("currency"),
    "distance_m": gettext_lazy("distance (m)"),
    "gps_accuracy_m": gettext_lazy("GPS accuracy (m)"),
    "grace_minutes": gettext_lazy("grace minutes"),
    "grams_per_phone": gettext_lazy("grams per phone"),
    "hub": gettext_lazy("hub"),
    "hub_position": gettext_lazy("hub position"),
    "imei": gettext_lazy("IMEI"),
    "imeis": gettext_lazy("IMEIs"),
    "intake": gettext_lazy("intake"),
    "intake_position": gettext_lazy("intake position"),
    "intake_uuid": gettext_lazy("intake UUID"),
    "kind": gettext_lazy("kind"),
    "local_time": gettext_lazy("local time"),
    "median_active_week": gettext_lazy("median active week"),
    "net_weight_kg": gettext_lazy("net weight (kg)"),
    "norm_mad": gettext_lazy("normalised MAD"),
    "open_weekdays": gettext_lazy("open weekdays"),
    "opens_at": gettext_lazy("opens at"),
    "phones": gettext_lazy("phones"),
    "price_per_phone": gettext_lazy("price per phone"),
    "radius_m": gettext_lazy("radius (m)"),
    "rule": gettext_lazy("rule"),
    "second_hand_value": gettext_lazy("second-hand value"),
    "threshold": gettext_lazy("threshold"),
    "timezone": gettext_lazy("time zone"),
    "units": gettext_lazy("units"),
    "weekday": gettext_lazy("weekday"),
    "weekly_phones_before": gettext_lazy("weekly phones before"),
}


def evidence_lines(evidence: dict[str, Any]) -> list[tuple[str, str]]:
    """A flag's evidence as label/value lines a person reads on a phone."""
    lines = []
    for key, value in evidence.items():
        if isinstance(value, list) and value and isinstance(value[0], dict):
            shown = "; ".join(", ".join(f"{k} {v}" for k, v in item.items()) for item in value)
        elif isinstance(value, list):
            shown = ", ".join(str(v) for v in value[:20]) + (" …" if len(value) > 20 else "")
        else:
            shown = "—" if value is None else str(value)
        lines.append((str(EVIDENCE_LABELS.get(key, key.replace("_", " "))), shown))
    return lines


# --- the operator's network overview ------------------------------------------------------------


@dataclass(frozen=True)
class CountryRow:
    code: str
    name: str
    hubs: int
    collectors: int
    phones_this_month: int
    phones_12_months: int
    open_flags: int
    lots_waiting: int


def network_by_country(today: dt.date) -> list[CountryRow]:
    month_start = today.replace(day=1)
    year_ago = today - dt.timedelta(days=365)
    names = dict(Country.objects.values_list("code", "name"))
    hubs = dict(Hub.objects.values("country").annotate(n=Count("id")).values_list("country", "n"))
    collectors = dict(
        Collector.objects.filter(active=True)
        .values("hub__country")
        .annotate(n=Count("id"))
        .values_list("hub__country", "n")
    )
    phones: dict[str, dict[str, Any]] = {
        row["hub__country"]: dict(row)
        for row in Intake.objects.values("hub__country").annotate(
            month=Sum("phones", filter=Q(collected_on__gte=month_start)),
            year=Sum("phones", filter=Q(collected_on__gt=year_ago)),
        )
    }
    flags = _count_by(Flag.objects.filter(resolved_at__isnull=True), "hub__country")
    waiting = _count_by(Lot.objects.filter(consignment__isnull=True), "hub__country")
    return [
        CountryRow(
            code=code,
            name=names.get(code, code),
            hubs=hubs[code],
            collectors=collectors.get(code, 0),
            phones_this_month=phones.get(code, {}).get("month") or 0,
            phones_12_months=phones.get(code, {}).get("year") or 0,
            open_flags=flags.get(code, 0),
            lots_waiting=waiting.get(code, 0),
        )
        for code in sorted(hubs, key=lambda c: names.get(c, c))
    ]


def _count_by(rows: QuerySet[Any], field: str) -> dict[str, int]:
    return dict(rows.values(field).annotate(n=Count("id")).values_list(field, "n"))


# --- a collection partner's hubs ----------------------------------------------------------------


@dataclass(frozen=True)
class HubRow:
    hub: Hub
    today: dt.date
    intakes_today: int
    phones_today: int
    open_intakes: int
    lots_waiting: int
    collectors: int
    open_flags: int
    payments_due: Money


def hub_rows(hubs: Iterable[Hub]) -> list[HubRow]:
    hubs = list(hubs)
    ids = [h.pk for h in hubs]
    zones = country_zones()
    days = {h.pk: local_today(h, zones) for h in hubs}
    todays = Q()
    for hub in hubs:
        todays |= Q(hub=hub, collected_on=days[hub.pk])
    today_counts = _by_hub(
        Intake.objects.filter(todays) if hubs else Intake.objects.none(),
        n=Count("id"),
        phones=Sum("phones"),
    )
    open_intakes = _by_hub(Intake.objects.filter(hub__in=ids, lot__isnull=True), n=Count("id"))
    waiting = _by_hub(Lot.objects.filter(hub__in=ids, consignment__isnull=True), n=Count("id"))
    collectors = _by_hub(Collector.objects.filter(hub__in=ids, active=True), n=Count("id"))
    flags = _by_hub(Flag.objects.filter(hub__in=ids, resolved_at__isnull=True), n=Count("id"))
    owed = _by_hub(Intake.objects.filter(hub__in=ids), total=Sum("amount_paid"))
    paid = _by_hub(
        Payment.objects.filter(hub__in=ids, kind=PaymentKind.PURCHASE), total=Sum("amount")
    )
    return [
        HubRow(
            hub=hub,
            today=days[hub.pk],
            intakes_today=today_counts.get(hub.pk, {}).get("n", 0),
            phones_today=today_counts.get(hub.pk, {}).get("phones") or 0,
            open_intakes=open_intakes.get(hub.pk, {}).get("n", 0),
            lots_waiting=waiting.get(hub.pk, {}).get("n", 0),
            collectors=collectors.get(hub.pk, {}).get("n", 0),
            open_flags=flags.get(hub.pk, {}).get("n", 0),
            payments_due=Money(
                (owed.get(hub.pk, {}).get("total") or Decimal(0))
                - (paid.get(hub.pk, {}).get("total") or Decimal(0)),
                hub.currency,
            ),
        )
        for hub in hubs
    ]


def _by_hub(rows: QuerySet[Any], **aggregates: Any) -> dict[int, dict[str, Any]]:
    return {row.pop("hub"): row for row in rows.values("hub").annotate(**aggregates)}


def hubs_of(organisation: Organisation) -> QuerySet[Hub]:
    return Hub.objects.filter(organisation=organisation).order_by("name")
