"""Reads of the registry for operator and partner pages: backlog, quotas, cancellation previews.

Reads only, never locked: a preview can be stale by the time its action runs, and the action
decides (it refuses or adapts). Each read is one or two SQL queries whatever the number of
partners, batches or registrations.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.db import connection, models
from django.db.backends.postgresql.psycopg_any import NumericRange
from django.db.models import Q, QuerySet
from django.utils import timezone

from oneforone.accounts.models import Organisation
from oneforone.registry import serials, supply
from oneforone.registry.models import (
    Allocation,
    Certificate,
    IssuanceBatch,
    Reservation,
)

# --- backlog -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Quota:
    """A partner's active reservations under one label: what is set aside and what is left."""

    partner_id: int
    partner_name: str
    label: str
    blocks: int
    units_reserved: int
    units_allocated: int
    reserved_since: dt.datetime

    @property
    def units_remaining(self) -> int:
        return self.units_reserved - self.units_allocated

    @property
    def key(self) -> str:
        return f"{self.partner_id}:{self.label}"


@dataclass(frozen=True)
class PartnerBacklog:
    """What one partner (or, with no partner, the whole service) is owed and has received."""

    partner_id: int | None
    name: str
    slug: str
    registrations: int
    devices_registered: int
    devices_compensated: int
    units_owed: int
    units_allocated: int
    registrations_waiting: int
    oldest_waiting: dt.datetime | None
    as_of: dt.datetime
    quotas: tuple[Quota, ...] = ()

    @property
    def devices_owed(self) -> int:
        return self.devices_registered - self.devices_compensated

    @property
    def units_waiting(self) -> int:
        return self.units_owed - self.units_allocated

    @property
    def units_reserved(self) -> int:
        """Reserved for this partner and not allocated yet."""
        return sum(q.units_remaining for q in self.quotas)

    @property
    def oldest_waiting_days(self) -> int | None:
        if self.oldest_waiting is None:
            return None
        return max(0, (self.as_of - self.oldest_waiting).days)


@dataclass(frozen=True)
class Backlog:
    partners: list[PartnerBacklog]
    total: PartnerBacklog

    def for_partner(self, partner: Organisation) -> PartnerBacklog | None:
        return next((p for p in self.partners if p.partner_id == partner.pk), None)


_BACKLOG_SQL = """
    WITH allocated AS (
        SELECT a.registration_id, SUM(a.quantity) AS units
        FROM registry_allocation a
        JOIN partners_registration r ON r.id = a.registration_id
        WHERE a.revoked_at IS NULL
          AND (%(partner)s::bigint IS NULL OR r.partner_id = %(partner)s)
        GROUP BY a.registration_id
    )
    SELECT o.id, o.name, o.slug,
           COUNT(r.id),
           COALESCE(SUM(r.quantity - r.devices_excluded), 0),
           COALESCE(SUM(COALESCE(a.units, 0) / r.units_per_device), 0),
           COALESCE(SUM(r.units_owed), 0),
           COALESCE(SUM(a.units), 0),
           COUNT(r.id) FILTER (WHERE r.units_owed > COALESCE(a.units, 0)),
           MIN(r.created_at) FILTER (WHERE r.units_owed > COALESCE(a.units, 0))
    FROM accounts_organisation o
    LEFT JOIN partners_registration r ON r.partner_id = o.id
    LEFT JOIN allocated a ON a.registration_id = r.id
    WHERE o.kind = 'partner' AND (%(partner)s::bigint IS NULL OR o.id = %(partner)s)
    GROUP BY o.id
    ORDER BY o.name
"""

# Active allocations inside an active reserved block were drawn from it: active blocks never
# overlap, and allocation from free supply never takes reserved units.
_QUOTAS_SQL = """
    SELECT s.partner_id, o.name, s.label, COUNT(*), SUM(s.quantity),
           COALESCE(SUM(drawn.units), 0), MIN(s.reserved_at)
    FROM registry_reservation s
    JOIN accounts_organisation o ON o.id = s.partner_id
    CROSS JOIN LATERAL (
        SELECT COALESCE(SUM(a.quantity), 0) AS units FROM registry_allocation a
        WHERE a.revoked_at IS NULL AND a.units <@ s.units
    ) drawn
    WHERE s.released_at IS NULL AND (%(partner)s::bigint IS NULL OR s.partner_id = %(partner)s)
    GROUP BY s.partner_id, o.name, s.label
    ORDER BY o.name, MIN(s.reserved_at), s.label
"""


def quotas(partner: Organisation | None = None) -> list[Quota]:
    """Active reservations per partner and label, oldest first: one query."""
    return [
        Quota(pid, name, label, int(blocks), int(reserved), int(allocated), since)
        for pid, name, label, blocks, reserved, allocated, since in _rows(
            _QUOTAS_SQL, {"partner": partner.pk if partner else None}
        )
    ]


def backlog(partner: Organisation | None = None) -> Backlog:
    """Units owed minus units allocated (active allocations) per partner and in total, with the
    partners' unallocated reservations and the oldest registration still waiting. Two queries."""
    as_of = timezone.now()
    params = {"partner": partner.pk if partner else None}
    by_partner: dict[int, list[Quota]] = defaultdict(list)
    all_quotas = quotas(partner)
    for quota in all_quotas:
        by_partner[quota.partner_id].append(quota)
    rows = [
        PartnerBacklog(
            partner_id=pid,
            name=name,
            slug=slug,
            registrations=int(registrations),
            devices_registered=int(devices),
            devices_compensated=int(compensated),
            units_owed=int(owed),
            units_allocated=int(allocated),
            registrations_waiting=int(waiting),
            oldest_waiting=oldest,
            as_of=as_of,
            quotas=tuple(by_partner.get(pid, ())),
        )
        for pid, name, slug, registrations, devices, compensated, owed, allocated, waiting, oldest in _rows(
            _BACKLOG_SQL, params
        )
    ]
    oldest = [r.oldest_waiting for r in rows if r.oldest_waiting is not None]
    total = PartnerBacklog(
        partner_id=None,
        name="All partners",
        slug="",
        registrations=sum(r.registrations for r in rows),
        devices_registered=sum(r.devices_registered for r in rows),
        devices_compensated=sum(r.devices_compensated for r in rows),
        units_owed=sum(r.units_owed for r in rows),
        units_allocated=sum(r.units_allocated for r in rows),
        registrations_waiting=sum(r.registrations_waiting for r in rows),
        oldest_waiting=min(oldest) if oldest else None,
        as_of=as_of,
        quotas=tuple(all_quotas),
    )
    return Backlog(rows, total)


# --- free supply -------------------------------------------------------------------------------


@dataclass(frozen=True)
class FreeSupply:
    country: str
    vintage: int
    units: int


def free_supply() -> list[FreeSupply]:
    """Units neither allocated, reserved nor cancelled, by origin country and vintage year, as
    the allocator sees them."""
    totals: dict[tuple[str, int], int] = defaultdict(int)
    for stretch in supply.free_stretches():
        totals[stretch.country, stretch.vintage] += stretch.size
    return [FreeSupply(c, v, n) for (c, v), n in sorted(totals.items())]


def issued_origins() -> tuple[list[str], list[int]]:
    """The origin countries and vintage years of the batches issued so far."""
    pairs = IssuanceBatch.objects.values_list("origin_country", "vintage_year").distinct()
    countries, years = set(), set()
    for country, year in pairs:
        countries.add(country)
        years.add(year)
    return sorted(countries), sorted(years)


# --- batches and cancellations -----------------------------------------------------------------


def search_batches(query: str) -> QuerySet[IssuanceBatch]:
    """Batches by a serial or block inside them, a consignment reference, or a batch number."""
    batches = IssuanceBatch.objects.select_related("consignment").order_by("-issued_at", "-id")
    query = query.strip()
    if not query:
        return batches
    condition = Q(consignment__reference__icontains=query)
    if query.isdigit():
        condition |= Q(pk=int(query)) | Q(units__contains=int(query))
    try:
        block = serials.parse(query)
    except serials.SerialError:
        pass
    else:
        condition |= Q(
            origin_country=block.country,
            vintage_year=block.year,
            units__overlap=NumericRange(block.first, block.last + 1),
        )
    return batches.filter(condition)


@dataclass(frozen=True)
class AffectedAllocation:
    allocation: Allocation
    units_cancelled: int
    certificate: Certificate | None


@dataclass(frozen=True)
class AffectedQuota:
    reservation: Reservation
    units_cancelled: int
    units_allocated_in_cut: int


@dataclass
class CancellationPreview:
    """What cancelling units [first, last] of a batch would touch, read without locks."""

    batch: IssuanceBatch
    first: int
    last: int
    allocations: list[AffectedAllocation] = field(default_factory=list)
    reservations: list[AffectedQuota] = field(default_factory=list)

    @property
    def units(self) -> int:
        return self.last - self.first + 1

    @property
    def block(self) -> str:
        return self.batch.block_of(self.first, self.last + 1)

    @property
    def units_allocated(self) -> int:
        return sum(a.units_cancelled for a in self.allocations)

    @property
    def units_reserved(self) -> int:
        """Cancelled units that are reserved and not allocated."""
        return sum(r.units_cancelled - r.units_allocated_in_cut for r in self.reservations)

    @property
    def units_free(self) -> int:
        return self.units - self.units_allocated - self.units_reserved

    @property
    def registrations(self) -> int:
        return len({a.allocation.registration_id for a in self.allocations})

    @property
    def certificates(self) -> list[Certificate]:
        seen: dict[int, Certificate] = {}
        for a in self.allocations:
            if a.certificate is not None:
                seen[a.certificate.pk] = a.certificate
        return list(seen.values())


def cancellation_preview(batch: IssuanceBatch, first: int, last: int) -> CancellationPreview:
    """The allocations, reservations and certificates a cancellation of [first, last] touches."""
    cut = NumericRange(first, last + 1)
    preview = CancellationPreview(batch, first, last)
    allocations = list(
        Allocation.objects.filter(batch=batch, units__overlap=cut)
        .select_related("registration__partner", "batch")
        .order_by("units")
    )
    current = {
        c.registration_id: c
        for c in Certificate.objects.filter(
            registration_id__in={a.registration_id for a in allocations},
            withdrawal__isnull=True,
        )
    }
    preview.allocations = [
        AffectedAllocation(a, _overlap(a.units, first, last), current.get(a.registration_id))
        for a in allocations
    ]
    blocks = list(
        Reservation.objects.filter(batch=batch, released_at__isnull=True, units__overlap=cut)
        .select_related("partner", "batch")
        .order_by("units")
    )
    preview.reservations = [
        AffectedQuota(
            r,
            _overlap(r.units, first, last),
            sum(
                a.units_cancelled
                for a in preview.allocations
                if r.units.lower <= a.allocation.units.lower
                and a.allocation.units.upper <= r.units.upper
            ),
        )
        for r in blocks
    ]
    return preview


def _overlap(units: NumericRange, first: int, last: int) -> int:
    return max(0, min(units.upper, last + 1) - max(units.lower, first))


def _rows(sql: str, params: dict[str, Any]) -> list[tuple[Any, ...]]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


# --- the partner portal: the units of one registration ----------------------------------------


def units_of_registration(registration_id: int) -> list[Allocation]:
    """A registration's active allocations in unit-number order, with where their units come
    from (batch, consignment, recycler, treatment)."""
    return list(
        Allocation.objects.filter(registration_id=registration_id)
        .select_related("batch__consignment__recycler", "batch__treatment")
        .order_by("units")
    )


@dataclass(frozen=True)
class DeviceUnit:
    serial: str
    batch: IssuanceBatch


def units_of_devices(
    registration: Any, devices: list[Any], allocations: list[Allocation]
) -> dict[int, tuple[DeviceUnit, ...]]:
    """The units compensating each claimed device of a page, by position, in two queries.

    The rule is registry/devices.py's `units_of`: the n-th claimed device (in listing order) holds
    the n-th stretch of `units_per_device` units of the active allocations in unit-number order;
    a device whose stretch is not (fully) allocated yet has none. `devices` is a page of the
    registration's devices in position order, so the claimed ones before the page are counted
    once and the page is walked in order."""
    from oneforone.partners.models import Device, DeviceStatus

    if not devices or not allocations:
        return {}
    index = Device.objects.filter(
        registration_id=registration.pk,
        status=DeviceStatus.CLAIMED,
        position__lt=devices[0].position,
    ).count()
    per_device = registration.units_per_device
    found: dict[int, tuple[DeviceUnit, ...]] = {}
    for device in devices:
        if device.status != DeviceStatus.CLAIMED:
            continue
        units = _units_at(allocations, range(index * per_device, (index + 1) * per_device))
        if len(units) == per_device:
            found[device.position] = units
        index += 1
    return found


def _units_at(allocations: list[Allocation], wanted: range) -> tuple[DeviceUnit, ...]:
    units = []
    offset = 0
    for allocation in allocations:
        size = allocation.units.upper - allocation.units.lower
        batch = allocation.batch
        for n in wanted:
            if offset <= n < offset + size:
                number = allocation.units.lower + (n - offset)
                units.append(
                    DeviceUnit(
                        serials.format_serial(batch.origin_country, batch.vintage_year, number),
                        batch,
                    )
                )
        offset += size
        if offset >= wanted.stop:
            break
    return tuple(units)


# The partner portal's certificates ------------------------------------------------------------


class CertificateState(models.TextChoices):
    CURRENT = "current", "current"
    SUPERSEDED = "superseded", "superseded"
    WITHDRAWN = "withdrawn", "withdrawn"


def certificates_of(partner: Organisation, text: str = "") -> QuerySet[Certificate]:
    """A partner's certificates, every version, newest first; `text` matches code or reference."""
    queryset = Certificate.objects.filter(registration__partner=partner).select_related(
        "registration", "withdrawal", "superseded_by"
    )
    text = text.strip()
    if text:
        queryset = queryset.filter(
            Q(code__icontains=text) | Q(registration__reference__icontains=text)
        )
    return queryset.order_by("-issued_at", "-id")


def certificate_state(certificate: Certificate) -> str:
    """Superseded once a later version exists; withdrawn while none does yet; else current."""
    if hasattr(certificate, "superseded_by"):
        return CertificateState.SUPERSEDED
    if hasattr(certificate, "withdrawal"):
        return CertificateState.WITHDRAWN
    return CertificateState.CURRENT
