"""The dashboard figures, computed from records: registry totals, pipeline, weight, living wages.

Every figure here is a query over the records behind it; nothing is stored twice. Weights come from
the recycler's measured reception weights; living-wage months from income paid to collectors
divided by a dated, sourced benchmark (or reported as missing).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db import connection

from oneforone.accounts.models import Organisation
from oneforone.collection import money_queries
from oneforone.collection.models import LivingWageBenchmark
from oneforone.core.money import quantize
from oneforone.partners.models import Programme
from oneforone.registry import supply

# Units allocated per registration, joined as `a` onto registrations `r`.
_ALLOCATED_PER_REGISTRATION = """
    LEFT JOIN (SELECT registration_id, SUM(quantity) AS units FROM registry_allocation
               WHERE revoked_at IS NULL GROUP BY registration_id) a ON a.registration_id = r.id
"""


@dataclass(frozen=True)
class RegistryTotals:
    registrations: int
    devices_registered: int
    units_owed: int
    units_allocated: int
    devices_compensated: int

    @property
    def devices_owed(self) -> int:
        return self.devices_registered - self.devices_compensated

    @property
    def units_backlog(self) -> int:
        return self.units_owed - self.units_allocated


# Registrations `r` of the scope: a partner, one of its programmes, or the whole service; a
# cancelled registration neither owes nor counts.
_IN_SCOPE = """
    r.cancelled_at IS NULL
    AND (%(partner)s::bigint IS NULL OR r.partner_id = %(partner)s)
    AND (%(programme)s::bigint IS NULL OR r.programme_id = %(programme)s)
"""


def _scope(partner: Organisation | None, programme: Programme | None) -> dict[str, Any]:
    if programme is not None and partner is not None and programme.partner_id != partner.pk:
        raise ValueError("the programme belongs to another partner")
    return {
        "partner": partner.pk if partner else None,
        "programme": programme.pk if programme else None,
    }


def registry_totals(
    partner: Organisation | None = None, programme: Programme | None = None
) -> RegistryTotals:
    """Devices count once: a device held, declined or withdrawn as a double claim is not owed."""
    sql = f"""
        SELECT COUNT(*), COALESCE(SUM(r.quantity - r.devices_excluded), 0), COALESCE(SUM(r.units_owed), 0),
               COALESCE(SUM(a.units), 0), COALESCE(SUM(COALESCE(a.units, 0) / r.units_per_device), 0)
        FROM partners_registration r
        {_ALLOCATED_PER_REGISTRATION}
        WHERE {_IN_SCOPE}
    """
    row = _one(sql, _scope(partner, programme))
    return RegistryTotals(*(int(v) for v in row))


@dataclass(frozen=True)
class Pipeline:
    at_hubs: int
    in_transit: int
    received: int
    treated: int
    units_available: int
    units_reserved: int
    units_cancelled: int


def pipeline() -> Pipeline:
    """Phones of the whole service by stage (shared supply: every partner sees the same)."""
    sql = """
        SELECT
          (SELECT COALESCE(SUM(i.phones), 0) FROM collection_intake i
             LEFT JOIN collection_lot l ON l.id = i.lot_id
             LEFT JOIN shipments_consignment c ON c.id = l.consignment_id
             WHERE c.id IS NULL OR c.state = 'draft'),
          (SELECT COALESCE(SUM(phones_dispatched), 0) FROM shipments_consignment
             WHERE state IN ('dispatched', 'in_transit')),
          (SELECT COALESCE(SUM(r.counted_phones - r.refused_phones), 0) FROM recycling_reception r
             JOIN shipments_consignment c ON c.id = r.consignment_id WHERE c.state = 'received'),
          (SELECT COALESCE(SUM(quantity), 0) FROM registry_issuancebatch),
          (SELECT COALESCE(SUM(quantity), 0) FROM registry_cancellation)
    """
    at_hubs, in_transit, received, treated, cancelled = (int(v) for v in _one(sql, {}))
    # Free and reserved units as the allocator itself sees them: one definition of "available".
    available = sum(s.size for s in supply.free_stretches())
    reserved = sum(s.size for stretches in supply.reserved_stretches().values() for s in stretches)
    return Pipeline(at_hubs, in_transit, received, treated, available, reserved, cancelled)


def weight_diverted_kg(
    partner: Organisation | None = None, programme: Programme | None = None
) -> Decimal:
    """Measured net weight: a partner's share is its units times its batches' kg per counted phone."""
    if partner is None and programme is None:
        sql = """
            SELECT COALESCE(SUM(b.net_weight_kg * (b.quantity - COALESCE(c.units, 0)) / b.quantity), 0)
            FROM registry_issuancebatch b
            LEFT JOIN (SELECT batch_id, SUM(quantity) AS units FROM registry_cancellation
                       GROUP BY batch_id) c ON c.batch_id = b.id
        """
        params: dict[str, Any] = {}
    else:
        sql = f"""
            SELECT COALESCE(SUM(a.quantity * b.net_weight_kg / b.quantity), 0)
            FROM registry_allocation a
            JOIN registry_issuancebatch b ON b.id = a.batch_id
            JOIN partners_registration r ON r.id = a.registration_id
            WHERE {_IN_SCOPE} AND a.revoked_at IS NULL
        """
        params = _scope(partner, programme)
    return Decimal(_one(sql, params)[0]).quantize(Decimal("0.1"))


@dataclass
class LivingWages:
    months: Decimal = Decimal(0)
    lines: list[LivingWageLine] = field(default_factory=list)

    @property
    def missing_benchmarks(self) -> list[LivingWageLine]:
        return [line for line in self.lines if line.benchmark is None]


@dataclass(frozen=True)
class LivingWageLine:
    country: str
    area: str
    year: int
    currency: str
    income: Decimal
    benchmark: LivingWageBenchmark | None

    @property
    def months(self) -> Decimal | None:
        if self.benchmark is None or self.benchmark.currency != self.currency:
            return None
        return (self.income / self.benchmark.monthly_amount).quantize(Decimal("0.01"))


def living_wages(
    partner: Organisation | None = None, programme: Programme | None = None
) -> LivingWages:
    """Living-wage months: income paid into the collection network / the monthly benchmark.

    The service's figure comes from the payment ledger: what collectors were paid for phones and
    what collection partners were paid in handling fees, net of reversals, per country, area and
    year (see `money_queries`). A partner's figure counts the income behind its allocated units:
    each unit carries its batch's income divided by its phones.
    """
    if partner is None and programme is None:
        rows = _ledger_income_per_year()
    else:
        sql = f"""
            SELECT inc.country, inc.area, inc.year, inc.currency,
                   SUM(inc.amount * a.quantity / b.quantity)
            FROM registry_allocation a
            JOIN partners_registration r ON r.id = a.registration_id
            JOIN registry_issuancebatch b ON b.id = a.batch_id
            JOIN registry_batchincome inc ON inc.batch_id = b.id AND a.revoked_at IS NULL
            WHERE {_IN_SCOPE}
            GROUP BY 1, 2, 3, 4
        """
        with connection.cursor() as cursor:
            cursor.execute(sql, _scope(partner, programme))
            rows = cursor.fetchall()
    benchmarks = money_queries.Benchmarks()
    result = LivingWages()
    for country, area, year, currency, income in sorted(rows):
        line = LivingWageLine(
            country,
            area,
            year,
            currency,
            quantize(Decimal(income), currency),
            benchmarks.for_year(country, area, year),
        )
        result.lines.append(line)
        result.months += line.months or 0
    return result


def _ledger_income_per_year() -> list[tuple[str, str, int, str, Decimal]]:
    totals: dict[tuple[str, str, int, str], Decimal] = defaultdict(Decimal)
    for month in money_queries.income_months():
        totals[(month.country, month.area, month.month.year, month.currency)] += month.income
    return [(*key, income) for key, income in totals.items() if income]


def by_category(
    partner: Organisation | None = None, programme: Programme | None = None
) -> list[tuple[str, int, int]]:
    """(category, devices registered, devices compensated) per device category."""
    sql = f"""
        SELECT c.name, SUM(r.quantity - r.devices_excluded), SUM(COALESCE(a.units, 0) / r.units_per_device)
        FROM partners_registration r
        JOIN partners_devicecategory c ON c.id = r.category_id
        {_ALLOCATED_PER_REGISTRATION}
        WHERE {_IN_SCOPE}
        GROUP BY c.name ORDER BY 2 DESC
    """
    with connection.cursor() as cursor:
        cursor.execute(sql, _scope(partner, programme))
        return [(name, int(reg), int(comp)) for name, reg, comp in cursor.fetchall()]


def origins(
    partner: Organisation | None = None, programme: Programme | None = None
) -> list[tuple[str, int]]:
    """Units allocated (or issued, for the whole service) by the country their phones came from."""
    if partner is None and programme is None:
        sql = """SELECT origin_country, SUM(quantity) FROM registry_issuancebatch
                 GROUP BY 1 ORDER BY 2 DESC"""
    else:
        sql = f"""
            SELECT b.origin_country, SUM(a.quantity) FROM registry_allocation a
            JOIN registry_issuancebatch b ON b.id = a.batch_id
            JOIN partners_registration r ON r.id = a.registration_id
            WHERE {_IN_SCOPE} AND a.revoked_at IS NULL GROUP BY 1 ORDER BY 2 DESC
        """
    with connection.cursor() as cursor:
        cursor.execute(sql, _scope(partner, programme))
        return [(c, int(n)) for c, n in cursor.fetchall()]


def _one(sql: str, params: dict[str, Any]) -> tuple[Any, ...]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    assert row is not None
    return tuple(row)
