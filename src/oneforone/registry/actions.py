from __future__ import annotations

import datetime as dt
import hashlib
import json
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.db.backends.postgresql.psycopg_any import NumericRange
from django.db.models import F, Max, Min, Sum
from django.db.models.functions import ExtractYear, TruncDate
from django.utils import timezone, translation
from django.utils.translation import gettext

from oneforone.accounts.models import Organisation, OrganisationKind, User
from oneforone.collection.models import Intake
from oneforone.core import audit
from oneforone.core.db import ALLOCATION_LOCK, advisory_xact_lock
from oneforone.core.ledger import merkle_root
from oneforone.partners.models import Registration
from oneforone.recycling.models import TreatmentCompletion
from oneforone.registry import ledger, supply, webhook_events
from oneforone.registry.models import (
    WITHDRAWN_CLAIM_TRANSFERRED,
    WITHDRAWN_REGISTRATION_CHANGED,
    WITHDRAWN_UNITS_CANCELLED,
    Allocation,
    AllocationPreference,
    BatchIncome,
    Cancellation,
    CancellationReason,
    Certificate,
    CertificateDocument,
    CertificateWithdrawal,
    IssuanceBatch,
    LedgerEntry,
    LedgerRoot,
    Reservation,
    Revocation,
)

# Advisory lock keys: one writer of the unit sequence, one allocator at a time.
_UNIT_SEQUENCE_LOCK = 0x0401_0002
_ALLOCATION_LOCK = ALLOCATION_LOCK
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
    assert reception.counted_phones is not None, "batteries are never issued units"
    intakes = Intake.objects.filter(lot__consignment=consignment)
    period = intakes.aggregate(start=Min("collected_on"), end=Max("collected_on"))
    batch = IssuanceBatch.objects.create(
        treatment=completion,
        consignment=consignment,
        origin_country=consignment.origin_hub.country,
        vintage_year=completion.completed_on.year,
        units=NumericRange(first, first + reception.counted_phones - reception.refused_phones),
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
    ledger.record(
        [
            ledger.move(
                "issue",
                ledger.SUPPLY,
                ledger.batch_account(batch.pk),
                quantity=batch.quantity,
                batch_id=batch.pk,
                units=(batch.units.lower, batch.units.upper),
                reference=f"batch:{batch.pk}",
                data={"block": batch.block, "consignment": consignment.reference},
            )
        ]
    )
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


@transaction.atomic
def allocate(
    *, actor: User, partner: Organisation | None = None, max_units: int | None = None
) -> AllocationResult:
    """Give available units to open registrations, oldest registration first.

    Each partner's reservations serve it first, then supply matching its preference (origin,
    vintage), then, unless its preference is strict, any supply, oldest batch first. A partner
    that refuses partial allocation gets a registration's units all at once or not yet.
    Authorisation is the caller's (operator staff or the command line).
    """
    result = _allocate(actor=actor, partner=partner, max_units=max_units)
    if result.allocations:
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
    return result


def _allocate(
    *,
    actor: User,
    partner: Organisation | None = None,
    max_units: int | None = None,
    registration_ids: Iterable[int] | None = None,
    now: dt.datetime | None = None,
) -> AllocationResult:
    """Allocation without its audit event, for actions that allocate as one of their steps.

    Allocators are serialised; the exclusion constraint on active ranges would refuse any
    overlap all the same."""
    advisory_xact_lock(_ALLOCATION_LOCK)
    now = now or timezone.now()
    partner_id = partner.pk if partner else None
    needs = supply.open_needs(partner_id, registration_ids)
    result = AllocationResult()
    if not needs:
        return result
    planner = supply.Planner(
        supply.free_stretches(),
        supply.reserved_stretches(partner_id),
        {
            p.partner_id: p
            for p in AllocationPreference.objects.filter(partner__in={n.partner_id for n in needs})
        },
    )
    budget = max(max_units, 0) if max_units is not None else 10**18
    completed: list[int] = []
    for need in needs:
        for stretch, (lower, upper) in planner.plan(need, budget):
            result.allocations.append(
                Allocation(
                    registration_id=need.registration_id,
                    batch_id=stretch.batch_id,
                    reservation_id=stretch.reservation_id,
                    units=NumericRange(lower, upper),
                    allocated_at=now,
                    allocated_by=actor,
                )
            )
            need.open_units -= upper - lower
            budget -= upper - lower
        if need.open_units == 0:
            completed.append(need.registration_id)
        if budget <= 0 or planner.exhausted():
            break
    if not result.allocations:
        return result
    Allocation.objects.bulk_create(result.allocations)
    ledger.record([_allocation_event(a) for a in result.allocations], now=now)
    # A certified registration owed more when a device claim was transferred to it: its
    # certificate no longer covers every device, and the new version will.
    _withdraw_certificates(
        sorted({a.registration_id for a in result.allocations}),
        WITHDRAWN_CLAIM_TRANSFERRED,
        now,
    )
    result.certificates = _issue_certificates(completed, now)
    webhook_events.allocation_made(  # webhooks: one event per partner served
        result.allocations,
        {n.registration_id: n.partner_id for n in needs},
        completed,
        result.certificates,
    )
    return result


def _allocation_event(allocation: Allocation) -> ledger.Event:
    source = (
        ledger.reservation_account(allocation.reservation_id)
        if allocation.reservation_id
        else ledger.batch_account(allocation.batch_id)
    )
    return ledger.move(
        "allocate",
        source,
        ledger.registration_account(allocation.registration_id),
        quantity=allocation.units.upper - allocation.units.lower,
        batch_id=allocation.batch_id,
        units=(allocation.units.lower, allocation.units.upper),
        reference=f"allocation:{allocation.pk}",
        data={"parent": allocation.parent_id} if allocation.parent_id else {},
    )


def _enqueue_rendering(codes: list[str]) -> None:
    from oneforone.registry.tasks import render_certificate_documents

    render_certificate_documents.enqueue(codes)


# --- reservations --------------------------------------------------------------------------


class ReservationRefused(Exception):
    pass


@transaction.atomic
def reserve_units(
    *,
    actor: User,
    partner: Organisation,
    label: str,
    quantity: int,
    accept_fewer: bool = False,
) -> list[Reservation]:
    """Set units aside for a partner's quota before it registers the devices.

    Free supply is taken in the partner's order of preference (strict preferences are kept).
    Refused if fewer units are free than asked, unless `accept_fewer`.
    """
    if partner.kind != OrganisationKind.PARTNER:
        raise ReservationRefused(gettext("%(name)s is not a partner") % {"name": partner})
    if quantity < 1 or not label.strip():
        raise ReservationRefused(gettext("a reservation needs a label and at least one unit"))
    advisory_xact_lock(_ALLOCATION_LOCK)
    preferences = {p.partner_id: p for p in AllocationPreference.objects.filter(partner=partner)}
    planner = supply.Planner(supply.free_stretches(), {}, preferences)
    # A quota is reserved in part or refused as a whole below, whatever allow_partial says.
    plan = planner.take(partner.pk, quantity)
    available = sum(upper - lower for _, (lower, upper) in plan)
    if available < quantity and not accept_fewer:
        raise ReservationRefused(
            gettext(
                "only %(available)s units are free for %(partner)s now, %(asked)s were asked; "
                "reserve fewer, or wait for the next treated consignment"
            )
            % {"available": available, "partner": partner.name, "asked": quantity}
        )
    if not plan:
        raise ReservationRefused(
            gettext("no units are free for %(partner)s now") % {"partner": partner.name}
        )
    now = timezone.now()
    reservations = Reservation.objects.bulk_create(
        Reservation(
            partner=partner,
            label=label.strip(),
            batch_id=stretch.batch_id,
            units=NumericRange(lower, upper),
            reserved_at=now,
            reserved_by=actor,
        )
        for stretch, (lower, upper) in plan
    )
    ledger.record([_reservation_event(r) for r in reservations], now=now)
    audit.record(
        actor=actor,
        code="registry.units.reserved",
        obj=partner,
        organisation=partner,
        data={
            "label": label,
            "asked": quantity,
            "reserved": available,
            "blocks": len(reservations),
        },
    )
    return reservations


def _reservation_event(reservation: Reservation, quantity: int | None = None) -> ledger.Event:
    return ledger.move(
        "reserve",
        ledger.batch_account(reservation.batch_id),
        ledger.reservation_account(reservation.pk),
        quantity=quantity
        if quantity is not None
        else reservation.units.upper - reservation.units.lower,
        batch_id=reservation.batch_id,
        units=(reservation.units.lower, reservation.units.upper),
        reference=f"reservation:{reservation.pk}",
        data={"label": reservation.label, "parent": reservation.parent_id},
    )


@transaction.atomic
def release_reservation(*, actor: User, partner: Organisation, label: str, reason: str) -> int:
    """Give a quota's unallocated reserved units back to supply; returns how many."""
    if not reason.strip():
        raise ReservationRefused(gettext("say why the reservation is released"))
    advisory_xact_lock(_ALLOCATION_LOCK)
    blocks = list(
        Reservation.objects.select_for_update().filter(
            partner=partner, label=label, released_at__isnull=True
        )
    )
    if not blocks:
        raise ReservationRefused(
            gettext("%(partner)s holds no reservation “%(quota)s”")
            % {"partner": partner.name, "quota": label}
        )
    now = timezone.now()
    events = [_release_event(block, reason) for block in blocks]
    Reservation.objects.filter(pk__in=[b.pk for b in blocks]).update(released_at=now)
    ledger.record(events, now=now)
    released = sum(-e.legs[0].delta for e in events)
    audit.record(
        actor=actor,
        code="registry.reservation.released",
        obj=partner,
        organisation=partner,
        data={"label": label, "units": released, "reason": reason},
    )
    return released


def _unallocated_in(reservation: Reservation) -> int:
    # Units allocated from this block or from the block it replaced: active blocks never overlap.
    allocated = Allocation.objects.filter(units__contained_by=reservation.units).aggregate(
        n=Sum("quantity")
    )["n"]
    return (reservation.units.upper - reservation.units.lower) - (allocated or 0)


def _release_event(reservation: Reservation, reason: str) -> ledger.Event:
    return ledger.move(
        "release",
        ledger.reservation_account(reservation.pk),
        ledger.batch_account(reservation.batch_id),
        quantity=_unallocated_in(reservation),
        batch_id=reservation.batch_id,
        units=(reservation.units.lower, reservation.units.upper),
        reference=f"reservation:{reservation.pk}",
        data={"reason": reason},
    )


# --- preferences ---------------------------------------------------------------------------


@transaction.atomic
def set_allocation_preference(
    *,
    actor: User,
    partner: Organisation,
    origin_countries: Sequence[str] = (),
    vintage_years: Sequence[int] = (),
    strict: bool = False,
    allow_partial: bool = True,
) -> AllocationPreference:
    """Record how a partner wants its registrations compensated (applies to later allocations)."""
    countries = sorted({c.strip().upper() for c in origin_countries if c.strip()})
    preference, _ = AllocationPreference.objects.update_or_create(
        partner=partner,
        defaults={
            "origin_countries": countries,
            "vintage_years": sorted(set(vintage_years)),
            "strict": strict,
            "allow_partial": allow_partial,
            "updated_at": timezone.now(),
            "updated_by": actor,
        },
    )
    audit.record(
        actor=actor,
        code="registry.preference.set",
        obj=preference,
        organisation=partner,
        data={
            "origin_countries": countries,
            "vintage_years": preference.vintage_years,
            "strict": strict,
            "allow_partial": allow_partial,
        },
    )
    return preference


# --- corrections ---------------------------------------------------------------------------


class CancellationRefused(Exception):
    pass


@dataclass
class CancellationResult:
    cancellation: Cancellation
    revoked: list[Allocation]
    withdrawn: list[Certificate]
    reallocated: AllocationResult


@transaction.atomic
def cancel_units(
    *,
    actor: User,
    batch: IssuanceBatch,
    first: int,
    last: int,
    reason: str,
    explanation: str,
) -> CancellationResult:
    """Cancel units [first, last] of a batch: they no longer stand for a recycled phone.

    Allocations holding them are revoked (their other units are granted again to the same
    registration as child ranges), reservations holding them are released and re-made without
    them, the affected certificates are withdrawn, and the registrations, back in the backlog,
    are re-allocated from other supply at once; those fully compensated again get a new
    certificate version that supersedes the old one. Nothing is rewritten.
    """
    if reason not in CancellationReason.values:
        raise CancellationRefused(gettext("unknown reason “%(reason)s”") % {"reason": reason})
    if not explanation.strip():
        raise CancellationRefused(
            gettext("explain the cancellation: it is shown on the public records")
        )
    if not (batch.units.lower <= first <= last < batch.units.upper):
        raise CancellationRefused(
            gettext("units %(first)s-%(last)s are not all in batch %(block)s")
            % {"first": first, "last": last, "block": batch.block}
        )
    advisory_xact_lock(_ALLOCATION_LOCK)
    if Cancellation.objects.filter(
        batch=batch, units__overlap=NumericRange(first, last + 1)
    ).exists():
        raise CancellationRefused(
            gettext("some of units %(first)s-%(last)s are cancelled already")
            % {"first": first, "last": last}
        )
    now = timezone.now()
    cut = (first, last + 1)
    events: list[ledger.Event] = []
    children_of: dict[int, list[Reservation]] = {}
    cancelled_in_reservations = _cut_reservations(actor, batch, cut, now, events, children_of)
    revoked, children, cancelled_in_allocations = _cut_allocations(
        actor, batch, cut, now, events, children_of
    )
    cancellation = Cancellation.objects.create(
        batch=batch,
        units=NumericRange(*cut),
        reason=reason,
        explanation=explanation.strip(),
        cancelled_at=now,
        cancelled_by=actor,
    )
    Revocation.objects.bulk_create(
        Revocation(
            allocation=a,
            cancellation=cancellation,
            reason=explanation.strip(),
            revoked_at=now,
            revoked_by=actor,
        )
        for a in revoked
    )
    free_cancelled = (cut[1] - cut[0]) - cancelled_in_reservations - cancelled_in_allocations
    if free_cancelled:
        events.append(
            ledger.move(
                "cancel",
                ledger.batch_account(batch.pk),
                ledger.cancelled_account(batch.pk),
                quantity=free_cancelled,
                batch_id=batch.pk,
                units=cut,
                reference=f"cancellation:{cancellation.pk}",
                data={"reason": reason},
            )
        )
    ledger.record(events, now=now)
    affected = sorted({a.registration_id for a in revoked})
    withdrawn = _withdraw_certificates(
        affected,
        WITHDRAWN_UNITS_CANCELLED
        % {"block": batch.block_of(*cut), "explanation": explanation.strip()},
        now,
    )
    reallocated = _allocate(actor=actor, registration_ids=affected, now=now)
    audit.record(
        actor=actor,
        code="registry.units.cancelled",
        obj=cancellation,
        organisation=batch.consignment.recycler,
        data={
            "block": cancellation.block,
            "units": cut[1] - cut[0],
            "reason": reason,
            "explanation": explanation.strip(),
            "allocations_revoked": len(revoked),
            "child_allocations": len(children),
            "certificates_withdrawn": [c.code for c in withdrawn],
            "reallocated_units": reallocated.units,
            "new_certificates": [c.code for c in reallocated.certificates],
        },
    )
    return CancellationResult(cancellation, revoked, withdrawn, reallocated)


def _pieces(units: NumericRange, cut: tuple[int, int]) -> list[tuple[int, int]]:
    """What is left of [lower, upper) once [cut) is taken out: zero, one or two ranges."""
    left = (units.lower, min(units.upper, cut[0]))
    right = (max(units.lower, cut[1]), units.upper)
    return [p for p in (left, right) if p[1] > p[0]]


def _overlap(units: NumericRange, cut: tuple[int, int]) -> int:
    return max(0, min(units.upper, cut[1]) - max(units.lower, cut[0]))


def _cut_reservations(
    actor: User,
    batch: IssuanceBatch,
    cut: tuple[int, int],
    now: dt.datetime,
    events: list[ledger.Event],
    children_of: dict[int, list[Reservation]],
) -> int:
    """Release the reserved blocks that hold cancelled units and reserve their other units again
    (filling `children_of`). Returns how many cancelled units were reserved and not allocated."""
    blocks = list(
        Reservation.objects.select_for_update().filter(
            batch=batch, released_at__isnull=True, units__overlap=NumericRange(*cut)
        )
    )
    unallocated = {block.pk: _unallocated_in(block) for block in blocks}
    Reservation.objects.filter(pk__in=list(unallocated)).update(released_at=now)
    cancelled = 0
    for block in blocks:
        cancelled_here = _overlap(block.units, cut) - _allocated_within(block.units, cut)
        children = Reservation.objects.bulk_create(
            Reservation(
                partner_id=block.partner_id,
                label=block.label,
                batch=batch,
                units=NumericRange(*piece),
                parent=block,
                reserved_at=now,
                reserved_by=actor,
            )
            for piece in _pieces(block.units, cut)
        )
        children_of[block.pk] = children
        legs = [
            ledger.Leg(
                ledger.reservation_account(block.pk),
                -unallocated[block.pk],
                batch.pk,
                _bounds(block.units),
            )
        ]
        legs.extend(
            ledger.Leg(
                ledger.reservation_account(child.pk),
                _len(child.units) - _allocated_within(child.units, _bounds(child.units)),
                batch.pk,
                _bounds(child.units),
            )
            for child in children
        )
        if cancelled_here:
            legs.append(
                ledger.Leg(ledger.cancelled_account(batch.pk), cancelled_here, batch.pk, cut)
            )
        events.append(
            ledger.Event(
                "cancel.reservation",
                legs,
                f"reservation:{block.pk}",
                {"children": [c.pk for c in children]},
            )
        )
        cancelled += cancelled_here
    return cancelled


def _len(units: NumericRange) -> int:
    return int(units.upper - units.lower)


def _bounds(units: NumericRange) -> tuple[int, int]:
    return (units.lower, units.upper)


def _allocated_within(block: NumericRange, window: tuple[int, int]) -> int:
    """Active allocated units inside both a reserved block and a window of it.

    Counted by overlap: an allocation that straddles the cut lies in no piece of the block whole,
    yet its units on each side of the cut are allocated."""
    lower, upper = max(block.lower, window[0]), min(block.upper, window[1])
    if lower >= upper:
        return 0
    return sum(
        _overlap(a.units, (lower, upper))
        for a in Allocation.objects.filter(units__overlap=NumericRange(lower, upper))
    )


def _cut_allocations(
    actor: User,
    batch: IssuanceBatch,
    cut: tuple[int, int],
    now: dt.datetime,
    events: list[ledger.Event],
    children_of: dict[int, list[Reservation]],
) -> tuple[list[Allocation], list[Allocation], int]:
    """Revoke the allocations holding cancelled units and grant their other units again."""
    revoked = list(
        Allocation.objects.select_for_update().filter(
            batch=batch, units__overlap=NumericRange(*cut)
        )
    )
    Allocation.objects.filter(pk__in=[a.pk for a in revoked]).update(revoked_at=now)
    for a in revoked:
        a.revoked_at = now  # the rows returned to the caller say what the database holds
    children = Allocation.objects.bulk_create(
        Allocation(
            registration_id=a.registration_id,
            batch=batch,
            units=NumericRange(*piece),
            reservation=_reservation_holding(piece, children_of),
            parent=a,
            allocated_at=now,
            allocated_by=actor,
        )
        for a in revoked
        for piece in _pieces(a.units, cut)
    )
    cancelled = 0
    for a in revoked:
        gone = _overlap(a.units, cut)
        cancelled += gone
        legs = [
            ledger.Leg(
                ledger.registration_account(a.registration_id),
                -gone,
                batch.pk,
                (a.units.lower, a.units.upper),
            )
        ]
        legs.append(ledger.Leg(ledger.cancelled_account(batch.pk), gone, batch.pk, cut))
        kept = [c.pk for c in children if c.parent_id == a.pk]
        events.append(
            ledger.Event(
                "revoke", legs, f"allocation:{a.pk}", {"children": kept, "cause": "cancellation"}
            )
        )
    return revoked, children, cancelled


def _reservation_holding(
    piece: tuple[int, int], children_of: dict[int, list[Reservation]]
) -> Reservation | None:
    """The re-made reserved block a kept piece of a revoked allocation lies in, if any."""
    # The block that held the units is not always the allocation's own reservation: an earlier
    # cancellation may have re-made that block as a child, and the allocation kept its old link.
    for children in children_of.values():
        for child in children:
            if child.units.lower <= piece[0] and piece[1] <= child.units.upper:
                return child
    return None


def _withdraw_certificates(
    registration_ids: Sequence[int], reason: str, now: dt.datetime
) -> list[Certificate]:
    """Withdraw the current certificate of each registration (a later version will supersede it)."""
    current = list(
        Certificate.objects.filter(registration_id__in=registration_ids, withdrawal__isnull=True)
    )
    CertificateWithdrawal.objects.bulk_create(
        CertificateWithdrawal(certificate=c, reason=reason, withdrawn_at=now) for c in current
    )
    ledger.record(
        [
            ledger.Event(
                "certificate.withdrawn",
                [ledger.Leg(ledger.registration_account(c.registration_id), 0)],
                f"certificate:{c.code}",
                {"code": c.code, "version": c.version, "reason": reason},
            )
            for c in current
        ],
        now=now,
    )
    return current


@transaction.atomic
def release_surplus(
    *, actor: User, registrations: Sequence[Registration], reason: str
) -> list[Allocation]:
    """Give back the units of registrations that now owe fewer (a device claim was withdrawn).

    The most recently allocated units go first; what a revoked range keeps is granted again as a
    child range. A compensated registration gets a new certificate version for its new content.
    """
    revoked, touched = release_surplus_unaudited(
        actor=actor, registrations=registrations, reason=reason
    )
    if touched:
        audit.record(
            actor=actor,
            code="registry.surplus.released",
            data={"registrations": touched, "allocations_revoked": len(revoked), "reason": reason},
        )
    return revoked


def release_surplus_unaudited(
    *, actor: User, registrations: Sequence[Registration], reason: str
) -> tuple[list[Allocation], list[int]]:
    """`release_surplus` without its audit event, for the action that withdrew the claims."""
    advisory_xact_lock(_ALLOCATION_LOCK)
    now = timezone.now()
    revoked: list[Allocation] = []
    events: list[ledger.Event] = []
    touched: list[int] = []
    for registration in Registration.objects.filter(pk__in=[r.pk for r in registrations]):
        allocations = list(
            Allocation.objects.select_for_update()
            .filter(registration=registration)
            .order_by("-allocated_at", "-units")
        )
        surplus = sum(_len(a.units) for a in allocations) - registration.units_owed
        if surplus <= 0:
            continue
        touched.append(registration.pk)
        for allocation in allocations:
            if surplus <= 0:
                break
            give_back = min(surplus, _len(allocation.units))
            surplus -= give_back
            revoked.append(allocation)
            keep_upper = allocation.units.upper - give_back
            holder = _active_holder(allocation.units)
            Allocation.objects.filter(pk=allocation.pk).update(revoked_at=now)
            allocation.revoked_at = now
            child = None
            if keep_upper > allocation.units.lower:
                child = Allocation.objects.create(
                    registration=registration,
                    batch_id=allocation.batch_id,
                    units=NumericRange(allocation.units.lower, keep_upper),
                    reservation=holder,
                    parent=allocation,
                    allocated_at=now,
                    allocated_by=actor,
                )
            target = (
                ledger.reservation_account(holder.pk)
                if holder
                else ledger.batch_account(allocation.batch_id)
            )
            events.append(
                ledger.move(
                    "revoke",
                    ledger.registration_account(registration.pk),
                    target,
                    quantity=give_back,
                    batch_id=allocation.batch_id,
                    units=(keep_upper, allocation.units.upper),
                    reference=f"allocation:{allocation.pk}",
                    data={
                        "children": [child.pk] if child else [],
                        "cause": "claim withdrawn",
                        "reason": reason,
                    },
                )
            )
    Revocation.objects.bulk_create(
        Revocation(allocation=a, reason=reason, revoked_at=now, revoked_by=actor) for a in revoked
    )
    ledger.record(events, now=now)
    _withdraw_certificates(touched, WITHDRAWN_REGISTRATION_CHANGED % {"reason": reason}, now)
    # A registration that was short and now owes no more than it holds has no surplus, yet it is
    # compensated: it gets its certificate too (one whose certificate is in force is skipped).
    ids = [r.pk for r in registrations]
    still_owed = {n.registration_id for n in supply.open_needs(registration_ids=ids)}
    certified = _issue_certificates([n for n in ids if n not in still_owed], now)
    touched.extend(c.registration_id for c in certified if c.registration_id not in touched)
    return revoked, touched


def _active_holder(units: NumericRange) -> Reservation | None:
    """The active reserved block the units lie in, if any (active blocks never overlap)."""
    return Reservation.objects.filter(released_at__isnull=True, units__contains=units).first()


def _issue_certificates(registration_ids: Iterable[int], now: dt.datetime) -> list[Certificate]:
    """A certificate for each fully compensated registration, superseding a withdrawn version."""
    from oneforone.registry.snapshots import certificate_snapshot

    ids = list(registration_ids)
    registrations = (
        Registration.objects.filter(pk__in=ids, units_owed__gt=0)
        .select_related("partner", "category")
        .prefetch_related(
            "allocations__batch__consignment__recycler", "allocations__batch__treatment"
        )
    )
    latest = {
        c.registration_id: c
        for c in Certificate.objects.filter(registration_id__in=ids)
        .select_related("withdrawal")
        .order_by("registration_id", "-version")
        .distinct("registration_id")
    }
    certificates = []
    for registration in registrations:
        previous = latest.get(registration.pk)
        if previous is not None and not hasattr(previous, "withdrawal"):
            continue
        snapshot = certificate_snapshot(registration)
        if previous is not None:
            snapshot["supersedes"] = previous.code
        encoded = json.dumps(snapshot, sort_keys=True, cls=DjangoJSONEncoder, separators=(",", ":"))
        certificates.append(
            Certificate(
                code=new_certificate_code(),
                registration=registration,
                version=previous.version + 1 if previous else 1,
                supersedes=previous,
                issued_at=now,
                snapshot=json.loads(encoded),
                snapshot_sha256=hashlib.sha256(encoded.encode()).hexdigest(),
            )
        )
    created = Certificate.objects.bulk_create(certificates)
    webhook_events.certificates_issued(created)  # webhooks: issued, and superseded versions
    ledger.record(
        [
            ledger.Event(
                "certificate.issued",
                [ledger.Leg(ledger.registration_account(c.registration_id), 0)],
                f"certificate:{c.code}",
                {
                    "code": c.code,
                    "version": c.version,
                    "snapshot_sha256": c.snapshot_sha256,
                    "supersedes": c.supersedes.code if c.supersedes else None,
                },
            )
            for c in created
        ],
        now=now,
    )
    codes = [c.code for c in created]
    if codes:
        transaction.on_commit(lambda: _enqueue_rendering(codes))
    return created


def new_certificate_code() -> str:
    body = "".join(secrets.choice(_CODE_ALPHABET) for _ in range(10))
    return f"C-{body}"


@transaction.atomic
def render_certificate_document(*, actor: User, certificate: Certificate) -> CertificateDocument:
    """Render the certificate's PDF once and keep it with its SHA-256; later calls return it."""
    from oneforone.registry.certificate_pdf import render_pdf

    # One renderer at a time per certificate. FOR NO KEY UPDATE, not FOR UPDATE: a correction
    # that withdraws or supersedes the certificate checks its foreign key (FOR KEY SHARE) at
    # commit, after it has taken the audit chain's lock, which this transaction waits for.
    Certificate.objects.select_for_update(no_key=True).filter(pk=certificate.pk).first()
    existing = CertificateDocument.objects.filter(certificate=certificate).first()
    if existing is not None:
        return existing
    # The copy sealed at issue is in the service's language, whoever first asks for it.
    with translation.override(settings.LANGUAGE_CODE):
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


# --- ledger roots --------------------------------------------------------------------------

# A day is sealed this long after it ends, so that a transaction that took its timestamp just
# before midnight has committed before the day's root is computed.
ROOT_GRACE = dt.timedelta(hours=1)


@transaction.atomic
def publish_ledger_roots(*, actor: User, now: dt.datetime | None = None) -> list[LedgerRoot]:
    """Publish the Merkle root of every finished UTC day that has entries and no root yet."""
    now = now or timezone.now()
    last_day = (now - ROOT_GRACE).astimezone(dt.UTC).date() - dt.timedelta(days=1)
    published = set(LedgerRoot.objects.values_list("day", flat=True))
    # Only the days after the last sealed one are looked at (the index on recorded_at serves it).
    since = dt.datetime.combine(
        max(published) + dt.timedelta(days=1) if published else dt.date.min,
        dt.time.min,
        tzinfo=dt.UTC,
    )
    # order_by(): the model's default ordering by id would make DISTINCT keep one row per entry.
    days = sorted(
        day
        for day in LedgerEntry.objects.filter(recorded_at__gte=since)
        .annotate(day=TruncDate("recorded_at", tzinfo=dt.UTC))
        .order_by()
        .values_list("day", flat=True)
        .distinct()
        if day <= last_day and day not in published
    )
    roots = []
    for day in days:
        entries = ledger.day_entries(day)
        roots.append(
            LedgerRoot(
                day=day,
                entries=len(entries),
                first_entry=entries[0][0],
                last_entry=entries[-1][0],
                root=merkle_root([h for _, h in entries]),
                published_at=now,
            )
        )
    roots = LedgerRoot.objects.bulk_create(roots)
    if roots:
        audit.record(
            actor=actor,
            code="registry.ledger.roots_published",
            data={"days": [r.day.isoformat() for r in roots], "roots": [r.root for r in roots]},
        )
    return roots
