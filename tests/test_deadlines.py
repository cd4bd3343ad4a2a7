"""The deadline engine, its rules per route, the acts that meet deadlines and the reminders."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal

import pytest
import time_machine
from django.core import mail
from django.core.management import call_command
from django.db import IntegrityError, transaction
from django.test import Client
from django.utils import timezone, translation

from factories import (
    World,
    consent_everything,
    draft_consignment,
    in_transit_consignment,
    make_member,
    make_notification,
    make_organisation,
    make_world,
    notified_consignment,
    race,
    received_consignment,
)
from oneforone.accounts.models import OrganisationKind, Role
from oneforone.accounts.permissions import NotAllowed
from oneforone.accounts.queries import system_user
from oneforone.core.models import AuditEvent
from oneforone.recycling import actions as recycling_actions
from oneforone.recycling.models import FacilityDecision, Reception
from oneforone.shipments import actions as shipment_actions
from oneforone.shipments import deadline_actions as actions
from oneforone.shipments.custody import CustodyError
from oneforone.shipments.deadline_actions import DeadlineError
from oneforone.shipments.deadline_models import (
    DeadlineAct,
    DeadlineKind,
    DeadlineReminder,
    DeadlineRule,
    ReminderStage,
)
from oneforone.shipments.deadline_rules import DEFAULT_RULES, ensure_deadline_rules
from oneforone.shipments.deadlines import (
    Deadline,
    compute_deadlines,
    consignment_key,
    deadlines_for,
)
from oneforone.shipments.models import (
    ChangeKind,
    ChangeRequest,
    Consent,
    Consignment,
    Decision,
    FinancialGuarantee,
    Notification,
)

pytestmark = pytest.mark.django_db

D = dt.date
K = DeadlineKind


@contextmanager
def on(day: dt.date, hour: int = 10) -> Iterator[None]:
    """Run what follows on `day` (UTC), the clock still ticking."""
    with time_machine.travel(dt.datetime(day.year, day.month, day.day, hour, tzinfo=dt.UTC)):
        yield


def deadlines_of(
    today: dt.date,
    consignment: Consignment | None = None,
    notification: Notification | None = None,
) -> dict[str, Deadline]:
    found = compute_deadlines(
        today=today,
        consignments=Consignment.objects.filter(pk=consignment.pk if consignment else None),
        notifications=Notification.objects.filter(pk=notification.pk if notification else None),
    )
    return {d.kind: d for d in found}


def received_under(world: World, notification: Notification) -> Consignment:
    """A consignment dispatched under the notification (consented through the actions when it
    has no consents yet), picked up and received in full, all through the actions."""
    consignment = notified_consignment(world, notification)
    consignment = shipment_actions.sign_dispatch(
        actor=world.hub_user, consignment=consignment, container_number="MSCU1234565"
    )
    consignment = shipment_actions.sign_pickup(
        actor=world.carrier_user, consignment=consignment, vehicle="GR-1"
    )
    assert consignment.phones_dispatched is not None
    recycling_actions.record_reception(
        actor=world.recycler_user,
        consignment=consignment,
        counted_phones=consignment.phones_dispatched,
        net_weight_kg=consignment.phones_dispatched * Decimal("0.055"),
    )
    consignment.refresh_from_db()
    return consignment


# Rules ---------------------------------------------------------------------------------------------


def test_the_shipped_rules_are_seeded_once_each_with_its_legal_source() -> None:
    assert DeadlineRule.objects.count() == len(DEFAULT_RULES)
    assert ensure_deadline_rules() == 0
    assert set(DeadlineRule.objects.values_list("kind", flat=True)) == set(K.values)
    for rule in DeadlineRule.objects.all():
        assert rule.legal_source.startswith(
            "Regulation (EU) 2024/1157 on shipments of waste, Art. "
        )
        assert rule.legal_source.endswith("paragraph and period not verified]")
    pre = DeadlineRule.objects.get(kind=K.PRE_SHIPMENT_INFORMATION)
    assert "Art. 16 (Requirements following consent to a shipment)" in pre.legal_source
    assert "Art. 22" in DeadlineRule.objects.get(kind=K.TAKE_BACK).legal_source
    assert pre.describe() == "2 working days before (country of export)"
    with translation.override("nl"):
        assert pre.describe() == "2 werkdagen voor (land van uitvoer)"
    pre.period, pre.unit = 1, "calendar_days"
    with translation.override("fr"):
        assert pre.describe() == "1 jour calendaire avant"


def test_a_rule_must_name_its_legal_source() -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        DeadlineRule.objects.create(
            kind=K.TAKE_BACK, period=60, unit="calendar_days", direction="after",
            calendar="export", export_country="NG", legal_source="",
        )  # fmt: skip


def test_a_rule_country_must_be_iso() -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        DeadlineRule.objects.create(
            kind=K.TAKE_BACK, period=60, unit="calendar_days", direction="after",
            calendar="export", export_country="gh", legal_source="x",
        )  # fmt: skip


def test_the_most_specific_rule_for_the_route_wins(world: World) -> None:
    with on(D(2026, 12, 7)):  # Monday
        ghana = received_consignment(world)
    DeadlineRule.objects.create(
        kind=K.RECEIPT_CONFIRMATION, period=5, unit="working_days", direction="after",
        calendar="import", export_country="GH", import_country="BE", legal_source="bilateral test",
    )  # fmt: skip
    assert deadlines_of(D(2026, 12, 7), ghana)[K.RECEIPT_CONFIRMATION].due_on == D(2026, 12, 14)
    # A rule naming only the export country is less specific than the GH->BE one.
    DeadlineRule.objects.create(
        kind=K.RECEIPT_CONFIRMATION, period=1, unit="working_days", direction="after",
        calendar="import", export_country="GH", legal_source="export only",
    )  # fmt: skip
    chosen = deadlines_of(D(2026, 12, 7), ghana)[K.RECEIPT_CONFIRMATION]
    assert chosen.rule.legal_source == "bilateral test"
    # A rule that only starts later does not apply to an earlier anchor.
    DeadlineRule.objects.filter(legal_source="bilateral test").update(valid_from=D(2027, 1, 1))
    chosen = deadlines_of(D(2026, 12, 7), ghana)[K.RECEIPT_CONFIRMATION]
    assert chosen.rule.legal_source == "export only"
    assert chosen.due_on == D(2026, 12, 8)


def test_an_interim_facility_confirms_receipt_in_two_working_days(world: World) -> None:
    with on(D(2026, 12, 24)):  # Thursday; BE: 25 Christmas, then a weekend
        final = received_under(world, make_notification(world, operation_code="R4"))
        interim = received_under(world, make_notification(world, operation_code="R13"))
    final_receipt = deadlines_of(D(2026, 12, 24), final)[K.RECEIPT_CONFIRMATION]
    interim_receipt = deadlines_of(D(2026, 12, 24), interim)[K.RECEIPT_CONFIRMATION]
    assert final_receipt.due_on == D(2026, 12, 30)  # 28, 29, 30
    assert final_receipt.calendar_country == "BE"
    assert interim_receipt.due_on == D(2026, 12, 29)
    assert interim_receipt.rule.operations == "R12 R13"


# Each kind from the records ----------------------------------------------------------------------------


def test_pre_shipment_information_before_the_planned_departure(world: World) -> None:
    with on(D(2026, 12, 1)):
        consignment = draft_consignment(world)
        assert deadlines_of(D(2026, 12, 1), consignment) == {}  # no departure planned yet
        actions.plan_departure(
            actor=world.hub_user, consignment=consignment, departure_on=D(2026, 12, 10)
        )
    pre = deadlines_of(D(2026, 12, 1), consignment)[K.PRE_SHIPMENT_INFORMATION]
    # Two Ghanaian working days before Thursday 10 December.
    assert (pre.due_on, pre.status, pre.calendar_country) == (D(2026, 12, 8), "due", "GH")
    assert pre.anchor == "planned departure 2026-12-10"
    assert pre.responsible == world.collection_partner
    assert deadlines_of(D(2026, 12, 9), consignment)[K.PRE_SHIPMENT_INFORMATION].status == "overdue"
    with on(D(2026, 12, 9)):
        actions.record_deadline_met(
            actor=world.hub_user,
            kind=K.PRE_SHIPMENT_INFORMATION,
            subject_key=consignment_key(consignment.pk),
            done_on=D(2026, 12, 7),
            note="sent to EPA Ghana and OVAM",
        )
    met = deadlines_of(D(2026, 12, 9), consignment)[K.PRE_SHIPMENT_INFORMATION]
    assert (met.status, met.met_on, met.met_late) == ("met", D(2026, 12, 7), False)


def test_after_dispatch_the_signature_date_is_the_departure(world: World) -> None:
    with on(D(2026, 12, 1)):
        consignment = draft_consignment(world)
        actions.plan_departure(
            actor=world.hub_user, consignment=consignment, departure_on=D(2026, 12, 10)
        )
    with on(D(2026, 12, 3)):  # it left a week early
        consignment = shipment_actions.sign_dispatch(actor=world.hub_user, consignment=consignment)
    pre = deadlines_of(D(2026, 12, 3), consignment)[K.PRE_SHIPMENT_INFORMATION]
    assert pre.anchor == "dispatched 2026-12-03"
    assert (pre.due_on, pre.status) == (D(2026, 12, 1), "overdue")


def test_planning_a_departure_is_the_hubs_for_a_draft_in_the_future(world: World) -> None:
    with on(D(2026, 12, 1)):
        consignment = draft_consignment(world)
        with pytest.raises(NotAllowed):
            actions.plan_departure(
                actor=world.carrier_user, consignment=consignment, departure_on=D(2026, 12, 10)
            )
        with pytest.raises(CustodyError, match="in the past; choose today or later"):
            actions.plan_departure(
                actor=world.hub_user, consignment=consignment, departure_on=D(2026, 11, 30)
            )
        actions.plan_departure(
            actor=world.hub_user, consignment=consignment, departure_on=D(2026, 12, 10)
        )
        assert (
            AuditEvent.objects.filter(code="shipments.consignment.departure_planned").count() == 1
        )
        dispatched = in_transit_consignment(world)
        with pytest.raises(CustodyError, match="this step needs it to be draft"):
            actions.plan_departure(
                actor=world.hub_user, consignment=dispatched, departure_on=D(2026, 12, 10)
            )


def test_receipt_and_certificates_from_reception_and_treatment(world: World) -> None:
    with on(D(2026, 12, 8)):  # Tuesday, the day before the battery code change
        # The notification names a battery code that ends on 2026-12-08: deadlines do not care.
        consignment = received_under(world, make_notification(world, ewc_code="16 06 01*"))
    found = deadlines_of(D(2026, 12, 8), consignment)
    receipt = found[K.RECEIPT_CONFIRMATION]
    assert (receipt.due_on, receipt.calendar_country) == (D(2026, 12, 11), "BE")  # 9, 10, 11
    assert receipt.responsible == world.recycler
    outer = found[K.COMPLETION_CERTIFICATE_OUTER]
    assert (outer.due_on, outer.calendar_country) == (D(2027, 12, 8), "")
    assert K.COMPLETION_CERTIFICATE not in found
    with on(D(2026, 12, 15)):
        recycling_actions.complete_treatment(
            actor=world.recycler_user, consignment=consignment, completed_on=D(2026, 12, 14)
        )
    found = deadlines_of(D(2026, 12, 15), consignment)
    assert found[K.COMPLETION_CERTIFICATE].due_on == D(2027, 1, 13)  # 30 calendar days
    assert found[K.RECEIPT_CONFIRMATION].status == "overdue"
    with on(D(2026, 12, 20)):
        actions.record_deadline_met(
            actor=world.recycler_user,
            kind=K.COMPLETION_CERTIFICATE,
            subject_key=consignment_key(consignment.pk),
            done_on=D(2026, 12, 20),
        )
    found = deadlines_of(D(2026, 12, 20), consignment)
    # One certificate meets both limits.
    assert found[K.COMPLETION_CERTIFICATE].status == "met"
    assert found[K.COMPLETION_CERTIFICATE_OUTER].status == "met"


def test_take_back_after_a_refusal(world: World) -> None:
    with on(D(2026, 12, 2)):
        consignment = in_transit_consignment(world)
        # The facility's refusal is recorded by the reception (another part builds its action).
        Reception.objects.create(
            consignment=consignment,
            counted_phones=100,
            net_weight_kg=Decimal("5.5"),
            received_at=timezone.now(),
            recorded_by=world.recycler_user,
            decision=FacilityDecision.REFUSED,
            refusal_reason="not the notified waste",
        )
    take_back = deadlines_of(D(2026, 12, 2), consignment)[K.TAKE_BACK]
    assert take_back.due_on == D(2027, 3, 2)  # 90 days
    assert take_back.responsible == world.collection_partner
    assert take_back.anchor == "refused 2026-12-02"


def _consent(notification: Notification, world: World, **fields: object) -> Consent:
    values: dict[str, object] = {
        "notification": notification,
        "route_stop": notification.route.get(sequence=1),
        "decision": Decision.CONSENT,
        "decided_on": D(2026, 1, 10),
        "valid_from": D(2026, 1, 10),
        "valid_to": D(2027, 1, 9),
        "recorded_by": world.operator_user,
        "recorded_at": timezone.now(),
    }
    values.update(fields)
    return Consent.objects.create(**values)


def test_consent_expiry_warns_thirty_days_ahead_and_reads_the_latest_decision(
    world: World,
) -> None:
    notification = make_notification(world)
    _consent(notification, world, valid_to=D(2026, 12, 31))
    newer = _consent(notification, world, valid_to=D(2027, 1, 9))
    _consent(
        notification,
        world,
        route_stop=notification.route.get(sequence=2),
        decision=Decision.OBJECTION,
        valid_from=None,
        valid_to=None,
    )
    expiries = [
        d
        for d in compute_deadlines(
            today=D(2026, 12, 15),
            consignments=Consignment.objects.none(),
            notifications=Notification.objects.filter(pk=notification.pk),
        )
        if d.kind == K.CONSENT_EXPIRY
    ]
    assert [(d.subject_key, d.due_on, d.status) for d in expiries] == [
        (f"consent:{newer.pk}", D(2026, 12, 10), "overdue")
    ]


def test_consent_expiry_is_met_once_every_shipment_has_left(world: World) -> None:
    notification = make_notification(world, intended_shipments=1, shipment_type="single")
    consent_everything(world, notification, valid_to=D(2027, 1, 9))
    assert deadlines_of(D(2026, 12, 15), notification=notification)[K.CONSENT_EXPIRY].status == (
        "overdue"
    )
    with on(D(2026, 12, 2)):
        received_under(world, notification)
    assert deadlines_of(D(2026, 12, 15), notification=notification)[K.CONSENT_EXPIRY].status == (
        "met"
    )


def test_guarantee_expiry_until_released(world: World) -> None:
    notification = make_notification(world)
    guarantee = FinancialGuarantee.objects.create(
        reference="G-1", guarantor="Bank", amount=Decimal("50000"), currency="EUR",
        valid_from=D(2026, 1, 1), valid_to=D(2027, 1, 31), recorded_by=world.operator_user,
        recorded_at=timezone.now(),
    )  # fmt: skip
    guarantee.notifications.add(notification, make_notification(world))
    expiry = deadlines_of(D(2026, 12, 15), notification=notification)[K.GUARANTEE_EXPIRY]
    assert (expiry.subject_key, expiry.due_on, expiry.status) == (
        f"g:{guarantee.pk}",
        D(2027, 1, 1),
        "due",
    )
    FinancialGuarantee.objects.filter(pk=guarantee.pk).update(released_on=D(2026, 12, 20))
    expiry = deadlines_of(D(2027, 2, 1), notification=notification)[K.GUARANTEE_EXPIRY]
    assert (expiry.status, expiry.met_on) == ("met", D(2026, 12, 20))


def test_change_answer_within_five_ghanaian_working_days(world: World) -> None:
    notification = make_notification(world)
    change = ChangeRequest.objects.create(
        notification=notification, kind=ChangeKind.CARRIER, description="new shipping line",
        requested_by=world.hub_user,
        requested_at=dt.datetime(2026, 12, 18, 9, tzinfo=dt.UTC),  # a Friday
    )  # fmt: skip
    answer = deadlines_of(D(2026, 12, 18), notification=notification)[K.CHANGE_ANSWER]
    # 21, 22, 23, 24, then Christmas, Boxing Day and a weekend: 28 December.
    assert (answer.due_on, answer.calendar_country, answer.status) == (D(2026, 12, 28), "GH", "due")
    ChangeRequest.objects.filter(pk=change.pk).update(
        answer="accepted", answered_on=D(2026, 12, 29)
    )
    answer = deadlines_of(D(2026, 12, 30), notification=notification)[K.CHANGE_ANSWER]
    assert (answer.status, answer.met_late) == ("met", True)


# Acts ---------------------------------------------------------------------------------------------


def test_only_the_responsible_organisation_or_the_operator_records_an_act(world: World) -> None:
    with on(D(2026, 12, 8)):
        consignment = received_consignment(world)
        key = consignment_key(consignment.pk)
        with pytest.raises(NotAllowed):
            actions.record_deadline_met(
                actor=world.carrier_user, kind=K.RECEIPT_CONFIRMATION, subject_key=key,
                done_on=D(2026, 12, 8),
            )  # fmt: skip
        with pytest.raises(NotAllowed):
            actions.record_deadline_met(
                actor=make_member(world.recycler, role=Role.VIEWER),
                kind=K.RECEIPT_CONFIRMATION, subject_key=key, done_on=D(2026, 12, 8),
            )  # fmt: skip
        with pytest.raises(DeadlineError, match="in the future"):
            actions.record_deadline_met(
                actor=world.recycler_user, kind=K.RECEIPT_CONFIRMATION, subject_key=key,
                done_on=D(2026, 12, 9),
            )  # fmt: skip
        with pytest.raises(DeadlineError, match="no such deadline"):
            actions.record_deadline_met(
                actor=world.recycler_user, kind=K.COMPLETION_CERTIFICATE, subject_key=key,
                done_on=D(2026, 12, 8),
            )  # fmt: skip
        actions.record_deadline_met(
            actor=world.operator_user, kind=K.RECEIPT_CONFIRMATION, subject_key=key,
            done_on=D(2026, 12, 8),
        )  # fmt: skip
        with pytest.raises(DeadlineError, match="already met"):
            actions.record_deadline_met(
                actor=world.recycler_user, kind=K.RECEIPT_CONFIRMATION, subject_key=key,
                done_on=D(2026, 12, 8),
            )  # fmt: skip
    assert AuditEvent.objects.filter(code="shipments.deadline.met").count() == 1


def test_acts_are_append_only(world: World) -> None:
    with on(D(2026, 12, 8)):
        consignment = received_consignment(world)
        act = actions.record_deadline_met(
            actor=world.recycler_user, kind=K.RECEIPT_CONFIRMATION,
            subject_key=consignment_key(consignment.pk), done_on=D(2026, 12, 8),
        )  # fmt: skip
    with pytest.raises(IntegrityError, match="append-only"), transaction.atomic():
        DeadlineAct.objects.filter(pk=act.pk).update(done_on=D(2026, 12, 1))
    with pytest.raises(IntegrityError, match="append-only"), transaction.atomic():
        DeadlineAct.objects.filter(pk=act.pk).delete()
    with pytest.raises(IntegrityError), transaction.atomic():
        DeadlineAct.objects.create(
            kind=K.TAKE_BACK, subject_key="c:0", done_on=D(2026, 12, 1),
            organisation=world.recycler, recorded_by=world.recycler_user,
            recorded_at=timezone.now(),
        )  # fmt: skip


# Reminders ------------------------------------------------------------------------------------------


def _with_addresses(world: World) -> None:
    """Members give e-mail addresses when invited; the factory's members have none."""
    for user in (world.hub_user, world.recycler_user, world.carrier_user, world.operator_user):
        user.email = f"{user.username}@example.org"
        user.save(update_fields=["email"])


def _overdue_receipt(world: World) -> Consignment:
    """Received on Tuesday 8 December (receipt confirmation due Friday 11 in BE), its pre-shipment
    information sent in time."""
    with on(D(2026, 12, 8)):
        consignment = received_consignment(world)
        actions.record_deadline_met(
            actor=world.hub_user,
            kind=K.PRE_SHIPMENT_INFORMATION,
            subject_key=consignment_key(consignment.pk),
            done_on=D(2026, 12, 3),
        )
    return consignment


def test_reminders_go_to_the_responsible_members_and_the_operator_once(
    world: World, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    _with_addresses(world)
    consignment = _overdue_receipt(world)
    with on(D(2026, 12, 14)), django_capture_on_commit_callbacks(execute=True):
        assert actions.send_deadline_reminders(actor=system_user(), today=D(2026, 12, 14)) == 1
    [email] = mail.outbox
    assert "confirmation of receipt overdue" in email.subject
    assert consignment.reference in email.subject
    assert set(email.to) == {world.recycler_user.email, world.operator_user.email}
    assert "Legal source: Regulation (EU) 2024/1157" in email.body
    assert "public holidays of BE" in email.body
    with on(D(2026, 12, 15)), django_capture_on_commit_callbacks(execute=True):
        assert actions.send_deadline_reminders(actor=system_user(), today=D(2026, 12, 15)) == 0
    assert len(mail.outbox) == 1
    reminder = DeadlineReminder.objects.get()
    assert (reminder.stage, reminder.due_on) == (ReminderStage.OVERDUE, D(2026, 12, 11))


def test_due_soon_then_overdue_then_nothing_once_met(
    world: World, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    _with_addresses(world)
    _overdue_receipt(world)
    for today, sent in ((D(2026, 12, 8), 1), (D(2026, 12, 9), 0), (D(2026, 12, 12), 1)):
        with on(today), django_capture_on_commit_callbacks(execute=True):
            assert actions.send_deadline_reminders(actor=system_user(), today=today) == sent
    assert list(DeadlineReminder.objects.values_list("stage", flat=True)) == [
        "due_soon",
        "overdue",
    ]
    assert len(mail.outbox) == 2


def test_reminders_are_for_the_operator_or_the_system(world: World) -> None:
    with pytest.raises(NotAllowed):
        actions.send_deadline_reminders(actor=world.hub_user, today=D(2026, 12, 14))
    assert actions.send_deadline_reminders(actor=world.operator_user, today=D(2026, 12, 14)) == 0


def test_the_command_sends_the_reminders(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    _overdue_receipt(world)
    call_command("send_deadline_reminders", "--today", "2026-12-14")
    assert "1 deadline reminder(s) sent for 2026-12-14" in capsys.readouterr().out


@pytest.mark.django_db(transaction=True)
def test_two_workers_send_each_reminder_once() -> None:
    world = make_world()
    _with_addresses(world)
    for _ in range(3):
        _overdue_receipt(world)
    outcomes = race(
        {
            name: lambda: actions.send_deadline_reminders(
                actor=system_user(), today=D(2026, 12, 14)
            )
            for name in ("first", "second")
        }
    )
    assert sorted(outcomes.values()) == [0, 3], outcomes
    assert DeadlineReminder.objects.count() == 3
    assert len(mail.outbox) == 3  # the winner's task sent one e-mail per reminder


# Reading ------------------------------------------------------------------------------------------


def test_the_deadlines_of_many_consignments_take_a_fixed_number_of_queries(
    world: World, django_assert_max_num_queries
) -> None:  # type: ignore[no-untyped-def]
    notification = make_notification(world, intended_shipments=6)
    consent_everything(world, notification, valid_to=D(2027, 1, 9))
    with on(D(2026, 12, 8)):
        received = [received_under(world, notification) for _ in range(6)]
        draft = draft_consignment(world)
        actions.plan_departure(actor=world.hub_user, consignment=draft, departure_on=D(2027, 1, 5))
    with django_assert_max_num_queries(11):
        found = deadlines_for(world.operator, today=D(2026, 12, 14))
    # Each received one: pre-shipment information, receipt, outer certificate limit; the draft's
    # pre-shipment information; the expiry of each of the 3 authorities' consents. (The draft's
    # notification adds its own consent and guarantee expiries.)
    ours = {f"c:{c.pk}" for c in [*received, draft]} | {
        f"consent:{consent.pk}" for consent in notification.consents.all()
    }
    assert len([d for d in found if d.subject_key in ours]) == 6 * 3 + 1 + 3
    assert [d.status for d in found][:12] == ["overdue"] * 12  # overdue first
    assert found[-1].status == "met"


def test_each_party_sees_its_own_movements_only(world: World) -> None:
    with on(D(2026, 12, 8)):
        received_consignment(world)
    other = make_organisation(OrganisationKind.COLLECTION_PARTNER, country="NG")
    kinds_seen = {
        org: {d.kind for d in deadlines_for(org, today=D(2026, 12, 14))}
        for org in (world.operator, world.collection_partner, world.carrier, world.recycler, other)
    }
    assert kinds_seen[world.recycler] == {
        K.PRE_SHIPMENT_INFORMATION,
        K.RECEIPT_CONFIRMATION,
        K.COMPLETION_CERTIFICATE_OUTER,
        # The notification it moved under: its consents and its guarantee run out.
        K.CONSENT_EXPIRY,
        K.GUARANTEE_EXPIRY,
    }
    assert kinds_seen[world.operator] == kinds_seen[world.recycler]
    assert kinds_seen[world.carrier] == kinds_seen[world.recycler]
    assert kinds_seen[other] == set()
    assert deadlines_for(world.partner, today=D(2026, 12, 14)) == []


# The page -------------------------------------------------------------------------------------------


def _client(user: object) -> Client:
    client = Client()
    client.force_login(user)  # type: ignore[arg-type]
    return client


def test_the_page_lists_overdue_first_with_rule_source_and_calendar(world: World) -> None:
    with on(D(2026, 12, 8)):
        received = received_consignment(world)
        draft = draft_consignment(world)
        actions.plan_departure(actor=world.hub_user, consignment=draft, departure_on=D(2027, 1, 5))
    with on(D(2026, 12, 14)):
        page = _client(world.operator_user).get("/shipments/deadlines/")
        text = page.content.decode()
        assert page.status_code == 200
        assert text.index("received 2026-12-08") < text.index("planned departure 2027-01-05")
        assert f"/shipments/{received.reference}/" in text
        assert "3 working days after (the facility&#x27;s country)" in text
        assert "calendar BE" in text
        assert "calendar GH" in text
        assert "Regulation (EU) 2024/1157" in text
        receipts = _client(world.operator_user).get(
            "/shipments/deadlines/", {"kind": K.RECEIPT_CONFIRMATION}
        )
        assert received.reference in receipts.content.decode()
        assert draft.reference not in receipts.content.decode()
        by_country = _client(world.operator_user).get("/shipments/deadlines/", {"country": "ng"})
        assert "Nothing open here" in by_country.content.decode()
        assert _client(world.partner_admin).get("/shipments/deadlines/").status_code == 403
        carrier_page = _client(world.carrier_user).get("/shipments/deadlines/").content.decode()
        assert received.reference in carrier_page
        assert "Mark met" not in carrier_page


def test_marking_a_deadline_met_on_the_page(world: World) -> None:
    with on(D(2026, 12, 8)):
        received = received_consignment(world)
    with on(D(2026, 12, 9)):
        client = _client(world.recycler_user)
        listing = client.get("/shipments/deadlines/").content.decode()
        assert listing.count("Mark met") == 2  # receipt and the outer certificate limit
        response = client.post(
            "/shipments/deadlines/met/",
            {
                "kind": K.RECEIPT_CONFIRMATION,
                "subject_key": consignment_key(received.pk),
                "done_on": "2026-12-09",
                "note": "DIWASS entry 42",
            },
            follow=True,
        )
        assert (
            "Confirmation of receipt recorded as done on 2026-12-09." in response.content.decode()
        )
        again = client.post(
            "/shipments/deadlines/met/",
            {
                "kind": K.RECEIPT_CONFIRMATION,
                "subject_key": consignment_key(received.pk),
                "done_on": "2026-12-09",
            },
            follow=True,
        )
        assert "Nothing was recorded. Confirmation of receipt for consignment" in (
            again.content.decode()
        )
        carrier = _client(world.carrier_user).post(
            "/shipments/deadlines/met/",
            {
                "kind": K.COMPLETION_CERTIFICATE,
                "subject_key": consignment_key(received.pk),
                "done_on": "2026-12-09",
            },
            follow=True,
        )
        assert "Nothing was recorded." in carrier.content.decode()
    assert DeadlineAct.objects.get().note == "DIWASS entry 42"
    with on(D(2026, 12, 9)):
        met = client.get("/shipments/deadlines/", {"status": "met"}).content.decode()
        assert "met 9 Dec 2026" in met
        assert "met 9 Dec 2026" not in client.get("/shipments/deadlines/").content.decode()


def test_the_hub_plans_a_departure_on_the_page(world: World) -> None:
    with on(D(2026, 12, 1)):
        draft = draft_consignment(world)
        client = _client(world.hub_user)
        assert "Plan departures" in client.get("/shipments/deadlines/").content.decode()
        assert "Plan departures" not in (
            _client(world.operator_user).get("/shipments/deadlines/").content.decode()
        )
        past = client.post(
            "/shipments/deadlines/departure/",
            {"reference": draft.reference, "departure_on": "2026-11-30"},
            follow=True,
        )
        assert "Nothing was planned. The planned departure 2026-11-30 is in the past" in (
            past.content.decode()
        )
        planned = client.post(
            "/shipments/deadlines/departure/",
            {"reference": draft.reference, "departure_on": "2026-12-10"},
            follow=True,
        ).content.decode()
        assert f"{draft.reference} leaves on 2026-12-10" in planned
        assert "planned departure 2026-12-10" in planned
        other = make_organisation(OrganisationKind.COLLECTION_PARTNER, country="NG")
        stranger = _client(make_member(other)).post(
            "/shipments/deadlines/departure/",
            {"reference": draft.reference, "departure_on": "2026-12-11"},
        )
        assert stranger.status_code == 404
    draft.refresh_from_db()
    assert draft.planned_departure == D(2026, 12, 10)


# The demo -------------------------------------------------------------------------------------------


def test_the_demo_plans_departures_and_records_the_history_leaving_the_latest_overdue(
    world: World,
) -> None:
    from oneforone import demo_deadlines

    with on(D(2026, 11, 2)):
        older = received_consignment(world)
    with on(D(2026, 11, 16)):
        newer = received_consignment(world)
    with on(D(2026, 12, 1)):
        draft = draft_consignment(world)
        made = demo_deadlines.load(today=D(2026, 12, 1))
    draft.refresh_from_db()
    # Five Ghanaian working days on: 2, 3, (Farmers' Day 4), 7, 8, 9 December.
    assert draft.planned_departure == D(2026, 12, 9)
    # Older: information 3 working days before dispatch, receipt a day after arrival; newer:
    # receipt left overdue; the newer's pre-shipment information is the latest overdue one.
    assert made == 2
    pre = DeadlineAct.objects.get(kind=K.PRE_SHIPMENT_INFORMATION)
    assert (pre.consignment, pre.done_on) == (older, D(2026, 10, 28))
    receipt = DeadlineAct.objects.get(kind=K.RECEIPT_CONFIRMATION)
    assert (receipt.consignment, receipt.done_on) == (older, D(2026, 11, 3))
    open_now = {
        (d.kind, d.consignment)
        for d in deadlines_for(world.operator, today=D(2026, 12, 1))
        if d.status == "overdue"
    }
    assert open_now == {(K.PRE_SHIPMENT_INFORMATION, newer), (K.RECEIPT_CONFIRMATION, newer)}


def test_each_reader_gets_the_reminder_in_their_language(
    world: World, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    _with_addresses(world)
    world.recycler_user.language = "fr"
    world.recycler_user.save(update_fields=["language"])
    consignment = _overdue_receipt(world)
    with on(D(2026, 12, 14)), django_capture_on_commit_callbacks(execute=True):
        assert actions.send_deadline_reminders(actor=system_user(), today=D(2026, 12, 14)) == 1

    by_reader = {tuple(email.to): email for email in mail.outbox}
    french = by_reader[(world.recycler_user.email,)]
    english = by_reader[(world.operator_user.email,)]
    assert consignment.reference in french.subject
    assert "Source juridique" in french.body
    assert "Legal source: Regulation (EU) 2024/1157" in english.body
    # The record of the reminder keeps the service's language and every recipient.
    reminder = DeadlineReminder.objects.get()
    assert reminder.email_body == english.body
    assert set(reminder.recipients) == {world.recycler_user.email, world.operator_user.email}
