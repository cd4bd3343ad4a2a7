"""The public home page's figures: the service's live totals and its milestones.

One query per figure, and the rendered figures are cached for a short while per language, so
that a busy front page costs the database a handful of queries a minute, not per visitor.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from babel import Locale, UnknownLocaleError
from django.core.cache import cache
from django.db import connection
from django.template.loader import render_to_string
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language

from oneforone.impact import method as m
from oneforone.impact import queries as impact
from oneforone.impact.models import MethodologyVersion

CACHE_SECONDS = 60
CACHE_KEY = "home-figures:{language}"
MILESTONES = (1_000, 10_000, 100_000, 1_000_000, 10_000_000)


@dataclass(frozen=True)
class Milestone:
    phones: int
    reached_on: dt.date | None


@dataclass(frozen=True)
class Milestones:
    phones: int  # units issued and not cancelled, as in the headline figure
    reached: list[Milestone]
    next: Milestone | None

    @property
    def progress_percent(self) -> Decimal | None:
        if self.next is None:
            return None
        return (Decimal(100) * self.phones / self.next.phones).quantize(Decimal("0.1"))


@dataclass(frozen=True)
class HomeFigures:
    version: MethodologyVersion | None
    phones: int  # units issued and not cancelled: phones certified recycled
    phones_computed: int  # of which the batch has impact figures under the version
    tonnes: Decimal | None
    living_wage_months: Decimal | None
    devices_compensated: int
    countries: list[tuple[str, str, int]]  # (code, name in the page's language, phones)
    milestones: Milestones
    notes: dict[str, str] = field(default_factory=dict)


def milestones() -> Milestones:
    """When the phones certified recycled reached each milestone and stayed at or above it: one
    query over the issuance batches and the cancellations in time order.

    A cancellation means units no longer stand for a recycled phone, so it counts against the
    milestones too: one that cancellations pull back under is not reached, and once it is
    passed again it is dated from that day."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            WITH change AS (
                SELECT issued_at AS at, 0 AS kind, id, quantity AS phones
                FROM registry_issuancebatch
                UNION ALL
                SELECT cancelled_at, 1, id, -quantity FROM registry_cancellation
            ),
            running AS (
                SELECT at, ROW_NUMBER() OVER in_order AS position,
                       SUM(phones) OVER in_order AS phones
                FROM change WINDOW in_order AS (ORDER BY at, kind, id)
            )
            SELECT goal,
                   (SELECT at FROM running
                    WHERE phones >= goal AND position > COALESCE(
                        (SELECT MAX(position) FROM running WHERE phones < goal), 0)
                    ORDER BY position LIMIT 1),
                   (SELECT COALESCE(SUM(phones), 0) FROM change)
            FROM unnest(%s::bigint[]) AS goal ORDER BY goal
            """,
            [list(MILESTONES)],
        )
        rows = cursor.fetchall()
    phones = int(rows[0][2]) if rows else 0
    reached = [Milestone(int(goal), at.date()) for goal, at, _ in rows if at is not None]
    upcoming = [Milestone(int(goal), None) for goal, at, _ in rows if at is None]
    return Milestones(phones, reached, upcoming[0] if upcoming else None)


def country_name(code: str, language: str) -> str:
    try:
        return str(Locale.parse(language.replace("-", "_")).territories.get(code, code))
    except (UnknownLocaleError, ValueError):
        return code


def home_figures(language: str) -> HomeFigures:
    """The service's totals: impact figures of every issued unit under the latest published
    methodology (3 queries: the version, the units, the figures), the countries the phones came
    from (1), devices compensated (1) and the milestones (1)."""
    try:
        figures: impact.ImpactFigures | None = impact.impact_figures(impact.Scope(issued=True))
    except MethodologyVersion.DoesNotExist:
        figures = None
    mass = figures.value(m.EWASTE_MASS) if figures else None
    return HomeFigures(
        version=figures.version if figures else None,
        phones=figures.units if figures else 0,
        phones_computed=figures.units_computed if figures else 0,
        tonnes=None if mass is None else mass / m.KG_PER_TONNE,
        living_wage_months=figures.value(m.LIVING_WAGE_MONTHS) if figures else None,
        devices_compensated=impact.registry_totals().devices_compensated,
        countries=[
            (code, country_name(code, language), phones) for code, phones in impact.origins()
        ],
        milestones=milestones(),
    )


def rendered_figures(language: str | None = None) -> SafeString:
    """The figures' part of the home page, from the cache when it is younger than a minute."""
    language = language or get_language() or "en"
    key = CACHE_KEY.format(language=language)
    html = cache.get(key)
    if html is None:
        html = render_to_string("reporting/_home_figures.html", {"figures": home_figures(language)})
        cache.set(key, html, CACHE_SECONDS)
    return mark_safe(html)  # noqa: S308 - rendered by our own template, escaped there
