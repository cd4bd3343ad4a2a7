"""Where units are and who waits for them: the reads and the planning behind allocation.

Reads only; the actions lock, plan with these, then write.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from django.db import connection

from oneforone.registry.models import AllocationPreference


@dataclass
class Stretch:
    """Consecutive units of one batch, [lower, upper), free or reserved for one partner."""

    batch_id: int
    country: str
    vintage: int
    lower: int
    upper: int
    reservation_id: int | None = None

    @property
    def size(self) -> int:
        return self.upper - self.lower

    def take(self, quantity: int) -> tuple[int, int]:
        taken = (self.lower, self.lower + quantity)
        self.lower += quantity
        return taken


@dataclass
class Need:
    registration_id: int
    partner_id: int
    open_units: int


_STRETCH_SQL = """
    SELECT b.id, b.origin_country, b.vintage_year, lower(free), upper(free)
    FROM registry_issuancebatch b
    CROSS JOIN LATERAL unnest(
        int8multirange(b.units)
        - COALESCE((SELECT range_agg(units) FROM registry_allocation
                    WHERE batch_id = b.id AND revoked_at IS NULL), '{}')
        - COALESCE((SELECT range_agg(units) FROM registry_reservation
                    WHERE batch_id = b.id AND released_at IS NULL), '{}')
        - COALESCE((SELECT range_agg(units) FROM registry_cancellation
                    WHERE batch_id = b.id), '{}')
    ) AS free
    ORDER BY b.issued_at, b.id, lower(free)
"""

_RESERVED_SQL = """
    SELECT s.partner_id, s.id, b.id, b.origin_country, b.vintage_year, lower(free), upper(free)
    FROM registry_reservation s
    JOIN registry_issuancebatch b ON b.id = s.batch_id
    CROSS JOIN LATERAL unnest(
        int8multirange(s.units)
        - COALESCE((SELECT range_agg(units) FROM registry_allocation
                    WHERE units && s.units AND revoked_at IS NULL), '{}')
    ) AS free
    WHERE s.released_at IS NULL AND (%(partner)s::bigint IS NULL OR s.partner_id = %(partner)s)
    ORDER BY s.reserved_at, s.id, lower(free)
"""

_NEEDS_SQL = """
    SELECT r.id, r.partner_id, (r.units_owed - COALESCE(SUM(a.quantity), 0))::bigint AS open_units
    FROM partners_registration r
    LEFT JOIN registry_allocation a ON a.registration_id = r.id AND a.revoked_at IS NULL
    WHERE (%(partner)s::bigint IS NULL OR r.partner_id = %(partner)s)
      AND (%(only)s::bigint[] IS NULL OR r.id = ANY(%(only)s))
    GROUP BY r.id
    HAVING r.units_owed - COALESCE(SUM(a.quantity), 0) > 0
    ORDER BY r.created_at, r.id
"""


def free_stretches() -> list[Stretch]:
    """Units neither allocated, reserved nor cancelled, oldest batch first."""
    with connection.cursor() as cursor:
        cursor.execute(_STRETCH_SQL)
        return [Stretch(*row) for row in cursor.fetchall()]


def reserved_stretches(partner_id: int | None = None) -> dict[int, list[Stretch]]:
    """Per partner, the unallocated units of its active reservations, oldest reservation first."""
    reserved: dict[int, list[Stretch]] = {}
    with connection.cursor() as cursor:
        cursor.execute(_RESERVED_SQL, {"partner": partner_id})
        for partner, reservation, batch, country, vintage, lower, upper in cursor.fetchall():
            reserved.setdefault(partner, []).append(
                Stretch(batch, country, vintage, lower, upper, reservation)
            )
    return reserved


def open_needs(
    partner_id: int | None = None, registration_ids: Iterable[int] | None = None
) -> list[Need]:
    """Registrations still owed units, oldest first."""
    only = list(registration_ids) if registration_ids is not None else None
    with connection.cursor() as cursor:
        cursor.execute(_NEEDS_SQL, {"partner": partner_id, "only": only})
        return [Need(*row) for row in cursor.fetchall()]


class Planner:
    """Decides which stretches serve a need: the partner's reservations first, then free supply
    matching its preference, then (unless the preference is strict) any free supply, oldest first."""

    def __init__(
        self,
        free: list[Stretch],
        reserved: dict[int, list[Stretch]],
        preferences: dict[int, AllocationPreference],
    ) -> None:
        self.free = free
        self.reserved = reserved
        self.preferences = preferences
        # Oldest first means the front of `free` empties first: skip it in one step instead of
        # walking every used-up stretch for every registration.
        self._first_free = 0
        self._units_left = sum(s.size for s in free) + sum(
            s.size for stretches in reserved.values() for s in stretches
        )

    def _free(self) -> Iterator[Stretch]:
        while self._first_free < len(self.free) and not self.free[self._first_free].size:
            self._first_free += 1
        return (s for s in self.free[self._first_free :] if s.size)

    def candidates(self, partner_id: int) -> Iterator[Stretch]:
        yield from (s for s in self.reserved.get(partner_id, []) if s.size)
        preference = self.preferences.get(partner_id)
        if preference is None:
            yield from self._free()
            return
        yield from (s for s in self._free() if preference.matches(s.country, s.vintage))
        if not preference.strict:
            yield from (s for s in self._free() if not preference.matches(s.country, s.vintage))

    def plan(self, need: Need, budget: int) -> list[tuple[Stretch, tuple[int, int]]]:
        """Take up to min(need, budget) units; nothing if the partner refuses partial allocation
        and the whole need cannot be met now."""
        wanted = min(need.open_units, budget)
        preference = self.preferences.get(need.partner_id)
        refuses_partial = preference is not None and not preference.allow_partial
        if refuses_partial and (
            wanted < need.open_units or self._available(need.partner_id, wanted) < wanted
        ):
            return []
        return self.take(need.partner_id, wanted)

    def take(self, partner_id: int, wanted: int) -> list[tuple[Stretch, tuple[int, int]]]:
        """Up to `wanted` units in the partner's order of preference, whatever it says about
        partial allocation."""
        taken = []
        for stretch in self.candidates(partner_id):
            if not wanted:
                break
            quantity = min(wanted, stretch.size)
            taken.append((stretch, stretch.take(quantity)))
            wanted -= quantity
            self._units_left -= quantity
        return taken

    def _available(self, partner_id: int, enough: int) -> int:
        total = 0
        for stretch in self.candidates(partner_id):
            total += stretch.size
            if total >= enough:
                break
        return total

    def exhausted(self) -> bool:
        return self._units_left <= 0
