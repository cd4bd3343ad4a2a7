"""Safe work: training, equipment, the code of conduct and incidents per collector, and the
shares the collection partner and the operator see."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import IntegrityError
from django.utils import timezone

from factories import World, make_collector, make_hub, make_member, make_organisation
from oneforone.accounts.models import OrganisationKind
from oneforone.accounts.permissions import NotAllowed
from oneforone.collection import people_actions, people_queries
from oneforone.collection.models import Collector, IncidentFollowUp
from oneforone.collection.people_actions import PeopleError
from oneforone.collection.people_queries import CURRENT_CONDUCT_VERSION

pytestmark = pytest.mark.django_db


def day() -> dt.date:
    return timezone.localdate() - dt.timedelta(days=10)


def train(world: World, collector: Collector, *topics: str) -> None:
    for topic in topics:
        people_actions.record_training(
            actor=world.hub_user, collector=collector, topic=topic, trained_on=day(), trainer="T"
        )


def equip(world: World, collector: Collector, *items: str) -> None:
    for item in items:
        people_actions.issue_equipment(
            actor=world.hub_user, collector=collector, item=item, issued_on=day()
        )


def test_trained_means_both_safe_handling_and_battery_removal(world: World) -> None:
    partly, fully = make_collector(world.hub), make_collector(world.hub)
    train(world, partly, "safe_handling", "first_aid")
    train(world, fully, "safe_handling", "battery_removal")
    trained = dict(
        people_queries.with_safe_work(Collector.objects.all()).values_list("code", "trained")  # type: ignore[misc]
    )
    assert trained == {world.collector.code: False, partly.code: False, fully.code: True}


def test_equipped_means_gloves_and_goggles(world: World) -> None:
    equip(world, world.collector, "gloves", "mask")
    row = people_queries.safe_work_per_hub(world.collection_partner)[0]
    assert row.equipped == 0
    equip(world, world.collector, "goggles")
    row = people_queries.safe_work_per_hub(world.collection_partner)[0]
    assert (row.active, row.equipped, row.equipped_share) == (1, 1, Decimal("100.0"))


def test_shares_count_active_collectors_only(world: World) -> None:
    second, third, gone = (make_collector(world.hub) for _ in range(3))
    for collector in (world.collector, gone):
        train(world, collector, "safe_handling", "battery_removal")
    people_actions.set_collector_active(actor=world.hub_user, collector=gone, active=False)
    people_actions.acknowledge_conduct(
        actor=world.hub_user,
        collector=second,
        version=CURRENT_CONDUCT_VERSION,
        acknowledged_on=day(),
    )
    people_actions.acknowledge_conduct(
        actor=world.hub_user, collector=third, version="0.9-old", acknowledged_on=day()
    )
    row = people_queries.safe_work_per_hub(world.collection_partner)[0]
    assert (row.active, row.trained, row.acknowledged) == (3, 1, 1)
    assert row.trained_share == Decimal("33.3")


def test_a_hub_without_collectors_shows_no_share_rather_than_zero(world: World) -> None:
    make_hub(world.collection_partner)
    rows = people_queries.safe_work_per_hub(world.collection_partner)
    empty = [row for row in rows if row.active == 0]
    assert len(empty) == 1
    assert empty[0].trained_share is None


def test_an_incident_is_open_until_a_closing_follow_up(world: World) -> None:
    incident = people_actions.report_incident(
        actor=world.hub_user,
        hub=world.hub,
        collector=world.collector,
        kind="fire",
        occurred_on=day(),
        description="A swollen battery smoked in the sorting tray.",
    )
    people_actions.follow_up_incident(
        actor=world.hub_user, incident=incident, note="Sand bucket placed at the bench."
    )
    assert people_queries.safe_work_per_hub(world.collection_partner)[0].open_incidents == 1
    people_actions.follow_up_incident(
        actor=world.hub_user, incident=incident, note="Battery box issued.", closes=True
    )
    incident.refresh_from_db()
    assert incident.closed_at is not None
    assert people_queries.safe_work_per_hub(world.collection_partner)[0].open_incidents == 0
    with pytest.raises(PeopleError, match="closed"):
        people_actions.follow_up_incident(actor=world.hub_user, incident=incident, note="more")
    assert IncidentFollowUp.objects.filter(incident=incident).count() == 2


def test_the_operator_sees_every_partner_per_country(world: World) -> None:
    other = make_organisation(OrganisationKind.COLLECTION_PARTNER, country="CM")
    for _ in range(2):
        make_collector(make_hub(other, country="CM", currency="XAF"))
    make_collector(make_hub(other, country="NG", currency="NGN"))
    rows = {(r.label, r.country): r.active for r in people_queries.safe_work_per_partner()}
    assert rows[(other.name, "CM")] == 2
    assert rows[(other.name, "NG")] == 1
    assert rows[(world.collection_partner.name, "GH")] == 1


def test_safe_work_figures_take_a_fixed_number_of_queries(
    world: World, django_assert_num_queries: pytest.FixtureRequest
) -> None:
    for _ in range(5):
        collector = make_collector(world.hub)
        train(world, collector, "safe_handling", "battery_removal")
        equip(world, collector, "gloves", "goggles")
    with django_assert_num_queries(3):  # type: ignore[operator]
        people_queries.safe_work_per_partner()


def test_the_same_conduct_version_is_acknowledged_once(world: World) -> None:
    people_actions.acknowledge_conduct(
        actor=world.hub_user, collector=world.collector, version="2.0", acknowledged_on=day()
    )
    with pytest.raises(PeopleError, match="already"):
        people_actions.acknowledge_conduct(
            actor=world.hub_user, collector=world.collector, version="2.0", acknowledged_on=day()
        )


def test_the_database_refuses_a_second_acknowledgement_of_a_version(world: World) -> None:
    from oneforone.collection.models import ConductAcknowledgement

    fields = {
        "collector": world.collector,
        "version": "2.0",
        "acknowledged_on": day(),
        "recorded_by": world.hub_user,
        "recorded_at": timezone.now(),
    }
    ConductAcknowledgement.objects.create(**fields)
    with pytest.raises(IntegrityError):
        ConductAcknowledgement.objects.create(**fields)


def test_records_are_refused_for_the_future_and_for_other_organisations(world: World) -> None:
    with pytest.raises(PeopleError, match="future"):
        people_actions.record_training(
            actor=world.hub_user,
            collector=world.collector,
            topic="first_aid",
            trained_on=timezone.localdate() + dt.timedelta(days=1),
            trainer="T",
        )
    outsider = make_member(make_organisation(OrganisationKind.COLLECTION_PARTNER))
    with pytest.raises(NotAllowed):
        people_actions.issue_equipment(
            actor=outsider, collector=world.collector, item="gloves", issued_on=day()
        )
    with pytest.raises(NotAllowed):
        people_actions.report_incident(
            actor=world.partner_admin,
            hub=world.hub,
            kind="theft",
            occurred_on=day(),
            description="Bag stolen.",
        )
