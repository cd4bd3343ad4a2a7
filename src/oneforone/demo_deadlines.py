"""Demo deadlines: departures planned for the consignments still being packed, and the acts the
history would have (pre-shipment information, confirmations of receipt, certificates), leaving
the most recent overdue ones open so that the deadlines page has something to chase.

Called by demo.py once the timeline has run (every consignment exists then); the acts are
recorded at the real now with the dates they were done on.
"""

from __future__ import annotations

import datetime as dt

from oneforone.accounts.models import Membership, Organisation, Role, User
from oneforone.shipments.deadline_actions import plan_departure, record_deadline_met
from oneforone.shipments.deadline_models import DeadlineKind
from oneforone.shipments.deadlines import Deadline, DeadlineStatus, compute_deadlines
from oneforone.shipments.models import Consignment, ConsignmentState, Notification
from oneforone.shipments.workdays import add_working_days, subtract_working_days

# How long after its anchor each act was done, in the demo's history.
CERTIFICATE_AFTER_DAYS = 9


def load(*, today: dt.date, overdue_left: int = 2) -> int:
    """Plan the draft consignments' departures (from 5 working days on) and record the acts of
    every deadline whose act would have been done by `today`, except the `overdue_left` most
    recent overdue pre-shipment information and confirmation of receipt. Returns the acts made."""
    for offset, draft in enumerate(
        Consignment.objects.filter(state=ConsignmentState.DRAFT)
        .select_related("origin_hub__organisation")
        .order_by("created_at", "id")
    ):
        plan_departure(
            actor=_writer(draft.origin_hub.organisation),
            consignment=draft,
            departure_on=add_working_days(today, 5 + offset, draft.origin_hub.country),
        )
    deadlines = compute_deadlines(
        today=today,
        consignments=Consignment.objects.all(),
        notifications=Notification.objects.all(),
        include_met=False,
    )
    left_open = {(d.kind, d.subject_key) for d in _most_recent_overdue(deadlines, overdue_left)}
    made = 0
    for deadline in deadlines:
        done_on = _done_on(deadline)
        if (deadline.kind, deadline.subject_key) in left_open or done_on is None or done_on > today:
            continue
        record_deadline_met(
            actor=_writer(deadline.responsible),
            kind=deadline.act_kind,
            subject_key=deadline.subject_key,
            done_on=done_on,
            note="demo history",
        )
        made += 1
    return made


def _done_on(deadline: Deadline) -> dt.date | None:
    """When the act was done in the demo's history; None for what nobody would have done yet."""
    country = deadline.route.export
    if deadline.kind == DeadlineKind.PRE_SHIPMENT_INFORMATION:
        if deadline.consignment is None or deadline.consignment.state == ConsignmentState.DRAFT:
            return None
        return subtract_working_days(deadline.anchor_on, 3, country)
    if deadline.kind == DeadlineKind.RECEIPT_CONFIRMATION:
        return add_working_days(deadline.anchor_on, 1, deadline.route.facility)
    if deadline.kind == DeadlineKind.COMPLETION_CERTIFICATE:
        return deadline.anchor_on + dt.timedelta(days=CERTIFICATE_AFTER_DAYS)
    return None


def _most_recent_overdue(deadlines: list[Deadline], count: int) -> list[Deadline]:
    chosen: list[Deadline] = []
    for kind in (DeadlineKind.RECEIPT_CONFIRMATION, DeadlineKind.PRE_SHIPMENT_INFORMATION):
        overdue = [d for d in deadlines if d.kind == kind and d.status == DeadlineStatus.OVERDUE]
        chosen += sorted(overdue, key=lambda d: d.anchor_on)[-1:]
    return chosen[:count]


def _writer(organisation: Organisation) -> User:
    membership = (
        Membership.objects.filter(organisation=organisation, role__in=[Role.ADMIN, Role.MEMBER])
        .select_related("user")
        .order_by("id")
        .first()
    )
    if membership is None:
        raise LookupError(f"{organisation.name} has no writing member to record its acts")
    return membership.user
