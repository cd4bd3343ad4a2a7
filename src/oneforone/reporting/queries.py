"""What a partner's dashboard, exports and impact report read, scoped to one partner (and
optionally one of its programmes) and to a period of whole months.

A period selects records by when they happened: registrations by when they were made,
compensation (allocations, and the weight and income they carry) by when units were allocated,
the origin chart by when its units were issued. Every figure is a query over the records behind
it; the all-time figures equal `impact.queries`' ones (tested).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import connection
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from oneforone.accounts.models import Organisation
from oneforone.core.money import quantize
from oneforone.impact import queries as impact_queries
from oneforone.impact.queries import LivingWages
from oneforone.partners.models import Programme, Registration
from oneforone.partners.queries import registrations_of
from oneforone.registry.models import Allocation, Certificate
from oneforone.registry.queries import certificates_of

PRESETS = {
    "12m": _("Last 12 months"),
    "year": _("This year"),
    "last-year": _("Last year"),
    "all": _("Since the first registration"),
    "custom": _("Chosen months"),
}


def month_start(day: dt.date) -> dt.date:
    return day.replace(day=1)


def add_months(month: dt.date, n: int) -> dt.date:
    index = month.year * 12 + month.month - 1 + n
    return dt.date(index // 12, index % 12 + 1, 1)


@dataclass(frozen=True)
class Scope:
    """One partner's records, optionally one programme, in the months first..last (inclusive)."""

    partner: Organisation
    programme: Programme | None
    first: dt.date
    last: dt.date
    preset: str = "custom"

    def __post_init__(self) -> None:
        if self.programme is not None and self.programme.partner_id != self.partner.pk:
            raise ValueError("the programme belongs to another partner")
        if self.first > self.last:
            raise ValueError("the period starts after it ends")

    @property
    def months(self) -> list[dt.date]:
        count = (self.last.year - self.first.year) * 12 + self.last.month - self.first.month + 1
        return [add_months(self.first, i) for i in range(count)]

    @property
    def start(self) -> dt.datetime:
        """The first moment of the period, in the service's time zone."""
        return timezone.make_aware(dt.datetime.combine(self.first, dt.time()))

    @property
    def until(self) -> dt.datetime:
        """The first moment after the period."""
        return timezone.make_aware(dt.datetime.combine(add_months(self.last, 1), dt.time()))

    @property
    def label(self) -> str:
        """The period in the active language, e.g. "January 2026 to April 2026"."""
        first, last = date_format(self.first, "F Y"), date_format(self.last, "F Y")
        if self.first == self.last:
            return first
        return gettext("%(first)s to %(last)s") % {"first": first, "last": last}

    def params(self) -> dict[str, Any]:
        return {
            "partner": self.partner.pk,
            "programme": self.programme.pk if self.programme else None,
            "start": self.start,
            "until": self.until,
            "tz": timezone.get_current_timezone_name(),
        }


def first_registration_month(partner: Organisation) -> dt.date | None:
    first = (
        Registration.objects.filter(partner=partner, cancelled_at__isnull=True)
        .order_by("created_at")
        .values_list("created_at", flat=True)
        .first()
    )
    return month_start(timezone.localtime(first).date()) if first else None


# Registrations `r` of the scope; a cancelled registration neither owes nor counts.
_IN_SCOPE = """
    r.cancelled_at IS NULL AND r.partner_id = %(partner)s
    AND (%(programme)s::bigint IS NULL OR r.programme_id = %(programme)s)
"""


@dataclass(frozen=True)
class Month:
    month: dt.date
    registered: int
    compensated: int
    registered_to_date: int
    compensated_to_date: int

    @property
    def owed(self) -> int:
        """Devices registered and not yet compensated at the end of the month."""
        return self.registered_to_date - self.compensated_to_date


MonthRows = list[tuple[int, dt.date, int, int]]


def month_rows(scope: Scope) -> MonthRows:
    """(programme, month, devices registered, devices compensated) since the first registration.
    A device counts as compensated in the month its registration's allocated units first cover
    it."""
    sql = f"""
        WITH regs AS (
            SELECT r.id, r.programme_id, r.units_per_device,
                   r.quantity - r.devices_excluded AS devices,
                   date_trunc('month', r.created_at AT TIME ZONE %(tz)s)::date AS month
            FROM partners_registration r WHERE {_IN_SCOPE}
        ),
        alloc AS (
            SELECT a.registration_id, regs.programme_id, regs.units_per_device,
                   date_trunc('month', a.allocated_at AT TIME ZONE %(tz)s)::date AS month,
                   SUM(a.quantity) AS units
            FROM registry_allocation a JOIN regs ON regs.id = a.registration_id
            WHERE a.revoked_at IS NULL GROUP BY 1, 2, 3, 4
        ),
        covered AS (
            SELECT programme_id, month,
                   floor(SUM(units) OVER w / units_per_device)
                   - floor((SUM(units) OVER w - units) / units_per_device) AS devices
            FROM alloc
            WINDOW w AS (PARTITION BY registration_id ORDER BY month)
        )
        SELECT programme_id, month, SUM(registered), SUM(compensated) FROM (
            SELECT programme_id, month, devices AS registered, 0 AS compensated FROM regs
            UNION ALL SELECT programme_id, month, 0, devices FROM covered
        ) m GROUP BY 1, 2 ORDER BY 2
    """
    with connection.cursor() as cursor:
        cursor.execute(sql, scope.params())
        return [(p, month, int(reg), int(comp)) for p, month, reg, comp in cursor.fetchall()]


def monthly(scope: Scope, rows: MonthRows | None = None) -> list[Month]:
    """Devices registered and compensated per month of the period, with the running totals since
    the first registration (so the owed line starts where the backlog stood)."""
    rows = month_rows(scope) if rows is None else rows
    per_month: dict[dt.date, tuple[int, int]] = {}
    for _programme, month, reg, comp in rows:
        before = per_month.get(month, (0, 0))
        per_month[month] = (before[0] + reg, before[1] + comp)
    registered = sum(reg for month, (reg, _) in per_month.items() if month < scope.first)
    compensated = sum(comp for month, (_, comp) in per_month.items() if month < scope.first)
    result = []
    for month in scope.months:
        reg, comp = per_month.get(month, (0, 0))
        registered += reg
        compensated += comp
        result.append(Month(month, reg, comp, registered, compensated))
    return result


@dataclass(frozen=True)
class ProgrammeRow:
    programme: Programme
    registered: int
    compensated: int
    owed: int


def by_programme(scope: Scope, rows: MonthRows, programmes: list[Programme]) -> list[ProgrammeRow]:
    """Per programme of the partner: devices registered and compensated in the period, and owed
    at its end (the same rows as the monthly figures, so they add up to them)."""
    result = []
    for programme in programmes:
        if scope.programme is not None and programme != scope.programme:
            continue
        mine = [r for r in rows if r[0] == programme.pk and r[1] <= scope.last]
        in_period = [r for r in mine if r[1] >= scope.first]
        result.append(
            ProgrammeRow(
                programme,
                sum(r[2] for r in in_period),
                sum(r[3] for r in in_period),
                sum(r[2] - r[3] for r in mine),
            )
        )
    return result


def origins_by_month(scope: Scope) -> dict[dt.date, dict[str, int]]:
    """Units allocated to the scope's registrations, by month their batch was issued (within the
    period) and the country the phones came from."""
    sql = f"""
        SELECT date_trunc('month', b.issued_at AT TIME ZONE %(tz)s)::date, b.origin_country,
               SUM(a.quantity)
        FROM registry_allocation a
        JOIN registry_issuancebatch b ON b.id = a.batch_id
        JOIN partners_registration r ON r.id = a.registration_id
        WHERE {_IN_SCOPE} AND a.revoked_at IS NULL
          AND b.issued_at >= %(start)s AND b.issued_at < %(until)s
        GROUP BY 1, 2
    """
    result: dict[dt.date, dict[str, int]] = defaultdict(dict)
    with connection.cursor() as cursor:
        cursor.execute(sql, scope.params())
        for month, country, units in cursor.fetchall():
            result[month][country] = int(units)
    return dict(result)


@dataclass(frozen=True)
class Impact:
    """The scope's figures for the period, each with where it comes from."""

    devices_registered: int
    devices_compensated: int
    devices_owed: int
    units_allocated: int
    weight_kg: Decimal
    living_wages: LivingWages


def impact(scope: Scope, months: list[Month] | None = None) -> Impact:
    months = monthly(scope) if months is None else months
    sql = f"""
        SELECT COALESCE(SUM(a.quantity), 0),
               COALESCE(SUM(a.quantity * b.net_weight_kg / b.quantity), 0)
        FROM registry_allocation a
        JOIN registry_issuancebatch b ON b.id = a.batch_id
        JOIN partners_registration r ON r.id = a.registration_id
        WHERE {_IN_SCOPE} AND a.revoked_at IS NULL
          AND a.allocated_at >= %(start)s AND a.allocated_at < %(until)s
    """
    with connection.cursor() as cursor:
        cursor.execute(sql, scope.params())
        row = cursor.fetchone()
    assert row is not None
    return Impact(
        devices_registered=sum(m.registered for m in months),
        devices_compensated=sum(m.compensated for m in months),
        devices_owed=months[-1].owed if months else 0,
        units_allocated=int(row[0]),
        weight_kg=Decimal(row[1]).quantize(Decimal("0.1")),
        living_wages=living_wages(scope),
    )


def living_wages(scope: Scope) -> LivingWages:
    """Income behind the units allocated in the period (each unit carries its batch's income
    divided by its phones), per country, area and year, over the dated, sourced benchmark."""
    sql = f"""
        SELECT inc.country, inc.area, inc.year, inc.currency,
               SUM(inc.amount * a.quantity / b.quantity)
        FROM registry_allocation a
        JOIN partners_registration r ON r.id = a.registration_id
        JOIN registry_issuancebatch b ON b.id = a.batch_id
        JOIN registry_batchincome inc ON inc.batch_id = b.id
        WHERE {_IN_SCOPE} AND a.revoked_at IS NULL
          AND a.allocated_at >= %(start)s AND a.allocated_at < %(until)s
        GROUP BY 1, 2, 3, 4
    """
    with connection.cursor() as cursor:
        cursor.execute(sql, scope.params())
        rows = cursor.fetchall()
    return impact_queries.living_wages_of(rows)


@dataclass(frozen=True)
class BatchIncomeShare:
    batch_id: int
    consignment: str
    country: str
    area: str
    year: int
    currency: str
    units: int
    batch_units: int
    batch_income: Decimal
    share: Decimal


def income_by_batch(scope: Scope) -> list[BatchIncomeShare]:
    """The income lines behind the living-wage figure: per batch, what it carried and the share
    that the scope's units allocated in the period take."""
    sql = f"""
        SELECT b.id, c.reference, inc.country, inc.area, inc.year, inc.currency,
               SUM(a.quantity), b.quantity, inc.amount, SUM(inc.amount * a.quantity / b.quantity)
        FROM registry_allocation a
        JOIN partners_registration r ON r.id = a.registration_id
        JOIN registry_issuancebatch b ON b.id = a.batch_id
        JOIN shipments_consignment c ON c.id = b.consignment_id
        JOIN registry_batchincome inc ON inc.batch_id = b.id
        WHERE {_IN_SCOPE} AND a.revoked_at IS NULL
          AND a.allocated_at >= %(start)s AND a.allocated_at < %(until)s
        GROUP BY b.id, c.reference, inc.id ORDER BY b.id, inc.country, inc.area, inc.year
    """
    with connection.cursor() as cursor:
        cursor.execute(sql, scope.params())
        return [
            BatchIncomeShare(
                batch_id,
                reference,
                country,
                area,
                year,
                currency,
                int(units),
                batch_units,
                quantize(Decimal(amount), currency),
                quantize(Decimal(share), currency),
            )
            for batch_id, reference, country, area, year, currency, units, batch_units, amount, share in cursor.fetchall()
        ]


def allocations(scope: Scope) -> QuerySet[Allocation]:
    """The allocations behind the devices and kilograms: each with its registration, its batch,
    and the recycler's reception (counted phones, measured weight) the batch came from."""
    queryset = Allocation.objects.filter(
        registration__partner=scope.partner,
        registration__cancelled_at__isnull=True,
        allocated_at__gte=scope.start,
        allocated_at__lt=scope.until,
    )
    if scope.programme is not None:
        queryset = queryset.filter(registration__programme=scope.programme)
    return queryset.select_related(
        "registration__programme", "batch__consignment__reception"
    ).order_by("allocated_at", "id")


def registrations(scope: Scope) -> QuerySet[Registration]:
    """The scope's registrations made in the period (cancelled ones left out), oldest first."""
    queryset = registrations_of(scope.partner).filter(
        cancelled_at__isnull=True, created_at__gte=scope.start, created_at__lt=scope.until
    )
    if scope.programme is not None:
        queryset = queryset.filter(programme=scope.programme)
    return queryset.prefetch_related(
        "certificates__withdrawal", "certificates__superseded_by"
    ).order_by("created_at", "id")


def certificates(scope: Scope) -> QuerySet[Certificate]:
    """The scope's certificates issued in the period, every version, oldest first."""
    queryset = certificates_of(scope.partner).filter(
        issued_at__gte=scope.start, issued_at__lt=scope.until
    )
    if scope.programme is not None:
        queryset = queryset.filter(registration__programme=scope.programme)
    return queryset.select_related("registration__programme").order_by("issued_at", "id")
