"""The operator's overview of the whole service: backlog against the pipeline with an estimate of
when it is compensated, throughput per hub and country, compliance, and collector income against
living wages. Operator staff only: nothing here is scoped to a partner.

Each function reads a fixed number of queries, whatever the amount of data: the overview page
asserts it.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import connection
from django.db.models import Count, Min, Q, QuerySet

from oneforone.accounts.models import Organisation
from oneforone.collection.models import Flag, Intake, Payment
from oneforone.impact import queries as impact
from oneforone.registry.models import IssuanceBatch
from oneforone.shipments.deadlines import DeadlineStatus, deadlines_for
from oneforone.shipments.models import Consignment, ConsignmentState, CustodyStep

# The window over which the pipeline's recent throughput is measured.
THROUGHPUT_WINDOW_DAYS = 90
IN_TRANSIT_ROWS = 50
GRAINS = ("week", "month")


# --- backlog and its estimate ------------------------------------------------------------------


@dataclass(frozen=True)
class Estimate:
    """When today's backlog is compensated if units keep being issued at the recent rate.

    shortfall = backlog - units issued and not yet allocated (they can be allocated now)
    rate      = units issued in the window / days in the window (units a day)
    days      = ceil(shortfall / rate); the date is today + days
    No date when the shortfall is positive and nothing was issued in the window."""

    backlog: int
    on_hand: int
    issued_in_window: int
    window_days: int
    today: dt.date

    @property
    def shortfall(self) -> int:
        return max(self.backlog - self.on_hand, 0)

    @property
    def rate_per_day(self) -> Decimal:
        return (Decimal(self.issued_in_window) / Decimal(self.window_days)).quantize(
            Decimal("0.01")
        )

    @property
    def days(self) -> int | None:
        if self.shortfall == 0:
            return 0
        if self.issued_in_window <= 0:
            return None
        # Exact integer arithmetic: shortfall * window / issued, rounded up.
        return math.ceil(Decimal(self.shortfall * self.window_days) / self.issued_in_window)

    @property
    def date(self) -> dt.date | None:
        days = self.days
        return None if days is None else self.today + dt.timedelta(days=days)


@dataclass(frozen=True)
class Backlog:
    units_owed: int
    units_allocated: int
    at_hubs: int
    in_transit: int
    received: int
    treated_not_allocated: int
    estimate: Estimate

    @property
    def units_backlog(self) -> int:
        return self.units_owed - self.units_allocated

    @property
    def in_pipeline(self) -> int:
        return self.at_hubs + self.in_transit + self.received + self.treated_not_allocated


def issued_between(start: dt.datetime, end: dt.datetime) -> int:
    """Units issued (treatment completed) in [start, end)."""
    total = IssuanceBatch.objects.filter(issued_at__gte=start, issued_at__lt=end).values_list(
        "quantity", flat=True
    )
    return sum(total)


def backlog(today: dt.date, now: dt.datetime) -> Backlog:
    totals = impact.registry_totals()
    pipeline = impact.pipeline()
    on_hand = pipeline.units_available + pipeline.units_reserved
    issued = issued_between(now - dt.timedelta(days=THROUGHPUT_WINDOW_DAYS), now)
    return Backlog(
        units_owed=totals.units_owed,
        units_allocated=totals.units_allocated,
        at_hubs=pipeline.at_hubs,
        in_transit=pipeline.in_transit,
        received=pipeline.received,
        treated_not_allocated=on_hand,
        estimate=Estimate(
            backlog=totals.units_backlog,
            on_hand=on_hand,
            issued_in_window=issued,
            window_days=THROUGHPUT_WINDOW_DAYS,
            today=today,
        ),
    )


# --- throughput per hub and country ------------------------------------------------------------


@dataclass
class HubThroughput:
    code: str
    name: str
    country: str
    phones: int = 0
    intakes: int = 0


@dataclass
class Throughput:
    start: dt.date
    end: dt.date
    grain: str
    buckets: list[dt.date] = field(default_factory=list)
    hubs: list[HubThroughput] = field(default_factory=list)
    # country -> phones per bucket, in the order of `buckets`
    per_country: dict[str, list[int]] = field(default_factory=dict)

    @property
    def countries(self) -> list[tuple[str, int]]:
        return sorted(
            ((c, sum(v)) for c, v in self.per_country.items()), key=lambda cv: (-cv[1], cv[0])
        )

    @property
    def total(self) -> int:
        return sum(h.phones for h in self.hubs)


def bucket_of(day: dt.date, grain: str) -> dt.date:
    """The first day of the ISO week (Monday) or of the month the day falls in."""
    if grain == "week":
        return day - dt.timedelta(days=day.weekday())
    return day.replace(day=1)


def buckets_between(start: dt.date, end: dt.date, grain: str) -> list[dt.date]:
    result, current = [], bucket_of(start, grain)
    while current <= end:
        result.append(current)
        if grain == "week":
            current += dt.timedelta(days=7)
        else:
            current = (current.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    return result


def throughput(start: dt.date, end: dt.date, grain: str) -> Throughput:
    """Phones bought at each hub between start and end (the hubs' local dates, both included),
    net of reversals, per week or month; one query."""
    if grain not in GRAINS:
        raise ValueError(f"grain must be one of {', '.join(GRAINS)}")
    sql = """
        SELECT h.code, h.name, h.country, date_trunc(%(grain)s, i.collected_on)::date,
               COALESCE(SUM(i.phones), 0), COUNT(*) FILTER (WHERE i.reverses_id IS NULL)
        FROM collection_intake i JOIN collection_hub h ON h.id = i.hub_id
        WHERE i.collected_on BETWEEN %(start)s AND %(end)s
        GROUP BY 1, 2, 3, 4
    """
    with connection.cursor() as cursor:
        cursor.execute(sql, {"grain": grain, "start": start, "end": end})
        rows = cursor.fetchall()
    result = Throughput(start, end, grain, buckets_between(start, end, grain))
    index = {bucket: i for i, bucket in enumerate(result.buckets)}
    hubs: dict[str, HubThroughput] = {}
    per_country: dict[str, list[int]] = defaultdict(lambda: [0] * len(result.buckets))
    for code, name, country, bucket, phones, intakes in rows:
        hub = hubs.setdefault(code, HubThroughput(code, name, country))
        hub.phones += int(phones)
        hub.intakes += int(intakes)
        per_country[country][index[bucket]] += int(phones)
    result.hubs = sorted(hubs.values(), key=lambda h: (-h.phones, h.code))
    result.per_country = dict(sorted(per_country.items()))
    return result


def intakes(*, start: dt.date, end: dt.date, hub: str = "", country: str = "") -> QuerySet[Intake]:
    """The intake records behind a throughput figure, newest first."""
    rows = Intake.objects.filter(collected_on__range=(start, end))
    if hub:
        rows = rows.filter(hub__code=hub)
    if country:
        rows = rows.filter(hub__country=country.upper())
    return rows.select_related("hub", "collector").order_by("-collected_on", "-collected_at", "-id")


# --- compliance --------------------------------------------------------------------------------


@dataclass(frozen=True)
class DeadlineCount:
    kind: str
    label: str
    overdue: int
    due: int


@dataclass(frozen=True)
class InTransit:
    reference: str
    state: str
    state_label: str
    origin: str
    phones: int | None
    dispatched_on: dt.date | None
    days: int | None


@dataclass
class Compliance:
    overdue: int = 0
    due: int = 0
    deadlines: list[DeadlineCount] = field(default_factory=list)
    in_transit: list[InTransit] = field(default_factory=list)
    in_transit_count: int = 0
    open_flags: list[tuple[str, str, int]] = field(default_factory=list)  # kind, label, count

    @property
    def open_flag_count(self) -> int:
        return sum(n for _, _, n in self.open_flags)


def compliance(operator: Organisation, today: dt.date) -> Compliance:
    result = Compliance()
    per_kind: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])
    for deadline in deadlines_for(operator, today=today, include_met=False):
        if deadline.status == DeadlineStatus.OVERDUE:
            result.overdue += 1
            per_kind[(deadline.kind, deadline.kind_label)][0] += 1
        elif deadline.status == DeadlineStatus.DUE:
            result.due += 1
            per_kind[(deadline.kind, deadline.kind_label)][1] += 1
    result.deadlines = [
        DeadlineCount(kind, label, overdue, due)
        for (kind, label), (overdue, due) in sorted(per_kind.items(), key=lambda kv: kv[0][1])
    ]
    moving = Consignment.objects.filter(
        state__in=[ConsignmentState.DISPATCHED, ConsignmentState.IN_TRANSIT]
    )
    result.in_transit_count = moving.count()
    states = dict(ConsignmentState.choices)
    for consignment in (
        moving.select_related("origin_hub")
        .annotate(
            dispatched_at=Min(
                "signatures__signed_at", filter=Q(signatures__step=CustodyStep.DISPATCH)
            )
        )
        .order_by("dispatched_at", "reference")[:IN_TRANSIT_ROWS]
    ):
        dispatched_at = consignment.dispatched_at
        dispatched_on = dispatched_at.date() if dispatched_at else None
        result.in_transit.append(
            InTransit(
                consignment.reference,
                consignment.state,
                str(states[consignment.state]),
                consignment.origin_hub.name,
                consignment.phones_dispatched,
                dispatched_on,
                (today - dispatched_on).days if dispatched_on else None,
            )
        )
    kinds = dict(Flag._meta.get_field("kind").choices or [])
    result.open_flags = [
        (row["kind"], str(kinds.get(row["kind"], row["kind"])), row["n"])
        for row in Flag.objects.filter(resolved_at__isnull=True)
        .values("kind")
        .annotate(n=Count("id"))
        .order_by("-n", "kind")
    ]
    return result


# --- income against living wages ---------------------------------------------------------------


def living_wages() -> impact.LivingWages:
    """Income paid into the collection network per country, area and year, against the dated,
    sourced benchmark of that place (or none)."""
    return impact.living_wages()


def payments(*, country: str, area: str, year: int) -> QuerySet[Payment]:
    """The ledger rows behind a living-wage line: payments at the country's hubs of that area
    whose income belongs to that year (a fee's period, a payment's date, a reversal's original
    payment date)."""
    in_year = (
        Q(period__year=year)
        | Q(period__isnull=True, reverses__isnull=True, paid_at__year=year)
        | Q(period__isnull=True, reverses__paid_at__year=year)
    )
    return (
        Payment.objects.filter(in_year, hub__country=country.upper(), hub__area=area)
        .select_related("hub", "collector", "payee_organisation", "intake")
        .order_by("-paid_at", "-id")
    )
