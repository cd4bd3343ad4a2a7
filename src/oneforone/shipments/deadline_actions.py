"""Writes about deadlines: planning a departure, recording the act that meets a deadline, and
sending the reminders (at most one per deadline and stage)."""

from __future__ import annotations

import datetime as dt
import json

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext, ngettext

from oneforone.accounts.models import Membership, Organisation, OrganisationKind, Role, User
from oneforone.accounts.permissions import NotAllowed, require_member, require_operator
from oneforone.accounts.queries import SYSTEM_USERNAME
from oneforone.core import audit
from oneforone.shipments import custody
from oneforone.shipments.custody import CustodyError
from oneforone.shipments.deadline_models import DeadlineAct, ReminderStage
from oneforone.shipments.deadlines import (
    DUE_SOON_DAYS,
    Deadline,
    DeadlineStatus,
    compute_deadlines,
    find_deadline,
)
from oneforone.shipments.models import Consignment, ConsignmentState, Notification


class DeadlineError(ValueError):
    """A deadline act that cannot be recorded; the message says what to do."""


@transaction.atomic
def plan_departure(*, actor: User, consignment: Consignment, departure_on: dt.date) -> Consignment:
    """The hub states when a consignment it is packing will leave; the pre-shipment information
    is due two working days before (by the route's rule)."""
    consignment = custody.lock(consignment)
    require_member(actor, consignment.origin_hub.organisation)
    custody.require_state(consignment, ConsignmentState.DRAFT)
    if departure_on < timezone.localdate():
        raise CustodyError(
            gettext("the planned departure %(departure_on)s is in the past; choose today or later")
            % {"departure_on": format(departure_on, "%Y-%m-%d")}
        )
    previous = consignment.planned_departure
    consignment.planned_departure = departure_on
    consignment.save(update_fields=["planned_departure"])
    audit.record(
        actor=actor,
        code="shipments.consignment.departure_planned",
        obj=consignment,
        organisation=consignment.origin_hub.organisation,
        data={
            "reference": consignment.reference,
            "planned_departure": departure_on,
            "previous": previous,
        },
    )
    return consignment


def _is_operator_staff(actor: User) -> bool:
    try:
        require_operator(actor)
    except NotAllowed:
        return False
    return True


def _require_responsible(actor: User, deadline: Deadline) -> None:
    """Operator staff, or a writing member of the organisation the deadline falls to."""
    if not _is_operator_staff(actor):
        require_member(actor, deadline.responsible)


@transaction.atomic
def record_deadline_met(
    *, actor: User, kind: str, subject_key: str, done_on: dt.date, note: str = ""
) -> DeadlineAct:
    """Record the act that meets a deadline (e.g. the pre-shipment information was sent)."""
    today = timezone.localdate()
    if done_on > today:
        raise DeadlineError(
            gettext("%(done_on)s is in the future; record the act once it is done")
            % {"done_on": format(done_on, "%Y-%m-%d")}
        )
    deadline = find_deadline(kind, subject_key, today=today)
    if deadline is None:
        raise DeadlineError(
            gettext(
                "there is no such deadline on record; reload the deadlines page and choose it again"
            )
        )
    _require_responsible(actor, deadline)
    subject = deadline.consignment or deadline.notification
    assert subject is not None
    # One recorder at a time per subject, so two clicks cannot both record the act.
    type(subject).objects.select_for_update().filter(pk=subject.pk).first()
    if (
        deadline.status == DeadlineStatus.MET
        or DeadlineAct.objects.filter(kind=deadline.act_kind, subject_key=subject_key).exists()
    ):
        raise DeadlineError(
            (
                gettext("%(kind)s for %(subject)s is already met (%(met_on)s); nothing to record")
                if deadline.met_on
                else gettext("%(kind)s for %(subject)s is already met; nothing to record")
            )
            % {
                "kind": deadline.kind_label.lower(),
                "subject": deadline.subject,
                "met_on": f"{deadline.met_on:%Y-%m-%d}" if deadline.met_on else "",
            }
        )
    act = DeadlineAct.objects.create(
        kind=deadline.act_kind,
        subject_key=subject_key,
        consignment=deadline.consignment,
        notification=deadline.notification,
        done_on=done_on,
        note=note.strip()[:300],
        organisation=deadline.responsible,
        recorded_by=actor,
        recorded_at=timezone.now(),
    )
    audit.record(
        actor=actor,
        code="shipments.deadline.met",
        obj=act,
        organisation=deadline.responsible,
        data={
            "kind": act.kind,
            "subject": subject_key,
            "due_on": deadline.due_on,
            "done_on": done_on,
            "late": done_on > deadline.due_on,
        },
    )
    return act


def _stage(deadline: Deadline, today: dt.date) -> str | None:
    if deadline.status == DeadlineStatus.OVERDUE:
        return ReminderStage.OVERDUE
    if deadline.status == DeadlineStatus.DUE and deadline.days_left(today) <= DUE_SOON_DAYS:
        return ReminderStage.DUE_SOON
    return None


def _addresses(organisations: list[Organisation]) -> dict[int, list[tuple[str, str]]]:
    """Writing members' e-mail addresses per organisation, each with the language its person
    reads e-mails in."""
    addresses: dict[int, list[tuple[str, str]]] = {org.pk: [] for org in organisations}
    for organisation_id, email, language in (
        Membership.objects.filter(organisation__in=organisations)
        .exclude(user__email="")
        .exclude(role=Role.VIEWER)
        .filter(user__is_active=True)
        .order_by("user__email")
        .values_list("organisation_id", "user__email", "user__language")
    ):
        addresses[organisation_id].append((email, language or settings.LANGUAGE_CODE))
    return addresses


def _by_language(recipients: set[tuple[str, str]]) -> dict[str, list[str]]:
    """The recipients' addresses grouped by the language each reads, addresses sorted."""
    groups: dict[str, list[str]] = {}
    for email, language in sorted(recipients):
        groups.setdefault(language, []).append(email)
    return groups


def _email(deadline: Deadline, stage: str, today: dt.date) -> tuple[str, str]:
    """The reminder's subject and body in the active language."""
    days = abs(deadline.days_left(today))
    due_on = f"{deadline.due_on:%Y-%m-%d}"
    if stage == ReminderStage.OVERDUE:
        when = ngettext(
            "was due on %(date)s (%(days)s day ago)",
            "was due on %(date)s (%(days)s days ago)",
            days,
        ) % {"date": due_on, "days": days}
        stage_label = gettext("overdue")
    else:
        when = ngettext(
            "is due on %(date)s (in %(days)s day)", "is due on %(date)s (in %(days)s days)", days
        ) % {"date": due_on, "days": days}
        stage_label = gettext("due soon")
    calendar = (
        gettext("Working days counted on the public holidays of %(country)s.")
        % {"country": deadline.calendar_country}
        + "\n"
        if deadline.calendar_country
        else ""
    )
    page = settings.PUBLIC_BASE_URL.rstrip("/") + "/shipments/deadlines/"
    subject = f"oneforone: {str(deadline.kind_label).lower()} {stage_label} ({deadline.subject})"
    body = (
        gettext("%(kind)s for %(subject)s %(when)s.")
        % {"kind": deadline.kind_label, "subject": deadline.subject, "when": when}
        + "\n\n"
        + gettext("Rule: %(rule)s %(anchor)s.")
        % {"rule": deadline.rule.describe(), "anchor": deadline.anchor}
        + "\n"
        + gettext("Legal source: %(source)s.") % {"source": deadline.rule.legal_source}
        + "\n"
        + calendar
        + "\n"
        + gettext("Once it is done, mark it met on the deadlines page so the reminders stop:")
        + f"\n{page}\n"
    )
    return subject, body


def _claim(deadline: Deadline, stage: str, recipients: list[str], subject: str, body: str) -> bool:
    """Insert the reminder row unless one exists; False when another run already sent it."""
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO shipments_deadlinereminder"
            " (kind, subject_key, stage, due_on, recipients, email_subject, email_body, sent_at)"
            " VALUES (%s, %s, %s, %s, %s::jsonb, %s, %s, %s)"
            " ON CONFLICT (kind, subject_key, stage) DO NOTHING RETURNING id",
            [
                deadline.kind,
                deadline.subject_key,
                stage,
                deadline.due_on,
                json.dumps(recipients),
                subject,
                body,
                timezone.now(),
            ],
        )
        return cursor.fetchone() is not None


@transaction.atomic
def send_deadline_reminders(*, actor: User, today: dt.date) -> int:
    """E-mail the responsible organisation's members and the operator about every deadline due
    within DUE_SOON_DAYS or overdue; each (deadline, stage) at most once. Returns how many."""
    if actor.username != SYSTEM_USERNAME:
        require_operator(actor)
    deadlines = compute_deadlines(
        today=today,
        consignments=Consignment.objects.all(),
        notifications=Notification.objects.all(),
        include_met=False,
    )
    staged = [(d, stage) for d in deadlines if (stage := _stage(d, today)) is not None]
    operators = list(Organisation.objects.filter(kind=OrganisationKind.OPERATOR))
    responsible = {d.responsible.pk: d.responsible for d, _ in staged}
    addresses = _addresses([*operators, *responsible.values()])
    operator_addresses = {a for org in operators for a in addresses[org.pk]}
    sent = 0
    messages: list[tuple[str, str, list[str]]] = []
    for deadline, stage in staged:
        readers = _by_language(set(addresses[deadline.responsible.pk]) | operator_addresses)
        recipients = sorted(email for emails in readers.values() for email in emails)
        # The record keeps the service's language; each reader gets the e-mail in theirs.
        with translation.override(settings.LANGUAGE_CODE):
            subject, body = _email(deadline, stage, today)
        if _claim(deadline, stage, recipients, subject, body):
            sent += 1
            for language, emails in readers.items():
                with translation.override(language):
                    messages.append((*_email(deadline, stage, today), emails))
    audit.record(
        actor=actor,
        code="shipments.deadline.reminders_sent",
        data={"today": today, "reminders": sent, "emails": len(messages)},
    )
    if messages:
        transaction.on_commit(lambda: _enqueue(messages))
    return sent


def _enqueue(messages: list[tuple[str, str, list[str]]]) -> None:
    from oneforone.shipments.deadline_tasks import email_deadline_reminders

    email_deadline_reminders.enqueue([[subject, body, to] for subject, body, to in messages])
