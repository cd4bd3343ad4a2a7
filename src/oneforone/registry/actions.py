from __future__ import annotations

import datetime as dt
import hashlib
import json
import secrets
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, transaction
from django.db.backends.postgresql.psycopg_any import NumericRange
from django.db.models import F, Max, Min, Sum
from django.db.models.functions import ExtractYear
from django.utils import timezone

from oneforone.accounts.models import Organisation, User
from oneforone.collection.models import Intake
from oneforone.core import audit
from oneforone.core.db import advisory_xact_lock
from oneforone.partners.models import Registration
from oneforone.recycling.models import TreatmentCompletion
from oneforone.registry.models import (
    Allocation,
    BatchIncome,
    Certificate,
    CertificateDocument,
    IssuanceBatch,
)

# Advisory lock keys: one writer of the unit sequence, one allocator at a time.
_UNIT_SEQUENCE_LOCK = 0x0401_0002
_ALLOCATION_LOCK = 0x0401_0003
_CODE_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"


def issue_batch(*, actor: User, completion: TreatmentCompletion) -> IssuanceBatch:
    """Issue one unit per counted phone of a treated consignment.

    The only code path that creates units. It runs inside the treatment action's transaction
    (see `receivers.py`); the database also refuses a batch whose size is not the counted reception.
    """
    advisory_xact_lock(_UNIT_SEQUENCE_LOCK)
    first = IssuanceBatch.objects.aggregate(last=Max("units__endswith"))["last"] or 1
    reception = completion.reception
    consignment = completion.consignment
    intakes = Intake.objects.filter(lot__consignment=consignment)
    period = intakes.aggregate(start=Min("collected_on"), end=Max("collected_on"))
    batch = IssuanceBatch.objects.create(
        treatment=completion,
        consignment=consignment,
        origin_country=consignment.origin_hub.country,
        vintage_year=completion.completed_on.year,
        units=NumericRange(first, first + reception.counted_phones),
        net_weight_kg=reception.net_weight_kg,
        collected_from=period["start"],
        collected_until=period["end"],
        issued_at=timezone.now(),
        issued_by=actor,
    )
    BatchIncome.objects.bulk_create(
        BatchIncome(batch=batch, **row)
        for row in intakes.values(
            "currency",
            country=F("hub__country"),
            area=F("hub__area"),
            year=ExtractYear("collected_on"),
        )
        .annotate(amount=Sum("amount_paid"), phones=Sum("phones"))
        .order_by()
    )
    batch.refresh_from_db()
    audit.record(
        actor=actor,
        code="registry.batch.issued",
        obj=batch,
        organisation=consignment.recycler,
        data={"block": batch.block, "units": batch.quantity, "consignment": consignment.reference},
    )
    return batch


@dataclass
class AllocationResult:
    allocations: list[Allocation] = field(default_factory=list)
    certificates: list[Certificate] = field(default_factory=list)

    @property
    def units(self) -> int:
        return sum(a.units.upper - a.units.lower for a in self.allocations)


@dataclass
class _Need:
    registration_id: int
    open_units: int


@transaction.atomic
def allocate(
    *, actor: User, partner: Organisation | None = None, max_units: int | None = None
) -> AllocationResult:
    """Give available units to open registrations: oldest registration first, oldest units first.

    Authorisation is the caller's (operator staff or the command line). Allocators are serialised;
    the exclusion constraint on allocated ranges would refuse any overlap all the same.
    """
    advisory_xact_lock(_ALLOCATION_LOCK)
    needs = _open_registrations(partner)
    free = _free_ranges()
    result = AllocationResult()
    budget = max_units if max_units is not None else float("inf")
    now = timezone.now()
    completed: list[int] = []
    for need in needs:
        while need.open_units and free and budget > 0:
            batch_id, lower, upper = free[0]
            take = int(min(need.open_units, upper - lower, budget))
            result.allocations.append(
                Allocation(
                    registration_id=need.registration_id,
                    batch_id=batch_id,
                    units=NumericRange(lower, lower + take),
                    allocated_at=now,
                    allocated_by=actor,
                )
            )
            need.open_units -= take
            budget -= take
            if lower + take == upper:
                free.pop(0)
            else:
                free[0] = (batch_id, lower + take, upper)
        if need.open_units == 0:
            completed.append(need.registration_id)
        if not free or budget <= 0:
            break
    if not result.allocations:
        return result
    Allocation.objects.bulk_create(result.allocations)
    result.certificates = _issue_certificates(completed, now)
    audit.record(
        actor=actor,
        code="registry.allocation.created",
        obj=partner,
        organisation=partner,
        data={
            "allocations": len(result.allocations),
            "units": result.units,
            "registrations": len({a.registration_id for a in result.allocations}),
            "certificates": [c.code for c in result.certificates],
        },
    )
    codes = [c.code for c in result.certificates]
    if codes:
        transaction.on_commit(lambda: _enqueue_rendering(codes))
    return result


def _enqueue_rendering(codes: list[str]) -> None:
    from oneforone.registry.tasks import render_certificate_documents

    render_certificate_documents.enqueue(codes)


def _open_registrations(partner: Organisation | None) -> list[_Need]:
    sql = """
        SELECT r.id, r.units_owed - COALESCE(SUM(a.quantity), 0) AS open_units
        FROM partners_registration r
        LEFT JOIN registry_allocation a ON a.registration_id = r.id
        WHERE (%(partner)s::bigint IS NULL OR r.partner_id = %(partner)s)
        GROUP BY r.id
        HAVING r.units_owed - COALESCE(SUM(a.quantity), 0) > 0
        ORDER BY r.created_at, r.id
    """
    with connection.cursor() as cursor:
        cursor.execute(sql, {"partner": partner.pk if partner else None})
        return [_Need(row[0], row[1]) for row in cursor.fetchall()]


def _free_ranges() -> list[tuple[int, int, int]]:
    """(batch id, first free unit, end) of every unallocated stretch, oldest batch first."""
    sql = """
        SELECT b.id, lower(free), upper(free)
        FROM registry_issuancebatch b
        CROSS JOIN LATERAL (
            SELECT range_agg(a.units) AS taken FROM registry_allocation a WHERE a.batch_id = b.id
        ) t
        CROSS JOIN LATERAL unnest(int8multirange(b.units) - COALESCE(t.taken, '{}')) AS free
        ORDER BY b.issued_at, b.id, lower(free)
    """
    with connection.cursor() as cursor:
        cursor.execute(sql)
        return [(row[0], row[1], row[2]) for row in cursor.fetchall()]


def _issue_certificates(registration_ids: Iterable[int], now: dt.datetime) -> list[Certificate]:
    from oneforone.registry.snapshots import certificate_snapshot

    registrations = (
        Registration.objects.filter(pk__in=list(registration_ids))
        .select_related("partner", "category")
        .prefetch_related(
            "allocations__batch__consignment__recycler", "allocations__batch__treatment"
        )
    )
    certificates = []
    for registration in registrations:
        snapshot = certificate_snapshot(registration)
        encoded = json.dumps(snapshot, sort_keys=True, cls=DjangoJSONEncoder, separators=(",", ":"))
        certificates.append(
            Certificate(
                code=new_certificate_code(),
                registration=registration,
                issued_at=now,
                snapshot=json.loads(encoded),
                snapshot_sha256=hashlib.sha256(encoded.encode()).hexdigest(),
            )
        )
    return Certificate.objects.bulk_create(certificates)


def new_certificate_code() -> str:
    body = "".join(secrets.choice(_CODE_ALPHABET) for _ in range(10))
    return f"C-{body}"


@transaction.atomic
def render_certificate_document(*, actor: User, certificate: Certificate) -> CertificateDocument:
    """Render the certificate's PDF once and keep it with its SHA-256; later calls return it."""
    from oneforone.registry.certificate_pdf import render_pdf

    Certificate.objects.select_for_update().filter(pk=certificate.pk).first()
    existing = CertificateDocument.objects.filter(certificate=certificate).first()
    if existing is not None:
        return existing
    pdf = render_pdf(certificate)
    document = CertificateDocument.objects.create(
        certificate=certificate,
        pdf=pdf,
        sha256=hashlib.sha256(pdf).hexdigest(),
        rendered_at=timezone.now(),
    )
    audit.record(
        actor=actor,
        code="registry.certificate.rendered",
        obj=certificate,
        organisation=certificate.registration.partner,
        data={"code": certificate.code, "pdf_sha256": document.sha256},
    )
    return document
