"""A consent-expiry warning asks the notifier to file the next notification in time; filing it
meets the warning, so yesterday's notifications do not sit overdue on the deadlines page."""

from __future__ import annotations

import datetime as dt

import pytest

from factories import World, consent_everything, make_notification
from oneforone.shipments.deadline_models import DeadlineKind
from oneforone.shipments.deadlines import compute_deadlines
from oneforone.shipments.models import Consignment, Notification, Stream

pytestmark = pytest.mark.django_db

D = dt.date


def consented(notification: Notification, world: World) -> Notification:
    return consent_everything(world, notification)


def consent_expiry_status(
    notification: Notification, today: dt.date
) -> set[tuple[str, dt.date | None]]:
    """(status, met on) of the consent-expiry warnings, one per authority on the route."""
    return {
        (str(d.status), d.met_on)
        for d in compute_deadlines(
            today=today,
            consignments=Consignment.objects.none(),
            notifications=Notification.objects.filter(pk=notification.pk),
        )
        if d.kind == DeadlineKind.CONSENT_EXPIRY
    }


def test_filing_the_next_notification_before_the_consent_ends_meets_the_warning(
    world: World,
) -> None:
    year_one = make_notification(
        world, first_departure=D(2025, 5, 26), last_departure=D(2026, 5, 25)
    )
    consented(year_one, world)
    assert consent_expiry_status(year_one, D(2026, 11, 29)) == {("overdue", None)}

    make_notification(
        world,
        first_departure=D(2026, 5, 26),
        last_departure=D(2027, 5, 25),
        notified_on=D(2026, 3, 2),
    )

    assert consent_expiry_status(year_one, D(2026, 11, 29)) == {("met", D(2026, 3, 2))}


def test_a_next_notification_filed_after_the_consent_ended_leaves_the_warning_overdue(
    world: World,
) -> None:
    year_one = make_notification(
        world, first_departure=D(2025, 5, 26), last_departure=D(2026, 5, 25)
    )
    consented(year_one, world)
    make_notification(
        world,
        first_departure=D(2026, 7, 1),
        last_departure=D(2027, 6, 30),
        notified_on=D(2026, 6, 10),
    )

    assert consent_expiry_status(year_one, D(2026, 11, 29)) == {("overdue", None)}


def test_a_notification_of_another_stream_is_not_a_successor(world: World) -> None:
    year_one = make_notification(
        world, first_departure=D(2025, 5, 26), last_departure=D(2026, 5, 25)
    )
    consented(year_one, world)
    make_notification(
        world,
        stream=Stream.BATTERIES,
        first_departure=D(2026, 5, 26),
        last_departure=D(2027, 5, 25),
        notified_on=D(2026, 3, 2),
    )

    assert consent_expiry_status(year_one, D(2026, 11, 29)) == {("overdue", None)}
