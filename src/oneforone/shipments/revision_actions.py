"""Revision requests: the only way to change a field after the signature that sealed it.

A signing party asks for the change with a reason; every other party of the consignment answers.
One rejection closes the request and leaves the field as it was; when the last party approves,
the change is applied through the database's sanctioned path (see migration 0004's triggers)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.db import connection, models, transaction
from django.utils import timezone
from django.utils.translation import gettext, gettext_lazy

from oneforone.accounts.models import Membership, Organisation, User
from oneforone.accounts.permissions import NotAllowed
from oneforone.core import audit
from oneforone.shipments import custody
from oneforone.shipments.custody import CustodyError
from oneforone.shipments.models import (
    CarrierLeg,
    Consignment,
    ConsignmentState,
    MovementDocument,
    RevisionAnswer,
    RevisionRequest,
    RevisionStatus,
    RevisionVote,
)

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise


def _text(value: str) -> str:
    if not value.strip():
        raise CustodyError(gettext("enter the new value"))
    return value.strip().upper()


def _count(value: str) -> int:
    if not value.strip().isdigit() or int(value) < 1:
        raise CustodyError(
            gettext("enter the new number of packages as a whole number (at least 1)")
        )
    return int(value)


def _date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value.strip())
    except ValueError:
        raise CustodyError(gettext("enter the new date as YYYY-MM-DD")) from None


@dataclass(frozen=True)
class Revisable:
    label: StrOrPromise
    parse: Callable[[str], Any]


# The sealed fields a revision request may change, by what they belong to.
REVISABLE: dict[tuple[str, str], Revisable] = {
    ("consignment", "container_number"): Revisable(gettext_lazy("Container number"), _text),
    ("movement_document", "packages"): Revisable(gettext_lazy("Number of packages"), _count),
    ("movement_document", "packaging_type"): Revisable(gettext_lazy("Packaging type"), _text),
    ("movement_document", "actual_departure"): Revisable(gettext_lazy("Actual departure"), _date),
    ("leg", "vehicle"): Revisable(
        gettext_lazy("Vehicle or vessel"), lambda v: v.strip() or _text(v)
    ),
    ("leg", "transferred_on"): Revisable(gettext_lazy("Date of transfer"), _date),
}
FIELD_CHOICES = [(f"{target}:{field}", spec.label) for (target, field), spec in REVISABLE.items()]


def parties(consignment: Consignment) -> list[Organisation]:
    """Everyone who signs this consignment's documents: the hub, every carrier, the recycler
    (and the consignee when another organisation)."""
    found: dict[int, Organisation] = {}
    candidates = [consignment.origin_hub.organisation, consignment.carrier]
    candidates += [leg.carrier for leg in consignment.legs.select_related("carrier")]
    candidates += [s.organisation for s in consignment.signatures.select_related("organisation")]
    candidates.append(consignment.recycler)
    for organisation in candidates:
        found.setdefault(organisation.pk, organisation)
    return list(found.values())


def _acting_party(actor: User, candidates: list[Organisation]) -> Organisation:
    memberships = Membership.objects.filter(
        user=actor, organisation__in=[o.pk for o in candidates]
    ).select_related("organisation")
    writing = [m for m in memberships if m.can_write]
    if not writing:
        raise NotAllowed(
            gettext("%(username)s does not sign for any party of this consignment")
            % {"username": actor.username}
            if not memberships
            else gettext("%(username)s may only read for %(organisation)s")
            % {"username": actor.username, "organisation": memberships[0].organisation.name}
        )
    return writing[0].organisation


def _target(consignment: Consignment, target: str, leg: int | None) -> models.Model:
    if target == "consignment":
        return consignment
    if target == "movement_document":
        document = MovementDocument.objects.filter(consignment=consignment).first()
        if document is None:
            raise CustodyError(
                gettext("this consignment has no movement document (no notification)")
            )
        return document
    found = CarrierLeg.objects.filter(consignment=consignment, sequence=leg or 1).first()
    if found is None:
        raise CustodyError(gettext("this consignment has no carrier leg %(or)s") % {"or": leg or 1})
    return found


def _display(value: Any) -> str:
    return value.isoformat() if isinstance(value, dt.date) else str(value)


@transaction.atomic
def request_revision(
    *,
    actor: User,
    consignment: Consignment,
    field: str,
    new_value: str,
    reason: str,
    leg: int | None = None,
) -> RevisionRequest:
    """A signing party asks to change a sealed field; `field` is 'target:name' (FIELD_CHOICES)."""
    consignment = custody.lock(consignment)
    target, _, name = field.partition(":")
    spec = REVISABLE.get((target, name))
    if spec is None:
        raise CustodyError(
            gettext("this field cannot be revised; choose one of %(fields)s")
            % {"fields": ", ".join(str(label) for _, label in FIELD_CHOICES)}
        )
    if consignment.state == ConsignmentState.DRAFT:
        raise CustodyError(gettext("nothing is signed yet; change the consignment before dispatch"))
    if not reason.strip():
        raise CustodyError(gettext("give the reason for the change"))
    organisation = _acting_party(actor, parties(consignment))
    row = _target(consignment, target, leg)
    old_value = _display(getattr(row, name))
    new_parsed = spec.parse(new_value)
    if _display(new_parsed) == old_value:
        raise CustodyError(
            gettext("%(label)s is already %(old_value)s")
            % {"label": str(spec.label).lower(), "old_value": old_value}
        )
    if RevisionRequest.objects.filter(
        consignment=consignment,
        target=target,
        target_id=row.pk,
        field=name,
        status=RevisionStatus.PENDING,
    ).exists():
        raise CustodyError(
            gettext("a revision of %(label)s is already waiting for answers; wait for it")
            % {"label": str(spec.label).lower()}
        )
    request = RevisionRequest.objects.create(
        consignment=consignment,
        target=target,
        target_id=row.pk,
        field=name,
        old_value=old_value,
        new_value=_display(new_parsed),
        reason=reason.strip(),
        organisation=organisation,
        requested_by=actor,
        requested_at=timezone.now(),
    )
    audit.record(
        actor=actor,
        code="shipments.revision.requested",
        obj=request,
        organisation=organisation,
        data={
            "consignment": consignment.reference,
            "target": target,
            "target_id": row.pk,
            "field": name,
            "old": old_value,
            "new": request.new_value,
            "reason": request.reason,
        },
    )
    return request


def waiting_parties(request: RevisionRequest) -> list[Organisation]:
    """The parties that still have to answer (all but the requester and those who answered)."""
    answered = set(request.answers.values_list("organisation_id", flat=True))
    return [
        o
        for o in parties(request.consignment)
        if o.pk != request.organisation_id and o.pk not in answered
    ]


@transaction.atomic
def answer_revision(
    *, actor: User, request: RevisionRequest, vote: str, note: str = ""
) -> RevisionRequest:
    """A party approves or rejects; the last approval applies the change, a rejection closes it."""
    request = RevisionRequest.objects.select_for_update().get(pk=request.pk)
    consignment = custody.lock(request.consignment)
    if request.status != RevisionStatus.PENDING:
        raise CustodyError(
            gettext("this revision request is already %(request)s")
            % {"request": request.get_status_display().lower()}
        )
    if vote not in RevisionVote.values:
        raise CustodyError(gettext("choose approve or reject"))
    waiting = waiting_parties(request)
    if not waiting:
        raise CustodyError(gettext("every party has answered this request already"))
    organisation = _acting_party(actor, waiting)
    now = timezone.now()
    RevisionAnswer.objects.create(
        request=request,
        organisation=organisation,
        vote=vote,
        note=note.strip(),
        answered_by=actor,
        answered_at=now,
    )
    applied = False
    if vote == RevisionVote.REJECT:
        request.status = RevisionStatus.REJECTED
    elif len(waiting) == 1:
        _apply(consignment, request)
        request.status = RevisionStatus.APPROVED
        applied = True
    if request.status != RevisionStatus.PENDING:
        request.closed_at = now
        request.save(update_fields=["status", "closed_at"])
    audit.record(
        actor=actor,
        code="shipments.revision.answered",
        obj=request,
        organisation=organisation,
        data={
            "consignment": consignment.reference,
            "vote": vote,
            "status": request.status,
            "applied": applied,
            "target": request.target,
            "target_id": request.target_id,
            "field": request.field,
            "old": request.old_value,
            "new": request.new_value,
        },
    )
    return request


def _apply(consignment: Consignment, request: RevisionRequest) -> None:
    """Write the approved value through the one path the sealing triggers let through."""
    model: type[models.Model] = {
        "consignment": Consignment,
        "movement_document": MovementDocument,
        "leg": CarrierLeg,
    }[request.target]
    spec = REVISABLE[(request.target, request.field)]
    value = spec.parse(request.new_value)
    if request.target == "movement_document" and request.field == "packaging_type":
        document = MovementDocument.objects.select_related("notification").get(pk=request.target_id)
        if value not in document.notification.packaging_types:
            raise CustodyError(
                gettext("packaging type %(value)s is not notified; the request cannot be applied")
                % {"value": value}
            )
    sanction = f"{model._meta.db_table}:{request.target_id}:{_column(model, request.field)}"
    with connection.cursor() as cursor:
        cursor.execute("SELECT set_config('oneforone.sealed_revision', %s, true)", [sanction])
        try:
            model._default_manager.filter(pk=request.target_id).update(**{request.field: value})
        finally:
            cursor.execute("SELECT set_config('oneforone.sealed_revision', '', true)")


def _column(model: type[models.Model], field: str) -> str:
    column = model._meta.get_field(field).column  # type: ignore[union-attr]
    assert isinstance(column, str)
    return column
