"""The registry's invariants, computed from its tables with SQL, for tests that check them after
arbitrary sequences of actions (stateful, concurrent) and after each correction."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import connection

from oneforone.partners.models import Registration
from oneforone.registry import ledger
from oneforone.registry.models import Allocation, Certificate


@dataclass(frozen=True)
class BatchCount:
    batch_id: int
    issued: int
    available: int
    reserved: int
    allocated: int
    cancelled: int


def batch_counts() -> list[BatchCount]:
    """Each batch's units by state, each state computed on its own: issued from the batch range,
    available as the batch range minus everything else, reserved as active reserved ranges minus
    active allocations, allocated and cancelled as plain sums of row sizes (so an overlap would
    count twice and break the sum)."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            WITH alloc AS (
                SELECT batch_id, range_agg(units) AS ranges, SUM(quantity) AS n
                FROM registry_allocation WHERE revoked_at IS NULL GROUP BY batch_id
            ), res AS (
                SELECT batch_id, range_agg(units) AS ranges
                FROM registry_reservation WHERE released_at IS NULL GROUP BY batch_id
            ), canc AS (
                SELECT batch_id, range_agg(units) AS ranges, SUM(quantity) AS n
                FROM registry_cancellation GROUP BY batch_id
            )
            SELECT b.id, b.quantity,
                (SELECT COALESCE(SUM(upper(f) - lower(f)), 0) FROM unnest(
                    int8multirange(b.units) - COALESCE(alloc.ranges, '{}')
                    - COALESCE(res.ranges, '{}') - COALESCE(canc.ranges, '{}')) AS f),
                (SELECT COALESCE(SUM(upper(f) - lower(f)), 0) FROM unnest(
                    COALESCE(res.ranges, '{}') - COALESCE(alloc.ranges, '{}')) AS f),
                COALESCE(alloc.n, 0),
                COALESCE(canc.n, 0)
            FROM registry_issuancebatch b
            LEFT JOIN alloc ON alloc.batch_id = b.id
            LEFT JOIN res ON res.batch_id = b.id
            LEFT JOIN canc ON canc.batch_id = b.id
            ORDER BY b.id
            """
        )
        return [BatchCount(*(int(v) for v in row)) for row in cursor.fetchall()]


def _scalar(sql: str) -> int:
    with connection.cursor() as cursor:
        cursor.execute(sql)
        return int(cursor.fetchone()[0])


def problems() -> list[str]:
    """Every broken invariant, described; empty when the registry is sound."""
    found = []
    for c in batch_counts():
        if c.issued != c.available + c.reserved + c.allocated + c.cancelled:
            found.append(f"batch {c.batch_id} does not conserve its units: {c}")
    checks = {
        "two active allocations share a unit": """
            SELECT COUNT(*) FROM registry_allocation a JOIN registry_allocation b
            ON a.id < b.id AND a.units && b.units
            WHERE a.revoked_at IS NULL AND b.revoked_at IS NULL""",
        "two active reservations share a unit": """
            SELECT COUNT(*) FROM registry_reservation a JOIN registry_reservation b
            ON a.id < b.id AND a.units && b.units
            WHERE a.released_at IS NULL AND b.released_at IS NULL""",
        "an active allocation or reservation holds cancelled units": """
            SELECT (SELECT COUNT(*) FROM registry_allocation a JOIN registry_cancellation c
                    ON a.units && c.units WHERE a.revoked_at IS NULL)
                 + (SELECT COUNT(*) FROM registry_reservation s JOIN registry_cancellation c
                    ON s.units && c.units WHERE s.released_at IS NULL)""",
        "an active allocation lies in another partner's reservation or straddles a block": """
            SELECT COUNT(*) FROM registry_allocation a
            JOIN partners_registration r ON r.id = a.registration_id
            JOIN registry_reservation s ON s.units && a.units AND s.released_at IS NULL
            WHERE a.revoked_at IS NULL AND (s.partner_id <> r.partner_id OR NOT s.units @> a.units)""",
        "an allocation lies outside its batch": """
            SELECT COUNT(*) FROM registry_allocation a JOIN registry_issuancebatch b
            ON b.id = a.batch_id WHERE NOT b.units @> a.units""",
        "a registration holds more units than it owes": """
            SELECT COUNT(*) FROM partners_registration r
            WHERE r.units_owed < (SELECT COALESCE(SUM(quantity), 0) FROM registry_allocation
                                  WHERE registration_id = r.id AND revoked_at IS NULL)""",
        "a revoked allocation has no revocation, or an active one has": """
            SELECT COUNT(*) FROM registry_allocation a
            LEFT JOIN registry_revocation v ON v.allocation_id = a.id
            WHERE (a.revoked_at IS NULL) <> (v.id IS NULL)""",
        "a registration has two certificates in force": """
            SELECT COUNT(*) FROM (
                SELECT c.registration_id FROM registry_certificate c
                LEFT JOIN registry_certificatewithdrawal w ON w.certificate_id = c.id
                WHERE w.id IS NULL GROUP BY c.registration_id HAVING COUNT(*) > 1) AS t""",
        "a certificate version does not supersede the one before": """
            SELECT COUNT(*) FROM registry_certificate c
            LEFT JOIN registry_certificate p ON p.id = c.supersedes_id
            LEFT JOIN registry_certificatewithdrawal w ON w.certificate_id = p.id
            WHERE c.version > 1 AND (p.registration_id <> c.registration_id
                                     OR p.version <> c.version - 1 OR w.id IS NULL)""",
    }
    for message, sql in checks.items():
        if n := _scalar(sql):
            found.append(f"{message} ({n} rows)")
    found.extend(certificate_problems())
    report = ledger.verify()
    found.extend(f"ledger: {p}" for p in report.problems)
    return found


def certificate_problems() -> list[str]:
    """A certificate in force belongs to a fully allocated registration and lists exactly its
    active allocations; a fully allocated registration has a certificate in force."""
    found = []
    in_force = {
        c.registration_id: c
        for c in Certificate.objects.filter(withdrawal__isnull=True).order_by("version")
    }
    for registration in Registration.objects.prefetch_related("allocations__batch"):
        allocations = sorted(registration.allocations.all(), key=lambda a: a.units.lower)
        allocated = sum(a.quantity for a in allocations)
        certificate = in_force.get(registration.pk)
        if certificate is None:
            # A registration that owes nothing (its every device withdrawn) has nothing to certify.
            if allocated == registration.units_owed > 0:
                found.append(f"registration {registration.pk} is compensated without a certificate")
            continue
        if allocated != registration.units_owed:
            found.append(
                f"certificate {certificate.code} is in force but registration {registration.pk} "
                f"holds {allocated} of {registration.units_owed} units"
            )
        blocks = [a.block for a in allocations]
        if certificate.snapshot["unit_blocks"] != blocks:
            found.append(
                f"certificate {certificate.code} lists {certificate.snapshot['unit_blocks']}, "
                f"registration {registration.pk} holds {blocks}"
            )
    return found


def unbalanced_references() -> list[tuple[str, str, int]]:
    """Ledger events (kind, reference) whose entries do not sum to zero."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT kind, reference, SUM(delta) FROM registry_ledgerentry "
            "GROUP BY kind, reference HAVING SUM(delta) <> 0"
        )
        return [(k, r, int(s)) for k, r, s in cursor.fetchall()]


def broken_sequences() -> list[str]:
    """Accounts whose sequence numbers are not exactly 1..n."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT account FROM registry_ledgerentry GROUP BY account "
            "HAVING MIN(sequence) <> 1 OR MAX(sequence) <> COUNT(*) "
            "OR COUNT(DISTINCT sequence) <> COUNT(*)"
        )
        return [row[0] for row in cursor.fetchall()]


def active_units(registration: Registration) -> list[tuple[int, int]]:
    return [
        (a.units.lower, a.units.upper)
        for a in Allocation.objects.filter(registration=registration).order_by("units")
    ]
