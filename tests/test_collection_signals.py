"""Plausibility signals: each is raised by a crafted case with its evidence, stays quiet on
normal records, and an open flag holds its lot back from dispatch until the operator resolves it."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import DatabaseError, transaction
from django.utils import timezone

from factories import (
    World,
    draft_consignment,
    imei,
    make_collector,
    make_hub,
    make_member,
    make_world,
    race,
    record_intake,
    seal_lot,
)
from oneforone.accounts.models import Role
from oneforone.accounts.permissions import NotAllowed
from oneforone.collection import signals
from oneforone.collection.actions import CollectionError
from oneforone.collection.flag_actions import FlagError, resolve_flag
from oneforone.collection.hub_actions import HubError, change_hub_hours_and_location, register_hub
from oneforone.collection.models import Flag, FlagKind, FlagResolution, Intake, PriceCap
from oneforone.core.models import AuditEvent
from oneforone.shipments import actions as shipments
from oneforone.shipments.custody import CustodyError
from oneforone.shipments.models import Consignment, ConsignmentState

pytestmark = pytest.mark.django_db


def a_monday(weeks_ago: int) -> dt.datetime:
    """10:00 in Accra (UTC, the world's hub) on the Monday `weeks_ago` weeks back."""
    today = timezone.localdate()
    monday = today - dt.timedelta(days=today.weekday(), weeks=weeks_ago)
    return dt.datetime.combine(monday, dt.time(10), dt.UTC)


def kinds(intake: Intake) -> set[str]:
    return set(Flag.objects.filter(intake=intake).values_list("kind", flat=True))


def at(world: World, moment: dt.datetime, phones: int = 100, **overrides: object) -> Intake:
    """An intake recorded with its time of purchase, as a hub device sends it."""
    return record_intake(world, phones=phones, collected_at=moment, collected_on=None, **overrides)


# --- weight per phone at the hub -------------------------------------------------------------


def test_a_weight_per_phone_far_from_the_hubs_norm_is_flagged_with_its_evidence(world: World):
    for n in range(signals.WEIGHT_MIN_HISTORY):
        at(world, a_monday(2) + dt.timedelta(minutes=n), net_weight_kg=Decimal("5.5"))
    heavy = at(world, a_monday(1), net_weight_kg=Decimal("12.0"))

    flag = Flag.objects.get(intake=heavy)
    assert flag.kind == FlagKind.WEIGHT_PER_PHONE_HUB
    assert flag.collector == world.collector
    assert flag.evidence["grams_per_phone"] == "120.0"
    assert flag.evidence["norm_median_grams_per_phone"] == "55.0"
    assert Decimal(flag.evidence["allowed_high"]) < 120
    assert len(flag.evidence["compared_intakes"]) == signals.WEIGHT_MIN_HISTORY


def test_weights_within_the_band_raise_nothing(world: World):
    for n, kg in enumerate(["5.0", "5.5", "6.0"] * 5):
        at(world, a_monday(2) + dt.timedelta(minutes=n), net_weight_kg=Decimal(kg))
    light = at(world, a_monday(1), net_weight_kg=Decimal("4.5"))
    assert kinds(light) == set()


def test_no_weight_norm_before_the_hub_has_enough_history(world: World):
    for n in range(signals.WEIGHT_MIN_HISTORY - 1):
        at(world, a_monday(2) + dt.timedelta(minutes=n), net_weight_kg=Decimal("5.5"))
    heavy = at(world, a_monday(1), net_weight_kg=Decimal("12.0"))
    assert kinds(heavy) == set()


def test_screens_alone_are_compared_with_screens_not_with_whole_phones(world: World):
    for n in range(signals.WEIGHT_MIN_HISTORY):
        at(world, a_monday(2) + dt.timedelta(minutes=n), net_weight_kg=Decimal("5.5"))
    screens = at(world, a_monday(1), net_weight_kg=Decimal("2.0"), condition="screen_only")
    assert kinds(screens) == set()


# --- lot weight per phone against the stream --------------------------------------------------


def test_a_lot_far_from_the_streams_weight_per_phone_is_flagged(world: World):
    for n in range(signals.LOT_MIN_HISTORY):
        seal_lot(world, [at(world, a_monday(3) + dt.timedelta(minutes=n), phones=100)])
    odd = seal_lot(world, [at(world, a_monday(2), phones=100, net_weight_kg=Decimal("8.0"))])

    flag = Flag.objects.get(lot=odd)
    assert flag.kind == FlagKind.WEIGHT_PER_PHONE_LOT
    assert flag.evidence["grams_per_phone"] == "80.0"
    assert flag.evidence["norm_median_grams_per_phone"] == "55.0"
    assert len(flag.evidence["compared_lots"]) == signals.LOT_MIN_HISTORY


def test_a_lot_like_the_stream_raises_nothing(world: World):
    for n in range(signals.LOT_MIN_HISTORY):
        seal_lot(world, [at(world, a_monday(3) + dt.timedelta(minutes=n), phones=100)])
    usual = seal_lot(world, [at(world, a_monday(2), phones=100, net_weight_kg=Decimal("6.0"))])
    assert not Flag.objects.filter(lot=usual).exists()


# --- a collector's volume ----------------------------------------------------------------------


def test_a_collectors_volume_jumping_against_their_history_is_flagged(world: World):
    for week in range(8, 2, -1):
        at(world, a_monday(week), phones=100)
    jump = at(world, a_monday(1), phones=900)

    flag = Flag.objects.get(intake=jump)
    assert flag.kind == FlagKind.VOLUME_JUMP
    assert flag.evidence["phones_last_7_days"] == 900
    assert flag.evidence["median_active_week"] == 100
    assert flag.evidence["threshold"] == 100 * signals.VOLUME_FACTOR


def test_the_seven_days_up_to_an_intake_count_together(world: World):
    for week in range(8, 2, -1):
        at(world, a_monday(week), phones=100)
    first = at(world, a_monday(1), phones=350)
    second = at(world, a_monday(1) + dt.timedelta(days=2), phones=350)
    assert kinds(first) == set()
    assert kinds(second) == {FlagKind.VOLUME_JUMP}
    assert Flag.objects.get(intake=second).evidence["phones_last_7_days"] == 700


def test_a_busy_week_within_the_factor_or_below_the_minimum_raises_nothing(world: World):
    for week in range(8, 2, -1):
        at(world, a_monday(week), phones=50)
    busy = at(world, a_monday(2), phones=300)  # 6 x the median, not above it
    small = at(world, a_monday(1), phones=signals.VOLUME_MIN_PHONES)  # 12 x, not above 600
    assert kinds(busy) == set()
    assert kinds(small) == set()


def test_no_volume_norm_for_a_collector_with_a_short_history(world: World):
    for week in range(signals.VOLUME_MIN_ACTIVE_WEEKS, 1, -1):
        at(world, a_monday(week), phones=100)
    assert kinds(at(world, a_monday(1), phones=2000)) == set()


# --- the same IMEI twice -------------------------------------------------------------------------


def test_the_same_imei_collected_twice_at_any_hub_is_flagged(world: World):
    first = at(world, a_monday(2), imeis=[imei(1), imei(2)])
    other_hub = make_hub(world.collection_partner)
    again = record_intake(
        world,
        phones=100,
        hub=other_hub,
        collector=make_collector(other_hub),
        collected_at=a_monday(1),
        collected_on=None,
        imeis=[imei(2), imei(3)],
    )

    assert kinds(first) == set()
    flag = Flag.objects.get(intake=again)
    assert flag.kind == FlagKind.DUPLICATE_IMEI
    assert flag.hub == other_hub
    assert flag.evidence["imeis"] == [imei(2)]
    assert flag.evidence["also_in"][0]["intake"] == first.pk
    assert flag.evidence["also_in"][0]["hub"] == world.hub.code


def test_the_later_collection_is_flagged_whichever_record_arrives_first(world: World):
    later = at(world, a_monday(1), imeis=[imei(7)])  # synced first
    earlier = at(world, a_monday(2), imeis=[imei(7), imei(8)])  # an offline device syncs late

    assert kinds(earlier) == set()
    flag = Flag.objects.get(intake=later)
    assert flag.kind == FlagKind.DUPLICATE_IMEI
    assert flag.evidence["also_in"][0]["intake"] == earlier.pk
    assert flag.evidence["also_in"][0]["intake_uuid"] == str(earlier.client_uuid)


def test_a_third_collection_lists_both_earlier_ones(world: World):
    first = at(world, a_monday(3), imeis=[imei(7)])
    second = at(world, a_monday(2), imeis=[imei(7)])
    third = at(world, a_monday(1), imeis=[imei(7)])

    assert kinds(first) == set()
    assert kinds(second) == {FlagKind.DUPLICATE_IMEI}
    evidence = Flag.objects.get(intake=third).evidence
    assert [row["intake"] for row in evidence["also_in"]] == [first.pk, second.pk]


def test_a_reversed_collection_does_not_count(world: World):
    first = at(world, a_monday(2), imeis=[imei(7)])
    reverse(world, first)
    assert kinds(at(world, a_monday(1), imeis=[imei(7)])) == set()


@pytest.mark.django_db(transaction=True)
def test_two_hubs_recording_the_same_phone_at_once_still_flag_the_repeat():
    world = make_world()
    other_hub = make_hub(world.collection_partner)
    other_collector = make_collector(other_hub)
    outcomes = race(
        {
            "here": lambda: at(world, a_monday(2), imeis=[imei(7)]),
            "there": lambda: record_intake(
                world,
                phones=100,
                hub=other_hub,
                collector=other_collector,
                collected_at=a_monday(1),
                collected_on=None,
                imeis=[imei(7)],
            ),
        }
    )
    assert all(isinstance(result, Intake) for result in outcomes.values()), outcomes
    flag = Flag.objects.get(kind=FlagKind.DUPLICATE_IMEI)
    assert flag.intake_id == outcomes["there"].pk  # the later purchase


def test_distinct_imeis_raise_nothing(world: World):
    at(world, a_monday(2), imeis=[imei(1)])
    assert kinds(at(world, a_monday(1), imeis=[imei(2)])) == set()


# --- price outside the cap -----------------------------------------------------------------------


def set_cap(world: World, *, max_per_phone: str, min_per_phone: str = "0") -> PriceCap:
    return PriceCap.objects.create(
        country_id="GH",
        valid_from=dt.date(2020, 1, 1),
        max_per_phone=Decimal(max_per_phone),
        min_per_phone=Decimal(min_per_phone),
        currency="GHS",
        second_hand_value=Decimal("40"),
        source="test",
        set_by=world.operator_user,
        set_at=timezone.now(),
    )


def test_a_synced_record_priced_above_the_cap_is_flagged(world: World):
    set_cap(world, max_per_phone="3.00")
    with pytest.raises(CollectionError, match="above the cap"):
        at(world, a_monday(1), price="3.50")
    synced = at(world, a_monday(1), price="3.50", enforce_cap=False)

    flag = Flag.objects.get(intake=synced)
    assert flag.kind == FlagKind.PRICE_OUTSIDE_CAP
    assert Decimal(flag.evidence["price_per_phone"]) == Decimal("3.5")
    assert Decimal(flag.evidence["cap_max"]) == Decimal("3")


def test_a_synced_record_below_the_fair_pay_floor_is_flagged(world: World):
    set_cap(world, max_per_phone="3.00", min_per_phone="1.00")
    synced = at(world, a_monday(1), price="0.50", enforce_cap=False)
    assert kinds(synced) == {FlagKind.PRICE_OUTSIDE_CAP}


def test_a_price_within_the_cap_raises_nothing(world: World):
    set_cap(world, max_per_phone="3.00")
    assert kinds(at(world, a_monday(1), price="3.00", enforce_cap=False)) == set()


# --- opening hours -----------------------------------------------------------------------------


def test_a_purchase_at_night_is_flagged_in_the_hubs_time_zone(world: World):
    world.hub.country, world.hub.currency = "CM", "XAF"  # Douala: UTC+1
    world.hub.save()
    night = at(world, a_monday(1).replace(hour=18, minute=45), currency="XAF")  # 19:45 local

    flag = Flag.objects.get(intake=night)
    assert flag.kind == FlagKind.OUTSIDE_HOURS
    assert flag.evidence["local_time"].startswith(f"{a_monday(1).date().isoformat()}T19:45")
    assert flag.evidence["timezone"] == "Africa/Douala"


def test_a_purchase_on_a_day_the_hub_does_not_buy_is_flagged(world: World):
    sunday = at(world, a_monday(1) - dt.timedelta(days=1))
    assert kinds(sunday) == {FlagKind.OUTSIDE_HOURS}
    assert Flag.objects.get(intake=sunday).evidence["rule"] == "a closed weekday"


def test_half_an_hour_either_side_of_the_hours_is_grace(world: World):
    early = at(world, a_monday(1).replace(hour=6, minute=30))
    late = at(world, a_monday(1).replace(hour=19, minute=30))
    assert kinds(early) == set()
    assert kinds(late) == set()


def test_a_record_without_a_time_of_purchase_is_not_checked_for_hours(world: World):
    sunday = a_monday(1).date() - dt.timedelta(days=1)
    assert kinds(record_intake(world, phones=100, collected_on=sunday)) == set()


# --- far from the hub --------------------------------------------------------------------------


def place_hub(world: World) -> None:
    world.hub.latitude, world.hub.longitude = Decimal("5.568000"), Decimal("-0.212000")
    world.hub.save()


def test_a_purchase_recorded_far_from_the_hub_is_flagged(world: World):
    place_hub(world)
    far = at(world, a_monday(1), latitude=Decimal("5.658000"), longitude=Decimal("-0.212000"))

    flag = Flag.objects.get(intake=far)
    assert flag.kind == FlagKind.FAR_FROM_HUB
    assert 9_900 < flag.evidence["distance_m"] < 10_100  # 0.09 degrees of latitude
    assert flag.evidence["radius_m"] == 3000


def test_the_fixs_accuracy_is_given_the_benefit_of_the_doubt(world: World):
    place_hub(world)
    near = at(world, a_monday(1), latitude=Decimal("5.600000"), longitude=Decimal("-0.212000"))
    fuzzy = at(
        world,
        a_monday(1),
        latitude=Decimal("5.600000"),  # 3.6 km away, the fix is good to 800 m
        longitude=Decimal("-0.212000"),
        gps_accuracy_m=800,
        imeis=[],
    )
    assert kinds(near) == {FlagKind.FAR_FROM_HUB}
    assert kinds(fuzzy) == set()


def test_within_the_radius_or_without_a_fix_raises_nothing(world: World):
    place_hub(world)
    close = at(world, a_monday(1), latitude=Decimal("5.570000"), longitude=Decimal("-0.210000"))
    unknown = at(world, a_monday(1))
    assert kinds(close) == set()
    assert kinds(unknown) == set()


def test_the_haversine_distance_is_right_for_a_known_pair():
    # Accra to Lagos, about 407 km as the crow flies.
    distance = signals.haversine_m(
        Decimal("5.6037"), Decimal("-0.1870"), Decimal("6.5244"), Decimal("3.3792")
    )
    assert 403_000 < distance < 411_000


# --- raising is idempotent and cheap ------------------------------------------------------------


def test_raising_again_for_the_same_intake_adds_no_second_flag(world: World):
    sunday = at(world, a_monday(1) - dt.timedelta(days=1))
    assert signals.raise_for_intake(sunday) == []
    assert Flag.objects.filter(intake=sunday).count() == 1


def test_a_reversing_record_raises_nothing(world: World):
    original = at(world, a_monday(1) - dt.timedelta(days=1))
    reversal = reverse(world, original)
    assert signals.raise_for_intake(reversal) == []


def test_the_detectors_query_count_does_not_grow_with_history(
    world: World, django_assert_max_num_queries
):
    for n in range(30):
        at(world, a_monday(10 - n // 5) + dt.timedelta(minutes=n), imeis=[imei(n)])
    last = at(world, a_monday(1), imeis=[imei(999)])
    with django_assert_max_num_queries(9):
        signals.raise_for_intake(last)


# --- resolving, and dispatch held back ----------------------------------------------------------


def flagged_draft(world: World) -> tuple[Consignment, Flag]:
    consignment = draft_consignment(world)
    intake = consignment.lots.get().intakes.first()
    assert intake is not None
    flag = Flag.objects.create(
        kind=FlagKind.DUPLICATE_IMEI,
        hub=world.hub,
        intake=intake,
        collector=intake.collector,
        evidence={"imeis": [imei(1)]},
        raised_at=timezone.now(),
    )
    return consignment, flag


def test_a_lot_with_an_open_flag_is_not_dispatched(world: World):
    consignment, flag = flagged_draft(world)
    seal = consignment.lots.get().seal_number
    with pytest.raises(CustodyError, match=f"{seal} carries open plausibility flags"):
        shipments.sign_dispatch(actor=world.hub_user, consignment=consignment)

    resolve_flag(
        actor=world.operator_user,
        flag=flag,
        resolution=FlagResolution.EXPLAINED,
        reason="same phone sold twice by mistake; counted once",
    )
    dispatched = shipments.sign_dispatch(actor=world.hub_user, consignment=consignment)
    assert dispatched.state == ConsignmentState.DISPATCHED


def test_the_database_refuses_to_dispatch_a_lot_with_an_open_flag(world: World):
    consignment, _ = flagged_draft(world)
    with pytest.raises(DatabaseError, match="carry open flags"), transaction.atomic():
        Consignment.objects.filter(pk=consignment.pk).update(state=ConsignmentState.DISPATCHED)


def test_a_flag_on_the_lot_itself_holds_it_back_too(world: World):
    consignment = draft_consignment(world)
    Flag.objects.create(
        kind=FlagKind.WEIGHT_PER_PHONE_LOT,
        hub=world.hub,
        lot=consignment.lots.get(),
        evidence={},
        raised_at=timezone.now(),
    )
    with pytest.raises(CustodyError, match="open plausibility flags"):
        shipments.sign_dispatch(actor=world.hub_user, consignment=consignment)


def test_only_operator_staff_resolve_flags(world: World):
    _, flag = flagged_draft(world)
    with pytest.raises(NotAllowed):
        resolve_flag(
            actor=world.hub_user, flag=flag, resolution="explained", reason="we know this one"
        )
    flag.refresh_from_db()
    assert flag.resolved_at is None


def test_a_flag_is_resolved_once_with_a_reason_and_audited(world: World):
    _, flag = flagged_draft(world)
    with pytest.raises(FlagError, match="reason"):
        resolve_flag(actor=world.operator_user, flag=flag, resolution="explained", reason="ok")
    resolve_flag(
        actor=world.operator_user, flag=flag, resolution="explained", reason="checked the photos"
    )
    with pytest.raises(FlagError, match="resolved already"):
        resolve_flag(
            actor=world.operator_user, flag=flag, resolution="fraud", reason="changed my mind"
        )
    flag.refresh_from_db()
    assert (flag.resolution, flag.resolved_by) == ("explained", world.operator_user)
    event = AuditEvent.objects.get(code="collection.flag.resolved")
    assert event.data["reason"] == "checked the photos"


def test_the_database_refuses_a_resolution_without_a_reason(world: World):
    _, flag = flagged_draft(world)
    with pytest.raises(DatabaseError), transaction.atomic():
        Flag.objects.filter(pk=flag.pk).update(
            resolved_at=timezone.now(), resolved_by=world.operator_user, resolution="explained"
        )


def reverse(world: World, original: Intake) -> Intake:
    """A reversing record, as the intake correction writes it (negated figures)."""
    return Intake.objects.create(
        hub=original.hub,
        collector=original.collector,
        collected_on=original.collected_on,
        collected_at=original.collected_at,
        phones=-original.phones,
        net_weight_kg=-original.net_weight_kg,
        batteries_removed=-original.batteries_removed,
        battery_weight_kg=-original.battery_weight_kg,
        condition=original.condition,
        price_per_phone=original.price_per_phone,
        currency=original.currency,
        reverses=original,
        recorded_by=world.hub_user,
        recorded_at=timezone.now(),
    )


def test_corrected_needs_the_reversing_record(world: World):
    sunday = at(world, a_monday(1) - dt.timedelta(days=1))
    flag = Flag.objects.get(intake=sunday)
    with pytest.raises(FlagError, match="reversing record"):
        resolve_flag(
            actor=world.operator_user, flag=flag, resolution="corrected", reason="wrong day typed"
        )
    reverse(world, sunday)
    resolve_flag(
        actor=world.operator_user, flag=flag, resolution="corrected", reason="wrong day typed"
    )
    flag.refresh_from_db()
    assert flag.resolution == FlagResolution.CORRECTED


def test_confirmed_fraud_suspends_the_collector(world: World):
    _, flag = flagged_draft(world)
    resolve_flag(
        actor=world.operator_user,
        flag=flag,
        resolution=FlagResolution.FRAUD,
        reason="phones stolen from a shop, police report 4411",
    )
    world.collector.refresh_from_db()
    assert not world.collector.active
    with pytest.raises(CollectionError, match="not active"):
        record_intake(world, phones=10)


# --- hub hours and location --------------------------------------------------------------------


def settings_for(world: World, actor, **changes: object) -> None:  # type: ignore[no-untyped-def]
    arguments: dict[str, object] = {
        "actor": actor,
        "hub": world.hub,
        "opens_at": dt.time(8),
        "closes_at": dt.time(17),
        "open_weekdays": [1, 2, 3, 4, 5],
        "latitude": Decimal("5.568000"),
        "longitude": Decimal("-0.212000"),
        "radius_m": 1500,
    }
    arguments.update(changes)
    change_hub_hours_and_location(**arguments)  # type: ignore[arg-type]


def test_the_hubs_admin_or_the_operator_set_its_hours_and_place(world: World):
    admin = make_member(world.collection_partner, role=Role.ADMIN)
    settings_for(world, admin)
    world.hub.refresh_from_db()
    assert (world.hub.opens_at, world.hub.open_weekdays, world.hub.radius_m) == (
        dt.time(8),
        [1, 2, 3, 4, 5],
        1500,
    )
    settings_for(world, world.operator_user, radius_m=2000)
    event = AuditEvent.objects.filter(code="collection.hub.settings_changed").last()
    assert event is not None
    assert event.data["before"]["radius_m"] == 1500
    assert event.data["after"]["radius_m"] == 2000


def test_a_plain_member_or_another_organisation_may_not_change_a_hub(world: World):
    with pytest.raises(NotAllowed):
        settings_for(world, world.hub_user)
    with pytest.raises(NotAllowed):
        settings_for(world, world.partner_admin)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"opens_at": dt.time(18), "closes_at": dt.time(9)}, "open before it closes"),
        ({"open_weekdays": []}, "at least one weekday"),
        ({"open_weekdays": [0, 8]}, "at least one weekday"),
        ({"longitude": None}, "both latitude and longitude"),
        ({"latitude": Decimal("91")}, "latitude"),
        ({"radius_m": 10}, "radius"),
    ],
)
def test_hub_settings_that_make_no_sense_are_refused(world: World, changes, message):  # type: ignore[no-untyped-def]
    with pytest.raises(HubError, match=message):
        settings_for(world, world.operator_user, **changes)


def test_new_hours_apply_to_intakes_recorded_afterwards(world: World):
    settings_for(world, world.operator_user)  # Monday to Friday, 08:00 to 17:00
    world.hub.refresh_from_db()
    saturday = at(world, a_monday(1) + dt.timedelta(days=5))
    assert kinds(saturday) == {FlagKind.OUTSIDE_HOURS}


# --- the demo ------------------------------------------------------------------------------------


@pytest.fixture
def _fast_demo(settings):  # type: ignore[no-untyped-def]
    settings.TASKS = {"default": {"BACKEND": "django.tasks.backends.dummy.DummyBackend"}}


@pytest.mark.usefixtures("_fast_demo")
def test_the_normal_demo_data_raises_no_flag_only_the_staged_one_waits():
    from oneforone import demo, demo_signals

    demo.load_if_empty(base_url="http://demo.test", scale=0.05)

    flag = Flag.objects.select_related("intake", "hub").get()
    assert flag.kind == FlagKind.DUPLICATE_IMEI
    assert flag.resolved_at is None
    assert flag.hub.code == "gh-accra"
    assert flag.intake is not None
    assert flag.intake.lot is None
    assert flag.evidence["imeis"] == [
        demo.imei(demo_signals.STAGED_TAC, demo_signals.STAGED_SERIAL + 2)
    ]
    assert flag.evidence["also_in"][0]["hub"] == "gh-kumasi"


# --- registering a hub ------------------------------------------------------------------------------


def test_operator_staff_register_a_hub_paying_in_its_countrys_currency(world: World):
    hub = register_hub(
        actor=world.operator_user,
        organisation=world.collection_partner,
        code=" GH-Tamale ",
        name="Tamale hub",
        country="GH",
        city="Tamale",
        area="rural",
    )
    assert (hub.code, hub.currency, hub.open_weekdays, hub.radius_m) == (
        "gh-tamale",
        "GHS",
        [1, 2, 3, 4, 5, 6],
        3000,
    )
    assert AuditEvent.objects.filter(code="collection.hub.registered").count() == 1


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"country": "FR"}, "not a country the service collects in"),
        ({"code": "taken"}, "taken by another hub"),
        ({"latitude": Decimal("5.5")}, "both latitude and longitude"),
        ({"area": "suburban"}, "urban or rural"),
    ],
)
def test_a_hub_that_cannot_be_is_refused(world: World, changes, message):  # type: ignore[no-untyped-def]
    world.hub.code = "taken"
    world.hub.save()
    arguments = {
        "actor": world.operator_user,
        "organisation": world.collection_partner,
        "code": "gh-new",
        "name": "New hub",
        "country": "GH",
        "city": "Tamale",
        **changes,
    }
    with pytest.raises(HubError, match=message):
        register_hub(**arguments)  # type: ignore[arg-type]


def test_only_operator_staff_register_hubs_and_only_for_collection_partners(world: World):
    arguments = {"code": "gh-x", "name": "X hub", "country": "GH", "city": "Accra"}
    with pytest.raises(NotAllowed):
        register_hub(actor=world.hub_user, organisation=world.collection_partner, **arguments)
    with pytest.raises(HubError, match="not a collection partner"):
        register_hub(actor=world.operator_user, organisation=world.partner, **arguments)
