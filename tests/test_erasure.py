"""Erasure: the person is gone from every column of every table, while every count, payment and
lot stays exactly as it was under the collector's code."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.db.models import Count, Sum
from django.utils import timezone

from factories import World, record_intake, register_person, seal_lot
from oneforone.accounts.permissions import NotAllowed
from oneforone.collection import people_actions
from oneforone.collection.models import (
    Collector,
    CollectorIdentity,
    Incident,
    IncidentFollowUp,
    Intake,
    Lot,
    Payment,
    PaymentMethod,
    PersonalDataAccess,
)
from oneforone.collection.people_actions import ERASED, PeopleError

pytestmark = pytest.mark.django_db

NAME = "Efua Quartey-Erasable"
PHONE = "+233 27 555 0188"
WALLET = "0275550177"
# What must not be found anywhere, as written and as bare digits.
NEEDLES = (NAME, "Efua", "Quartey", PHONE, "275550188", WALLET, "275550177")
TEXT_TYPES = ("text", "character varying", "character", "json", "jsonb")


def columns_holding(needle: str) -> list[str]:
    """Every text, varchar and JSON column of every table, searched for the needle (also with
    anything but digits taken out, for numbers written with spaces or dashes)."""
    found = []
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT table_name, column_name FROM information_schema.columns"
            " JOIN information_schema.tables USING (table_schema, table_name)"
            " WHERE table_schema = 'public' AND table_type = 'BASE TABLE'"
            " AND data_type = ANY(%s)",
            [list(TEXT_TYPES)],
        )
        columns = cursor.fetchall()
        assert len(columns) > 50  # the whole schema, not a handful of tables
        for table, column in columns:
            cursor.execute(
                f'SELECT count(*) FROM "{table}" WHERE "{column}"::text ILIKE %s'
                f' OR regexp_replace("{column}"::text, %s, %s, %s) LIKE %s',
                [f"%{needle}%", r"\D", "", "g", f"%{needle}%" if needle.isdigit() else "-"],
            )
            if cursor.fetchone()[0]:
                found.append(f"{table}.{column}")
    return found


def totals(collector: Collector) -> dict[str, object]:
    intakes = Intake.objects.filter(collector=collector).aggregate(
        n=Count("id"), phones=Sum("phones"), kg=Sum("net_weight_kg"), paid=Sum("amount_paid")
    )
    payments = dict(
        Payment.objects.filter(collector=collector)
        .values("currency")
        .annotate(total=Sum("amount"))
        .values_list("currency", "total")
    )
    lots = list(Lot.objects.order_by("id").values_list("seal_number", "phones", "net_weight_kg"))
    return {"intakes": intakes, "payments": payments, "lots": lots}


@pytest.fixture
def erasable(world: World) -> Collector:
    """A collector with a purchase history, a sealed lot, payments, safe-work records and
    incidents whose texts name them."""
    collector = register_person(
        world.hub, world.hub_user, name=NAME, phone=PHONE, mobile_money=WALLET
    )
    day = timezone.localdate() - dt.timedelta(days=20)
    first = record_intake(
        world,
        phones=120,
        collector=collector,
        collected_on=day,
        paid_with=PaymentMethod.MOBILE_MONEY,
        payment_reference="MM-TX-88231",
    )
    second = record_intake(
        world, phones=80, collector=collector, collected_on=day, paid_with=PaymentMethod.CASH
    )
    record_intake(world, phones=40, collector=collector, collected_on=day + dt.timedelta(days=1))
    seal_lot(world, [first, second])
    people_actions.record_training(
        actor=world.hub_user,
        collector=collector,
        topic="battery_removal",
        trained_on=day,
        trainer="Hub lead",
    )
    incident = people_actions.report_incident(
        actor=world.hub_user,
        hub=world.hub,
        collector=collector,
        kind="injury",
        occurred_on=day,
        description="Efua cut her thumb on a cracked screen",
    )
    people_actions.follow_up_incident(
        actor=world.hub_user, incident=incident, note="Called 027 555 0188: healing well"
    )
    people_actions.follow_up_incident(
        actor=world.hub_user, incident=incident, note="Gloves replaced.", closes=True
    )
    people_actions.reveal_identity(actor=world.operator_user, collector=collector, reason="check")
    return collector


def test_after_erasure_no_personal_field_remains_anywhere(
    world: World, erasable: Collector
) -> None:
    ciphertexts = list(
        CollectorIdentity.objects.filter(collector=erasable).values_list(
            "name_encrypted", "phone_encrypted", "mobile_money_encrypted"
        )[0]
    )
    assert columns_holding("Efua")  # the search does find the person before

    people_actions.erase_collector(
        actor=world.operator_user, collector=erasable, reason="collector asked to be forgotten"
    )

    for needle in NEEDLES:
        assert columns_holding(needle) == [], needle
    for token in ciphertexts:
        assert columns_holding(token) == []
    assert not CollectorIdentity.objects.filter(collector=erasable).exists()


def test_erasure_keeps_every_count_payment_and_lot(world: World, erasable: Collector) -> None:
    before = totals(erasable)
    assert before["payments"] == {"GHS": Decimal("100.0000")}
    people_actions.erase_collector(actor=world.hub_user, collector=erasable, reason="left the hub")
    erasable.refresh_from_db()
    assert totals(erasable) == before
    assert erasable.code
    assert erasable.erased_at is not None
    assert not erasable.active
    assert erasable.trainings.count() == 1


def test_erasure_scrubs_only_texts_that_could_name_the_person(
    world: World, erasable: Collector
) -> None:
    scrubbed = people_actions.erase_collector(
        actor=world.hub_user, collector=erasable, reason="left the hub"
    )
    assert scrubbed == 2
    incident = Incident.objects.get(collector=erasable)
    assert incident.description == ERASED
    assert incident.closed_at is not None
    notes = list(IncidentFollowUp.objects.order_by("at", "id").values_list("note", flat=True))
    assert notes == [ERASED, "Gloves replaced."]


def test_erasure_is_logged_and_once_erased_nobody_sees_or_erases_again(
    world: World, erasable: Collector
) -> None:
    people_actions.erase_collector(actor=world.hub_user, collector=erasable, reason="left")
    assert PersonalDataAccess.objects.filter(collector=erasable, purpose="erase").count() == 1
    erasable.refresh_from_db()
    for action in (
        people_actions.reveal_identity,
        people_actions.export_collector,
        people_actions.erase_collector,
    ):
        with pytest.raises(PeopleError, match="erased"):
            action(actor=world.operator_user, collector=erasable, reason="again")
    with pytest.raises(PeopleError, match="erased"):
        people_actions.set_collector_active(actor=world.hub_user, collector=erasable, active=True)


def test_operator_erases_only_with_a_reason_and_a_brand_never(
    world: World, erasable: Collector
) -> None:
    with pytest.raises(NotAllowed, match="reason"):
        people_actions.erase_collector(actor=world.operator_user, collector=erasable, reason="")
    with pytest.raises(NotAllowed):
        people_actions.erase_collector(actor=world.partner_admin, collector=erasable, reason="x")
    assert CollectorIdentity.objects.filter(collector=erasable).exists()
