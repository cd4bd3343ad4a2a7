"""Money figures read from the payment ledger: what is due, whether the ledger reconciles, income
per month, living-wage months, collectors at a living wage, earnings bands and income stability.

Income is counted in the month it was earned: a purchase payment in the hub's local month of
payment, a handling fee in the month it is for, and a reversal in the month of the payment it
cancels (so that a correction lowers the month it corrects)."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db import connection
from django.db.models import DecimalField, F, QuerySet, Sum, Value
from django.db.models.functions import Coalesce
from django.utils.translation import gettext_noop

from oneforone.accounts.models import Organisation
from oneforone.collection.models import Hub, Intake, LivingWageBenchmark, PaymentKind
from oneforone.core.money import quantize

STABILITY_MONTHS = 6
# Earnings bands as a share of the monthly living wage: (label, lower bound inclusive).
BANDS: tuple[tuple[str, Decimal], ...] = (
    (gettext_noop("under 25%"), Decimal(0)),
    ("25-50%", Decimal("0.25")),
    ("50-75%", Decimal("0.50")),
    ("75-100%", Decimal("0.75")),
    (gettext_noop("living wage or more"), Decimal(1)),
)
# The labels are the keys of earnings_bands(); the pages translate them when they show them.
NO_BENCHMARK = gettext_noop("no benchmark")

# The month a ledger row's income belongs to (see the module's docstring); `p` is the row, `o`
# the row it reverses (if any), `c` the hub's country.
_INCOME_MONTH = """
    COALESCE(p.period, date_trunc('month',
        COALESCE(o.paid_at, p.paid_at) AT TIME ZONE COALESCE(c.timezone, 'UTC'))::date)
"""
_LEDGER_JOINS = """
    FROM collection_payment p
    LEFT JOIN collection_payment o ON o.id = p.reverses_id
    JOIN collection_hub h ON h.id = p.hub_id
    LEFT JOIN collection_country c ON c.code = h.country
"""


def _rows(sql: str, params: dict[str, Any]) -> list[tuple[Any, ...]]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return list(cursor.fetchall())


def _org_ids(organisations: Iterable[Organisation] | None) -> list[int] | None:
    return None if organisations is None else [o.pk for o in organisations]


# --- living-wage benchmarks ----------------------------------------------------------------------


class Benchmarks:
    """The living-wage benchmarks, loaded once: the one of a year, else the latest earlier one;
    never a later one, and never a guess where a country or area has none."""

    def __init__(self) -> None:
        self._by_place: dict[tuple[str, str], list[LivingWageBenchmark]] = defaultdict(list)
        for benchmark in LivingWageBenchmark.objects.order_by("year"):
            self._by_place[(benchmark.country, benchmark.area)].append(benchmark)

    def for_year(self, country: str, area: str, year: int) -> LivingWageBenchmark | None:
        earlier = [b for b in self._by_place.get((country, area), []) if b.year <= year]
        return earlier[-1] if earlier else None

    def usable(
        self, country: str, area: str, year: int, currency: str
    ) -> LivingWageBenchmark | None:
        """The benchmark, if it is in the currency the income was paid in."""
        benchmark = self.for_year(country, area, year)
        return benchmark if benchmark is not None and benchmark.currency == currency else None


# --- amounts due ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Due:
    collector_id: int
    collector_code: str
    intakes: int
    amount: Decimal
    currency: str
    oldest: dt.date


def unpaid_intakes(hubs: QuerySet[Hub] | Sequence[Hub]) -> QuerySet[Intake]:
    """Intakes still owed something, each with `paid` so far; reversed ones are owed nothing."""
    return (
        Intake.objects.filter(hub__in=hubs, reverses__isnull=True, reversed_by__isnull=True)
        .annotate(
            paid=Coalesce(
                Sum("payments__amount"),
                Value(Decimal(0)),
                output_field=DecimalField(max_digits=18, decimal_places=4),
            )
        )
        .filter(amount_paid__gt=F("paid"))
    )


def due_by_collector(hub: Hub) -> list[Due]:
    """What each collector of a hub is still owed, largest first (one query)."""
    grouped: dict[int, list[Intake]] = defaultdict(list)
    for intake in unpaid_intakes([hub]).select_related("collector").order_by("collected_on"):
        grouped[intake.collector_id].append(intake)
    dues = [
        Due(
            collector_id=collector_id,
            collector_code=intakes[0].collector.code,
            intakes=len(intakes),
            amount=sum((i.amount_paid - i.paid for i in intakes), Decimal(0)),  # type: ignore[attr-defined]
            currency=hub.currency,
            oldest=intakes[0].collected_on,
        )
        for collector_id, intakes in grouped.items()
    ]
    return sorted(dues, key=lambda due: (-due.amount, due.collector_code))


def due_by_hub(hubs: QuerySet[Hub]) -> dict[int, Decimal]:
    """Hub id -> the total its collectors are still owed (one query)."""
    totals: dict[int, Decimal] = defaultdict(Decimal)
    for intake in unpaid_intakes(hubs).only("hub", "amount_paid"):
        totals[intake.hub_id] += intake.amount_paid - intake.paid  # type: ignore[attr-defined]
    return dict(totals)


# --- ledger reconciliation -----------------------------------------------------------------------


@dataclass(frozen=True)
class Reconciliation:
    """One currency's ledger against the intakes it pays for.

    bought - still due + paid for reversed intakes = purchase payments (the intakes' side)
    purchase payments + handling fees = ledger total (the ledger's side)"""

    currency: str
    bought: Decimal
    due: Decimal
    paid_for_reversed: Decimal
    purchases_paid: Decimal
    fees_paid: Decimal
    ledger_total: Decimal

    @property
    def purchases_reconcile(self) -> bool:
        return self.bought - self.due + self.paid_for_reversed == self.purchases_paid

    @property
    def ledger_reconciles(self) -> bool:
        return self.purchases_paid + self.fees_paid == self.ledger_total

    @property
    def balanced(self) -> bool:
        return self.purchases_reconcile and self.ledger_reconciles


def reconciliation(organisations: Iterable[Organisation] | None = None) -> list[Reconciliation]:
    """Totals per currency of the intakes and of the ledger, for the organisations' hubs (or the
    whole network): two queries, one over each table."""
    params = {"orgs": _org_ids(organisations)}
    scope = "(%(orgs)s::bigint[] IS NULL OR h.organisation_id = ANY(%(orgs)s))"
    intake_side = _rows(
        f"""
        WITH paid AS (SELECT intake_id, SUM(amount) AS total FROM collection_payment
                      WHERE intake_id IS NOT NULL GROUP BY intake_id)
        SELECT i.currency, SUM(i.amount_paid),
               SUM(CASE WHEN i.reverses_id IS NULL AND r.id IS NULL
                        THEN GREATEST(i.amount_paid - COALESCE(paid.total, 0), 0) ELSE 0 END),
               SUM(CASE WHEN r.id IS NOT NULL THEN COALESCE(paid.total, 0) ELSE 0 END)
        FROM collection_intake i
        JOIN collection_hub h ON h.id = i.hub_id
        LEFT JOIN paid ON paid.intake_id = i.id
        LEFT JOIN collection_intake r ON r.reverses_id = i.id
        WHERE {scope}
        GROUP BY i.currency
        """,
        params,
    )
    ledger_side = _rows(
        f"""
        SELECT p.currency,
               COALESCE(SUM(p.amount) FILTER (WHERE p.kind = %(purchase)s), 0),
               COALESCE(SUM(p.amount) FILTER (WHERE p.kind <> %(purchase)s), 0),
               SUM(p.amount)
        FROM collection_payment p JOIN collection_hub h ON h.id = p.hub_id
        WHERE {scope}
        GROUP BY p.currency
        """,
        {**params, "purchase": PaymentKind.PURCHASE.value},
    )
    zero = Decimal(0)
    intakes = {row[0]: row[1:] for row in intake_side}
    ledger = {row[0]: row[1:] for row in ledger_side}
    return [
        Reconciliation(
            currency,
            *(intakes.get(currency) or (zero, zero, zero)),
            *(ledger.get(currency) or (zero, zero, zero)),
        )
        for currency in sorted(intakes.keys() | ledger.keys())
    ]


# --- income and living-wage months ---------------------------------------------------------------


@dataclass(frozen=True)
class IncomeMonth:
    """Labour and handling income a collection partner's hubs in one country and area were paid
    in a month, against that place's living wage."""

    organisation_id: int
    organisation: str
    country: str
    area: str
    currency: str
    month: dt.date
    purchases: Decimal
    fees: Decimal
    benchmark: LivingWageBenchmark | None

    @property
    def income(self) -> Decimal:
        return self.purchases + self.fees

    @property
    def living_wage_months(self) -> Decimal | None:
        if self.benchmark is None:
            return None
        return (self.income / self.benchmark.monthly_amount).quantize(Decimal("0.01"))


def income_months(organisations: Iterable[Organisation] | None = None) -> list[IncomeMonth]:
    """Income per collection partner, country, area, currency and month, oldest first."""
    rows = _rows(
        f"""
        SELECT h.organisation_id, org.name, h.country, h.area, p.currency, {_INCOME_MONTH},
               COALESCE(SUM(p.amount) FILTER (WHERE p.kind = %(purchase)s), 0),
               COALESCE(SUM(p.amount) FILTER (WHERE p.kind <> %(purchase)s), 0)
        {_LEDGER_JOINS}
        JOIN accounts_organisation org ON org.id = h.organisation_id
        WHERE (%(orgs)s::bigint[] IS NULL OR h.organisation_id = ANY(%(orgs)s))
        GROUP BY 1, 2, 3, 4, 5, 6
        ORDER BY 6, 2, 3, 4, 5
        """,
        {"orgs": _org_ids(organisations), "purchase": PaymentKind.PURCHASE.value},
    )
    benchmarks = Benchmarks()
    return [
        IncomeMonth(
            org_id,
            name,
            country,
            area,
            currency,
            month,
            purchases,
            fees,
            benchmarks.usable(country, area, month.year, currency),
        )
        for org_id, name, country, area, currency, month, purchases, fees in rows
    ]


@dataclass
class LivingWagePeriod:
    """Living-wage months of a collection partner in a country and area over a year."""

    organisation: str
    country: str
    area: str
    currency: str
    year: int
    income: Decimal = Decimal(0)
    benchmark: LivingWageBenchmark | None = None
    months: list[IncomeMonth] = field(default_factory=list)

    @property
    def living_wage_months(self) -> Decimal | None:
        if self.benchmark is None:
            return None
        return (self.income / self.benchmark.monthly_amount).quantize(Decimal("0.01"))


def living_wage_periods(months: Sequence[IncomeMonth]) -> list[LivingWagePeriod]:
    """The months summed per partner, country, area, currency and year (newest year first)."""
    periods: dict[tuple[str, str, str, str, int], LivingWagePeriod] = {}
    for month in months:
        key = (month.organisation, month.country, month.area, month.currency, month.month.year)
        period = periods.setdefault(key, LivingWagePeriod(*key, benchmark=month.benchmark))
        period.income += month.income
        period.months.append(month)
    return sorted(periods.values(), key=lambda p: (-p.year, p.organisation, p.country, p.area))


# --- collectors' earnings ------------------------------------------------------------------------


@dataclass(frozen=True)
class CollectorMonth:
    collector_id: int
    collector_code: str
    country: str
    area: str
    currency: str
    month: dt.date
    income: Decimal
    benchmark: LivingWageBenchmark | None

    @property
    def share_of_living_wage(self) -> Decimal | None:
        if self.benchmark is None:
            return None
        return self.income / self.benchmark.monthly_amount


def collector_months(organisations: Iterable[Organisation] | None = None) -> list[CollectorMonth]:
    """What each collector was paid for phones per month (purchases net of reversals)."""
    rows = _rows(
        f"""
        SELECT p.collector_id, col.code, h.country, h.area, p.currency, {_INCOME_MONTH},
               SUM(p.amount)
        {_LEDGER_JOINS}
        JOIN collection_collector col ON col.id = p.collector_id
        WHERE p.kind = %(purchase)s
          AND (%(orgs)s::bigint[] IS NULL OR h.organisation_id = ANY(%(orgs)s))
        GROUP BY 1, 2, 3, 4, 5, 6
        ORDER BY 6, 2
        """,
        {"orgs": _org_ids(organisations), "purchase": PaymentKind.PURCHASE.value},
    )
    benchmarks = Benchmarks()
    return [
        CollectorMonth(
            collector_id,
            code,
            country,
            area,
            currency,
            month,
            income,
            benchmarks.usable(country, area, month.year, currency),
        )
        for collector_id, code, country, area, currency, month, income in rows
    ]


@dataclass(frozen=True)
class LivingWageCount:
    """How many collectors of a country and area earned at least a living wage in a month."""

    month: dt.date
    country: str
    area: str
    collectors: int
    at_living_wage: int | None  # None: no benchmark, so no count


def collectors_at_living_wage(months: Sequence[CollectorMonth]) -> list[LivingWageCount]:
    counts: dict[tuple[dt.date, str, str], list[CollectorMonth]] = defaultdict(list)
    for row in months:
        counts[(row.month, row.country, row.area)].append(row)
    result = []
    for (month, country, area), rows in sorted(counts.items(), reverse=True):
        shares = [row.share_of_living_wage for row in rows]
        at_wage = None if any(s is None for s in shares) else sum(1 for s in shares if s and s >= 1)
        result.append(LivingWageCount(month, country, area, len(rows), at_wage))
    return result


def earnings_bands(months: Sequence[CollectorMonth]) -> dict[str, int]:
    """Collector-months per band of the living wage; those without a benchmark apart."""
    bands = {label: 0 for label, _ in BANDS} | {NO_BENCHMARK: 0}
    for row in months:
        share = row.share_of_living_wage
        if share is None:
            bands[NO_BENCHMARK] += 1
            continue
        label = next(label for label, floor in reversed(BANDS) if share >= floor)
        bands[label] += 1
    return bands


@dataclass(frozen=True)
class Stability:
    """A collector's monthly income over the last months, and how much it varies."""

    collector_code: str
    currency: str
    incomes: tuple[Decimal, ...]  # oldest first; a month without income is 0

    @property
    def mean(self) -> Decimal:
        return sum(self.incomes, Decimal(0)) / len(self.incomes)

    @property
    def variation(self) -> Decimal | None:
        """Coefficient of variation (population standard deviation / mean); None without
        income. 0 is a steady income; 1 means months typically differ by the whole mean."""
        mean = self.mean
        if mean <= 0:
            return None
        variance = sum(((x - mean) ** 2 for x in self.incomes), Decimal(0)) / len(self.incomes)
        return (variance.sqrt() / mean).quantize(Decimal("0.01"))


def last_months(until: dt.date, count: int = STABILITY_MONTHS) -> list[dt.date]:
    """The first days of the `count` months ending with `until`'s, oldest first."""
    months = [until.replace(day=1)]
    while len(months) < count:
        months.append((months[-1] - dt.timedelta(days=1)).replace(day=1))
    return months[::-1]


def income_stability(
    months: Sequence[CollectorMonth], until: dt.date, count: int = STABILITY_MONTHS
) -> list[Stability]:
    """Each collector paid in the window, least stable first."""
    window = last_months(until, count)
    by_collector: dict[tuple[str, str], dict[dt.date, Decimal]] = defaultdict(dict)
    for row in months:
        if window[0] <= row.month <= window[-1]:
            incomes = by_collector[(row.collector_code, row.currency)]
            incomes[row.month] = incomes.get(row.month, Decimal(0)) + row.income
    result = [
        Stability(code, currency, tuple(incomes.get(m, Decimal(0)) for m in window))
        for (code, currency), incomes in by_collector.items()
    ]
    return sorted(result, key=lambda s: (-(s.variation or Decimal(0)), s.collector_code))


def monthly_totals(months: Sequence[IncomeMonth]) -> dict[tuple[dt.date, str], Decimal]:
    """(month, currency) -> income, for charts and EUR conversion."""
    totals: dict[tuple[dt.date, str], Decimal] = defaultdict(Decimal)
    for month in months:
        totals[(month.month, month.currency)] += month.income
    return {key: quantize(value, key[1]) for key, value in totals.items()}
