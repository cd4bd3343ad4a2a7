"""Notifications, consents and the dispatch gate: each condition alone refuses a dispatch with its
own message; all met, the dispatch goes through; concurrent dispatches cannot both pass a ceiling."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from collections.abc import Callable
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone, translation

from factories import (
    World,
    make_organisation,
    make_world,
    next_number,
    notification_blocks,
    race,
    record_intake,
    seal_lot,
)
from oneforone.accounts.models import OrganisationKind
from oneforone.accounts.permissions import NotAllowed
from oneforone.core.models import AuditEvent
from oneforone.shipments import actions as shipment_actions
from oneforone.shipments import notification_actions as notices
from oneforone.shipments.compliance import DispatchRefused, dispatch_refusals, gate_conditions
from oneforone.shipments.custody import CustodyError
from oneforone.shipments.models import (
    ChangeAnswer,
    Consent,
    Consignment,
    ConsignmentState,
    Notification,
    Stream,
)
from oneforone.shipments.notification_actions import NotificationError, StopBlock

TODAY = timezone.localdate()


def gated_notification(
    world: World, *, skip: frozenset[str] = frozenset(), **overrides: object
) -> Notification:
    """A notification of 2 shipments and 100 kg, departures from 30 days ago to 30 days on;
    consents, contract and guarantee valid wider (60 days either side), so that each condition
    can fail alone. `skip` leaves out the contract or the guarantee."""
    today = timezone.localdate()
    fields: dict[str, object] = {
        "intended_shipments": 2,
        "total_quantity_kg": Decimal("100"),
        "first_departure": today - dt.timedelta(days=30),
        "last_departure": today + dt.timedelta(days=30),
    }
    fields.update(overrides)
    actor = world.hub_user
    notification = notices.create_notification(
        actor=actor, blocks=notification_blocks(world, **fields)
    )
    wide_from, wide_to = today - dt.timedelta(days=60), today + dt.timedelta(days=60)
    notices.acknowledge_notification(
        actor=actor, notification=notification, acknowledged_on=today - dt.timedelta(days=100)
    )
    for stop in notification.route.all():
        notices.record_consent(
            actor=actor,
            notification=notification,
            route_stop=stop,
            decision="consent",
            decided_on=today - dt.timedelta(days=90),
            valid_from=wide_from,
            valid_to=wide_to,
        )
    if "contract" not in skip:
        notices.record_contract(
            actor=actor,
            notification=notification,
            reference=f"CTR-{next_number()}",
            signed_on=today - dt.timedelta(days=100),
            valid_from=wide_from,
            valid_to=wide_to,
        )
    if "guarantee" not in skip:
        notices.record_guarantee(
            actor=actor,
            reference=f"GUA-{next_number()}",
            guarantor="Assurance SA",
            amount=Decimal("50000.00"),
            currency="EUR",
            valid_from=wide_from,
            valid_to=wide_to,
            notifications=[notification],
        )
    notification.refresh_from_db()
    return notification


def draft_under(
    world: World, notification: Notification | None, *, carrier: object = None
) -> Consignment:
    """A draft of 100 phones (5.5 kg) under the notification."""
    lot = seal_lot(world, [record_intake(world, phones=60), record_intake(world, phones=40)])
    return shipment_actions.create_consignment(
        actor=world.hub_user,
        reference=f"CONS-{next_number():06d}",
        hub=world.hub,
        lots=[lot],
        carrier=carrier or world.carrier,  # type: ignore[arg-type]
        recycler=world.recycler,
        notification=notification,
    )


def dispatch(world: World, consignment: Consignment, on: dt.date | None = None) -> Consignment:
    return shipment_actions.sign_dispatch(
        actor=world.hub_user, consignment=consignment, departure_on=on
    )


# Each breaker takes a world and a notification meeting every condition, breaks ONE condition,
# and returns the consignment, its departure and the refusal expected (a regular expression).
Broken = tuple[Consignment, dt.date, str]


def no_notification(world: World, notification: Notification) -> Broken:
    return draft_under(world, None), timezone.localdate(), "is under no notification"


def other_stream(world: World, notification: Notification) -> Broken:
    consignment = draft_under(world, notification)
    # The action refuses a mismatch; a row written around it is still stopped at the gate.
    Consignment.objects.filter(pk=consignment.pk).update(
        stream=Stream.BATTERIES,
        un_number="UN3480",
        dangerous_goods_class="9",
        packing_instruction="P909",
    )
    return consignment, timezone.localdate(), "covers Discarded phones .* carries Batteries"


def consent_missing(world: World, notification: Notification) -> Broken:
    export, destination = notification_blocks(world).route
    transit = StopBlock("transit", "NL", "ILT", "Rotterdam", "Rotterdam")
    stops = [dataclasses.asdict(stop) for stop in (export, transit, destination)]
    change = notices.request_change(
        actor=world.hub_user,
        notification=notification,
        kind="route",
        description="transhipment in Rotterdam",
        proposed={"route": stops},
    )
    notices.answer_change(
        actor=world.hub_user, change=change, answer="accepted", answered_on=timezone.localdate()
    )
    return (
        draft_under(world, notification),
        timezone.localdate(),
        r"no decision yet from ILT \(NL, state of transit\)",
    )


def objection(world: World, notification: Notification) -> Broken:
    stop = notification.route.get(country="BE")
    notices.record_consent(
        actor=world.hub_user,
        notification=notification,
        route_stop=stop,
        decision="objection",
        decided_on=timezone.localdate(),
    )
    return (
        draft_under(world, notification),
        timezone.localdate(),
        rf"OVAM \(Flanders\) \(BE, state of import\) objected on {timezone.localdate()}",
    )


def consent_expired(world: World, notification: Notification) -> Broken:
    today = timezone.localdate()
    notices.record_consent(
        actor=world.hub_user,
        notification=notification,
        route_stop=notification.route.get(country="GH"),
        decision="conditions",
        conditions="Sealed containers only",
        decided_on=today,
        valid_from=today - dt.timedelta(days=60),
        valid_to=today - dt.timedelta(days=1),
    )
    return (
        draft_under(world, notification),
        today,
        rf"departure on {today} is outside the consent of Environmental Protection Agency, "
        rf"Ghana \(GH, state of export\), valid {today - dt.timedelta(days=60)} to "
        rf"{today - dt.timedelta(days=1)}",
    )


def after_last_departure(world: World, notification: Notification) -> Broken:
    day = notification.last_departure + dt.timedelta(days=1)
    return (
        draft_under(world, notification),
        day,
        rf"departure on {day} is outside the notified period, first departure "
        rf"{notification.first_departure} to last departure {notification.last_departure}",
    )


def no_contract(world: World, notification: Notification) -> Broken:
    bare = gated_notification(world, skip=frozenset({"contract"}))
    return draft_under(world, bare), timezone.localdate(), "no contract between .* is in force"


def no_guarantee(world: World, notification: Notification) -> Broken:
    bare = gated_notification(world, skip=frozenset({"guarantee"}))
    return (
        draft_under(world, bare),
        timezone.localdate(),
        f"no financial guarantee covering notification {bare.number} is effective",
    )


def guarantee_released(world: World, notification: Notification) -> Broken:
    guarantee = notification.guarantees.get()
    notices.release_guarantee(
        actor=world.hub_user, guarantee=guarantee, released_on=timezone.localdate()
    )
    return (
        draft_under(world, notification),
        timezone.localdate(),
        rf"effective on .* \(guarantee {guarantee.reference} was released\)",
    )


def shipments_ceiling(world: World, notification: Notification) -> Broken:
    for _ in range(2):
        dispatch(world, draft_under(world, notification))
    return (
        draft_under(world, notification),
        timezone.localdate(),
        "shipment ceiling is reached: 2 of 2 shipments",
    )


def quantity_ceiling(world: World, notification: Notification) -> Broken:
    dispatch(world, draft_under(world, notification))
    change = notices.request_change(
        actor=world.hub_user,
        notification=notification,
        kind="quantity",
        description="less than planned",
        proposed={"total_quantity_kg": "10"},
    )
    notices.answer_change(
        actor=world.hub_user, change=change, answer="accepted", answered_on=timezone.localdate()
    )
    return (
        draft_under(world, notification),
        timezone.localdate(),
        r"5\.500 kg shipped already \+ 5\.500 kg in this consignment = 11\.000 kg, more than "
        r"the 10\.000 kg notified",
    )


def unanswered_change(world: World, notification: Notification) -> Broken:
    notices.request_change(
        actor=world.hub_user,
        notification=notification,
        kind="dates",
        description="later last departure",
        proposed={"last_departure": str(notification.last_departure + dt.timedelta(days=10))},
    )
    return (
        draft_under(world, notification),
        timezone.localdate(),
        "awaits the authorities' answer: dates",
    )


def carrier_not_notified(world: World, notification: Notification) -> Broken:
    other = make_organisation(OrganisationKind.CARRIER, name="Unnamed Freight")
    return (
        draft_under(world, notification, carrier=other),
        timezone.localdate(),
        "carrier Unnamed Freight is not named in notification",
    )


BREAKERS: list[Callable[[World, Notification], Broken]] = [
    no_notification,
    other_stream,
    consent_missing,
    objection,
    consent_expired,
    after_last_departure,
    no_contract,
    no_guarantee,
    guarantee_released,
    shipments_ceiling,
    quantity_ceiling,
    unanswered_change,
    carrier_not_notified,
]


@pytest.mark.parametrize("breaker", BREAKERS, ids=lambda b: b.__name__)
def test_each_failing_condition_alone_refuses_dispatch_with_its_own_message(
    world: World, breaker: Callable[[World, Notification], Broken]
) -> None:
    notification = gated_notification(world)
    consignment, departure_on, expected = breaker(world, notification)

    with pytest.raises(DispatchRefused) as refused:
        dispatch(world, consignment, departure_on)

    assert len(refused.value.refusals) == 1, refused.value.refusals
    consignment.refresh_from_db()
    assert refused.value.refusals == dispatch_refusals(consignment, departure_on=departure_on)
    assert re.search(expected, refused.value.refusals[0]), refused.value.refusals[0]
    consignment.refresh_from_db()
    assert consignment.state == ConsignmentState.DRAFT
    assert not consignment.signatures.exists()


def test_the_gate_refuses_in_the_language_of_the_person_dispatching(world: World) -> None:
    notification = gated_notification(world)
    consignment, departure_on, _ = quantity_ceiling(world, notification)

    with translation.override("fr"), pytest.raises(DispatchRefused) as refused:
        dispatch(world, consignment, departure_on)

    [refusal] = refused.value.refusals
    assert refusal.startswith(
        "le plafond de quantité serait dépassé : 5,500 kg déjà expédiés + 5,500 kg dans cet "
        "envoi = 11,000 kg, plus que les 10,000 kg notifiés"
    )


def test_every_condition_met_lets_the_consignment_go(world: World) -> None:
    notification = gated_notification(world)
    consignment = draft_under(world, notification)
    conditions = gate_conditions(consignment, departure_on=timezone.localdate())
    assert all(condition.met for condition in conditions)
    assert {c.name for c in conditions} >= {
        "Contract notifier-consignee in force",
        "Financial guarantee effective",
        "Shipments: 0 of 2 dispatched",
    }

    dispatched = dispatch(world, consignment)

    assert dispatched.state == ConsignmentState.DISPATCHED
    # The second one fits too (2 of 2, 11 kg of 100), on the last notified day.
    dispatch(world, draft_under(world, notification), notification.last_departure)


def test_several_failures_are_all_named(world: World) -> None:
    notification = gated_notification(world, skip=frozenset({"contract", "guarantee"}))
    consignment = draft_under(world, notification)
    with pytest.raises(CustodyError) as refused:
        dispatch(world, consignment)
    assert "no contract" in str(refused.value)
    assert "no financial guarantee" in str(refused.value)


@pytest.mark.django_db(transaction=True)
def test_two_dispatches_at_the_ceiling_cannot_both_pass() -> None:
    world = make_world()
    notification = gated_notification(world, intended_shipments=3)
    dispatch(world, draft_under(world, notification))
    dispatch(world, draft_under(world, notification))
    first, second = draft_under(world, notification), draft_under(world, notification)

    outcomes = race(
        {
            "first": lambda: dispatch(world, first),
            "second": lambda: dispatch(world, second),
        }
    )

    refused = [o for o in outcomes.values() if isinstance(o, DispatchRefused)]
    passed = [o for o in outcomes.values() if isinstance(o, Consignment)]
    assert len(passed) == 1, outcomes
    assert len(refused) == 1, outcomes
    assert "3 of 3 shipments" in str(refused[0])
    assert notification.consignments.exclude(state=ConsignmentState.DRAFT).count() == 3


# --- the notification itself ---------------------------------------------------------------


def test_a_code_outside_its_validity_is_refused_naming_its_replacement(world: World) -> None:
    with pytest.raises(NotificationError, match=r"A1180 .* use A1181 instead"):
        notices.create_notification(
            actor=world.hub_user,
            blocks=notification_blocks(world, notified_on=dt.date(2025, 3, 1), basel_code="A1180"),
        )
    with pytest.raises(NotificationError, match=r"16 06 05 .* use 16 06 07\* for lithium"):
        notices.create_notification(
            actor=world.hub_user,
            blocks=notification_blocks(
                world,
                stream=Stream.BATTERIES,
                notified_on=dt.date(2026, 12, 9),
                basel_code="A1170",
                ewc_code="16 06 05",
                hs_code="8549.12",
                un_number="UN3480",
            ),
        )
    assert not Notification.objects.exists()


def test_every_wrong_code_is_named_at_once(world: World) -> None:
    with pytest.raises(NotificationError) as refused:
        notices.create_notification(
            actor=world.hub_user,
            blocks=notification_blocks(world, operation_code="R14", packaging_types=("12",)),
        )
    assert "R14 is not in the Recovery" in str(refused.value)
    assert "12 is not in the Packaging" in str(refused.value)


def test_number_is_stored_as_issued_and_checked_against_the_country_pattern(
    world: World,
) -> None:
    with pytest.raises(NotificationError, match=r"GH-2026-1 does not look like one issued in GH"):
        notices.create_notification(
            actor=world.hub_user, blocks=notification_blocks(world, number="GH-2026-1")
        )
    stored = notices.create_notification(
        actor=world.hub_user, blocks=notification_blocks(world, number="GH0000001234")
    )
    assert stored.number == "GH0000001234"
    assert [s.country for s in stored.route.all()] == ["GH", "BE"]
    assert AuditEvent.objects.filter(code="shipments.notification.created").count() == 1


def test_only_operator_or_notifier_members_write_notifications(world: World) -> None:
    with pytest.raises(NotAllowed, match="only operator staff or the notifier"):
        notices.create_notification(actor=world.carrier_user, blocks=notification_blocks(world))
    notification = notices.create_notification(
        actor=world.operator_user, blocks=notification_blocks(world)
    )
    with pytest.raises(NotAllowed):
        notices.record_contract(
            actor=world.partner_admin,
            notification=notification,
            reference="X",
            signed_on=timezone.localdate(),
            valid_from=timezone.localdate(),
            valid_to=timezone.localdate(),
        )


def test_route_must_run_from_export_through_transit_to_import(world: World) -> None:
    with pytest.raises(NotificationError, match="starts with the country of export"):
        notices.create_notification(
            actor=world.hub_user,
            blocks=notification_blocks(
                world, route=(StopBlock("import", "BE", "OVAM"), StopBlock("export", "GH", "EPA"))
            ),
        )


# --- tacit consent -------------------------------------------------------------------------


def transit_notification(world: World, acknowledged_days_ago: int | None) -> Notification:
    route = (
        StopBlock("export", "CM", "MINEPDED", "", "Port of Douala"),
        StopBlock("transit", "MA", "Ministère de la Transition Énergétique", "Tanger Med"),
        StopBlock("transit", "ES", "MITECO", "Algeciras", "Algeciras"),
        StopBlock("import", "BE", "OVAM (Flanders)", "Antwerp"),
    )
    notification = notices.create_notification(
        actor=world.hub_user,
        blocks=notification_blocks(world, number=f"CM{next_number():010d}", route=route),
    )
    if acknowledged_days_ago is not None:
        notification = notices.acknowledge_notification(
            actor=world.hub_user,
            notification=notification,
            acknowledged_on=timezone.localdate() - dt.timedelta(days=acknowledged_days_ago),
        )
    return notification


def test_tacit_consent_after_30_days_in_the_eu_and_60_outside(world: World) -> None:
    notification = transit_notification(world, acknowledged_days_ago=40)
    acknowledged = notification.acknowledged_on
    assert acknowledged is not None
    spain, morocco = notification.route.get(country="ES"), notification.route.get(country="MA")

    consent = notices.record_tacit_consent(
        actor=world.hub_user, notification=notification, route_stop=spain
    )
    assert consent.decision == "tacit"
    assert consent.valid_from == acknowledged + dt.timedelta(days=30)

    possible = acknowledged + dt.timedelta(days=60)
    with pytest.raises(
        NotificationError, match=rf"possible from {possible}, 60 days after .*Basel Convention"
    ):
        notices.record_tacit_consent(
            actor=world.hub_user, notification=notification, route_stop=morocco
        )
    with pytest.raises(NotificationError, match="only a written consent counts"):
        notices.record_tacit_consent(
            actor=world.hub_user,
            notification=notification,
            route_stop=notification.route.get(country="BE"),
        )
    with pytest.raises(NotificationError, match="decided already"):
        notices.record_tacit_consent(
            actor=world.hub_user, notification=notification, route_stop=spain
        )


def test_tacit_consent_needs_the_acknowledgement_first(world: World) -> None:
    notification = transit_notification(world, acknowledged_days_ago=None)
    with pytest.raises(NotificationError, match="record the acknowledgement first"):
        notices.record_tacit_consent(
            actor=world.hub_user,
            notification=notification,
            route_stop=notification.route.get(country="ES"),
        )


# --- consents are append-only --------------------------------------------------------------


def test_consents_are_append_only_and_the_latest_decision_counts(world: World) -> None:
    notification = gated_notification(world)
    consent = notification.consents.first()
    assert consent is not None
    with pytest.raises(IntegrityError, match="append-only"), transaction.atomic():
        Consent.objects.filter(pk=consent.pk).update(decision="objection")
    with pytest.raises(IntegrityError, match="append-only"), transaction.atomic():
        Consent.objects.filter(pk=consent.pk).delete()

    consignment = draft_under(world, notification)
    stop = consent.route_stop
    notices.record_consent(
        actor=world.hub_user,
        notification=notification,
        route_stop=stop,
        decision="objection",
        decided_on=timezone.localdate(),
    )
    assert any("objected" in r for r in dispatch_refusals(consignment, departure_on=TODAY))
    notices.record_consent(
        actor=world.hub_user,
        notification=notification,
        route_stop=stop,
        decision="consent",
        decided_on=timezone.localdate(),
        valid_from=timezone.localdate(),
        valid_to=timezone.localdate() + dt.timedelta(days=10),
    )
    assert dispatch(world, consignment).state == ConsignmentState.DISPATCHED
    assert notification.consents.filter(route_stop=stop).count() == 3


def test_a_consent_row_for_another_notifications_stop_is_refused(world: World) -> None:
    first, second = gated_notification(world), gated_notification(world)
    stop = second.route.first()
    assert stop is not None
    with pytest.raises(IntegrityError, match="own notification"), transaction.atomic():
        Consent.objects.create(
            notification=first,
            route_stop=stop,
            decision="objection",
            decided_on=TODAY,
            recorded_by=world.hub_user,
            recorded_at=timezone.now(),
        )
    with pytest.raises(NotificationError, match="is not on the route"):
        notices.record_consent(
            actor=world.hub_user,
            notification=first,
            route_stop=stop,
            decision="objection",
            decided_on=TODAY,
        )


def test_consent_with_conditions_needs_them_stated(world: World) -> None:
    notification = gated_notification(world)
    with pytest.raises(NotificationError, match="copy the authority's conditions"):
        notices.record_consent(
            actor=world.hub_user,
            notification=notification,
            route_stop=notification.route.get(country="GH"),
            decision="conditions",
            decided_on=TODAY,
            valid_from=TODAY,
            valid_to=TODAY,
        )


# --- change requests -----------------------------------------------------------------------


def test_a_change_blocks_until_answered_and_a_refusal_changes_nothing(world: World) -> None:
    notification = gated_notification(world)
    consignment = draft_under(world, notification)
    change = notices.request_change(
        actor=world.hub_user,
        notification=notification,
        kind="quantity",
        description="more phones than expected",
        proposed={"total_quantity_kg": "500", "intended_shipments": 5},
    )
    with pytest.raises(DispatchRefused, match="awaits the authorities' answer: quantity"):
        dispatch(world, consignment)

    notices.answer_change(
        actor=world.hub_user, change=change, answer=ChangeAnswer.REFUSED, answered_on=TODAY
    )
    notification.refresh_from_db()
    assert notification.total_quantity_kg == Decimal("100")
    assert dispatch(world, consignment).state == ConsignmentState.DISPATCHED
    with pytest.raises(NotificationError, match="was answered on"):
        notices.answer_change(
            actor=world.hub_user, change=change, answer="accepted", answered_on=TODAY
        )


def test_accepted_changes_apply_the_proposed_values(world: World) -> None:
    notification = gated_notification(world)
    new_carrier = make_organisation(OrganisationKind.CARRIER)
    later = notification.last_departure + dt.timedelta(days=20)
    for kind, proposed in [
        ("quantity", {"intended_shipments": 7}),
        ("dates", {"last_departure": later.isoformat()}),
        ("carrier", {"carriers": [{"carrier": new_carrier.pk, "means_of_transport": "R"}]}),
    ]:
        change = notices.request_change(
            actor=world.hub_user,
            notification=notification,
            kind=kind,
            description=f"{kind} change",
            proposed=proposed,
        )
        notices.answer_change(
            actor=world.hub_user, change=change, answer="accepted", answered_on=TODAY
        )
    notification.refresh_from_db()
    assert notification.intended_shipments == 7
    assert notification.last_departure == later
    assert [(c.carrier, c.means_of_transport) for c in notification.carriers.all()] == [
        (new_carrier, "R")
    ]


def test_a_route_change_cannot_drop_an_authority_that_decided(world: World) -> None:
    notification = gated_notification(world)
    change = notices.request_change(
        actor=world.hub_user,
        notification=notification,
        kind="route",
        description="import into NL instead",
        proposed={
            "route": [
                {"role": "export", "country": "GH", "competent_authority": "EPA"},
                {"role": "import", "country": "NL", "competent_authority": "ILT"},
            ]
        },
    )
    with pytest.raises(NotificationError, match=r"OVAM \(Flanders\) \(BE\) decided"):
        notices.answer_change(
            actor=world.hub_user, change=change, answer="accepted", answered_on=TODAY
        )
    withdrawn = notices.answer_change(
        actor=world.hub_user, change=change, answer="withdrawn", answered_on=TODAY
    )
    assert withdrawn.answer == "withdrawn"


def test_a_change_proposes_only_its_own_fields(world: World) -> None:
    notification = gated_notification(world)
    with pytest.raises(NotificationError, match="a dates change proposes"):
        notices.request_change(
            actor=world.hub_user,
            notification=notification,
            kind="dates",
            description="x",
            proposed={"total_quantity_kg": "5"},
        )


# --- guarantees and consignments -----------------------------------------------------------


def test_guarantee_amount_is_a_decimal_and_release_happens_once(world: World) -> None:
    notification = gated_notification(world)
    with pytest.raises(NotificationError, match="positive figure"):
        notices.record_guarantee(
            actor=world.hub_user,
            reference="G-float",
            guarantor="X",
            amount=1000.0,  # type: ignore[arg-type]
            currency="EUR",
            valid_from=TODAY,
            valid_to=TODAY,
            notifications=[notification],
        )
    guarantee = notification.guarantees.get()
    notices.release_guarantee(actor=world.hub_user, guarantee=guarantee, released_on=TODAY)
    with pytest.raises(NotificationError, match="was released on"):
        notices.release_guarantee(actor=world.hub_user, guarantee=guarantee, released_on=TODAY)


def test_a_consignment_takes_its_notifications_stream(world: World) -> None:
    notification = gated_notification(world)
    lot = seal_lot(world, [record_intake(world, phones=10)])
    with pytest.raises(CustodyError, match="choose a notification of this consignment's stream"):
        shipment_actions.create_consignment(
            actor=world.hub_user,
            reference=f"CONS-{next_number():06d}",
            hub=world.hub,
            lots=[lot],
            carrier=world.carrier,
            recycler=world.recycler,
            notification=notification,
            stream=Stream.BATTERIES,
        )
    consignment = draft_under(world, notification)
    assert consignment.stream == Stream.PHONES
    assert consignment.notification == notification


def test_each_action_records_one_audit_event(world: World) -> None:
    before = AuditEvent.objects.count()
    gated_notification(world)
    # create, acknowledge, two consents, contract, guarantee
    assert AuditEvent.objects.count() - before == 6


# --- the demo ------------------------------------------------------------------------------


@pytest.fixture
def _quick_demo(settings: pytest.FixtureRequest) -> None:
    settings.TASKS = {"default": {"BACKEND": "django.tasks.backends.dummy.DummyBackend"}}  # type: ignore[attr-defined]


@pytest.mark.usefixtures("_quick_demo")
def test_demo_ships_under_yearly_notifications_and_shows_the_gate(db: None) -> None:
    from oneforone import demo

    demo.load_if_empty(base_url="http://demo.test", scale=0.05)

    shipped = Consignment.objects.exclude(state=ConsignmentState.DRAFT)
    assert shipped.exists()
    assert not shipped.filter(notification__isnull=True).exists()
    routes = {n.number[:2]: [s.country for s in n.route.all()] for n in Notification.objects.all()}
    assert routes == {"GH": ["GH", "BE"], "NG": ["NG", "ES", "BE"], "CM": ["CM", "MA", "BE"]}
    assert Consent.objects.filter(decision="tacit", route_stop__country="MA").exists()
    # Next year's Ghanaian notification waits for Belgium.
    pending = Notification.objects.filter(first_departure__gt=TODAY).get()
    assert not pending.consents.filter(route_stop__country="BE").exists()
    # Cameroon's change of quantity holds its drafts.
    drafts = Consignment.objects.filter(state=ConsignmentState.DRAFT, origin_hub__country="CM")
    assert drafts.exists()
    for draft in drafts:
        assert any(
            "awaits the authorities' answer" in r
            for r in dispatch_refusals(draft, departure_on=TODAY)
        )
