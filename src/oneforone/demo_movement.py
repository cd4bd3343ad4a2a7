"""Demo data of the movement part (issue 6): what the consignment pages show beyond the custody
steps the main demo signs.

- A consignment packed from a Ghana hub's purchases of one morning, picked up on the road to
  Tema, handed over to the sea carrier when its notification names one, received partially refused (phones that
  still held their batteries).
- A revision request waiting for answers: the carrier corrects the vessel's voyage of a
  consignment in transit.
- A battery consignment (UN3480, class 9, P909): the hub's oldest box of removed batteries, waiting
  at the hub for a batteries notification.

Every step is a real action at its moment on the demo's timeline. The phone consignment moves
under the hub's yearly notification (demo_notices); the battery consignment stays a draft at the
hub, so it needs none yet."""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal
from typing import TYPE_CHECKING

from oneforone.accounts.models import Membership, Role
from oneforone.collection.actions import record_intake, seal_lot
from oneforone.collection.models import Hub, Intake, Lot, LotKind
from oneforone.recycling.actions import record_reception
from oneforone.recycling.models import FacilityDecision
from oneforone.shipments.actions import create_consignment, sign_dispatch, sign_pickup
from oneforone.shipments.models import Consignment, ConsignmentState, Stream
from oneforone.shipments.movement_actions import next_carrier, sign_carrier_handover
from oneforone.shipments.revision_actions import request_revision

if TYPE_CHECKING:
    from oneforone.demo import Demo, Timeline

REFERENCE = "GH-MOV-001"
BATTERY_REFERENCE = "GH-BAT-001"
HUB_ORG = "gh"
# Days before the load of each step of the partially refused consignment (a sea passage of about
# five weeks, as the main demo's consignments take).
BOUGHT, PACKED, DISPATCHED, PICKED_UP, HANDED_OVER, RECEIVED = 46, 44, 43, 42, 40, 5
SEAL = "GH-MOV-SEAL-001"
REFUSED_SHARE = Decimal("0.03")


def schedule(
    timeline: Timeline, rng: random.Random, demo: Demo, first_day: dt.date, today: dt.date
) -> None:
    """Put this part of the demo on the timeline."""
    from oneforone.demo import _moment

    held: list[Consignment] = []
    intakes: list[Intake] = []
    lots: list[Lot] = []

    def day(days_ago: int, first_hour: int, last_hour: int) -> dt.datetime:
        return _moment(rng, today - dt.timedelta(days=days_ago), first_hour, last_hour)

    timeline.at(day(BOUGHT, 9, 11), lambda: _buy(demo, intakes))
    timeline.at(day(BOUGHT, 17, 18), lambda: _seal(demo, intakes, lots))
    dispatched_on = today - dt.timedelta(days=DISPATCHED)
    timeline.at(day(PACKED, 9, 11), lambda: _pack(demo, lots, held, dispatched_on))
    timeline.at(day(DISPATCHED, 8, 10), lambda: _dispatch(demo, held))
    timeline.at(day(PICKED_UP, 7, 9), lambda: _pickup(demo, held))
    timeline.at(day(HANDED_OVER, 9, 15), lambda: _sea_leg(held))
    timeline.at(day(RECEIVED, 9, 12), lambda: _partially_refuse(demo, held))
    timeline.at(day(3, 10, 12), lambda: _ask_revision(demo))
    timeline.at(day(2, 9, 11), lambda: _pack_batteries(demo))


def _hub(demo: Demo) -> Hub:
    return next(h for h in demo.hubs.values() if h.organisation == demo.orgs[HUB_ORG])


def _buy(demo: Demo, intakes: list[Intake]) -> None:
    """A morning's purchases at the hub, like its last three (same collectors, sizes, weights),
    so that they raise no plausibility flag."""
    hub = _hub(demo)
    recent = Intake.objects.filter(
        hub=hub, reverses__isnull=True, reversed_by__isnull=True
    ).order_by("-id")[:3]
    for like in recent:
        intakes.append(
            record_intake(
                actor=demo.users[HUB_ORG],
                hub=hub,
                collector=like.collector,
                phones=like.phones,
                net_weight_kg=like.net_weight_kg,
                batteries_removed=like.batteries_removed,
                battery_weight_kg=like.battery_weight_kg,
                condition=like.condition,
                latitude=like.latitude,
                longitude=like.longitude,
                gps_accuracy_m=like.gps_accuracy_m,
                price_per_phone=like.price_per_phone,
                currency=like.currency,
            )
        )


def _seal(demo: Demo, intakes: list[Intake], lots: list[Lot]) -> None:
    lots.append(
        seal_lot(actor=demo.users[HUB_ORG], hub=_hub(demo), seal_number=SEAL, intakes=intakes)
    )


def _pack(demo: Demo, lots: list[Lot], held: list[Consignment], dispatched_on: dt.date) -> None:
    """Packed under the hub's notification whose departures cover its dispatch."""
    from oneforone.demo_notices import notification_for

    held.append(
        create_consignment(
            actor=demo.users[HUB_ORG],
            reference=REFERENCE,
            hub=_hub(demo),
            lots=lots,
            carrier=demo.orgs["carrier"],
            recycler=demo.orgs["recycler"],
            notification=notification_for(demo, HUB_ORG, dispatched_on),
        )
    )


def _dispatch(demo: Demo, held: list[Consignment]) -> None:
    if held:
        held[0] = sign_dispatch(
            actor=demo.users[HUB_ORG], consignment=held[0], container_number="MSKU9081726"
        )


def _pickup(demo: Demo, held: list[Consignment]) -> None:
    if held:
        held[0] = sign_pickup(
            actor=demo.users["carrier"],
            consignment=held[0],
            vehicle="GT-4417-21 (road to Tema port)",
            means_of_transport="R",
        )


def _sea_leg(held: list[Consignment]) -> None:
    """Under a notification naming a sea carrier after the road haulier, that carrier signs."""
    if not held or held[0].notification_id is None:
        return
    carrier = next_carrier(held[0])
    membership = (
        Membership.objects.filter(organisation=carrier, role__in=[Role.ADMIN, Role.MEMBER])
        .select_related("user")
        .first()
        if carrier is not None
        else None
    )
    if membership is None:
        return
    sign_carrier_handover(
        actor=membership.user,
        consignment=held[0],
        vehicle="MV Atlantic Spirit, voyage 241N",
        means_of_transport="S",
        transferred_on=held[0].legs.get(sequence=1).transferred_on + dt.timedelta(days=2),
    )


def _partially_refuse(demo: Demo, held: list[Consignment]) -> None:
    if not held:
        return
    consignment = held[0]
    dispatched = consignment.phones_dispatched or 0
    weight = consignment.net_weight_kg_dispatched or Decimal(0)
    refused = max(1, int(dispatched * REFUSED_SHARE))
    record_reception(
        actor=demo.users["recycler"],
        consignment=consignment,
        counted_phones=dispatched,
        net_weight_kg=weight,
        decision=FacilityDecision.PARTIALLY_REFUSED,
        refused_phones=refused,
        refused_weight_kg=(weight * refused / dispatched).quantize(Decimal("0.001")),
        refusal_reason=f"{refused} phones still held their batteries; returned to the hub's "
        "battery stream",
    )


def _ask_revision(demo: Demo) -> None:
    """The carrier corrects the voyage of the newest consignment in transit."""
    consignment = (
        Consignment.objects.filter(state=ConsignmentState.IN_TRANSIT, legs__sequence=1)
        .order_by("-created_at")
        .first()
    )
    if consignment is None:
        return
    leg = consignment.legs.get(sequence=1)
    request_revision(
        actor=demo.users["carrier"],
        consignment=consignment,
        field="leg:vehicle",
        leg=1,
        new_value=f"{leg.vehicle} (voyage 238S)",
        reason="the voyage number was missing on the pick-up; the bill of lading shows 238S",
    )


def _pack_batteries(demo: Demo) -> None:
    """The hub's oldest loose box of removed batteries travels as a battery consignment."""
    hub = _hub(demo)
    lot = (
        Lot.objects.filter(hub=hub, kind=LotKind.BATTERIES, consignment__isnull=True)
        .order_by("sealed_at")
        .first()
    )
    if lot is None:
        return
    create_consignment(
        actor=demo.users[HUB_ORG],
        reference=BATTERY_REFERENCE,
        hub=hub,
        lots=[lot],
        carrier=demo.orgs["carrier"],
        recycler=demo.orgs["recycler"],
        stream=Stream.BATTERIES,
        un_number="UN3480",
        packing_instruction="P909",
    )
