"""The demo data set: a year and a half of a one-for-one service, loaded through the actions.

`load_if_empty` is what `oneforone demo` calls. Every state change goes through the action that
owns it (organisations, members, API key, registrations with listed devices, intakes, lots,
consignments, custody signatures, reception, treatment with its issuance, reservation, allocation
preferences, allocation with its certificates, a conflict decision, a unit cancellation, the
ledger's daily roots), so the demo carries the same audit trail, signatures, ledger and invariants
as real use. Only hubs and collectors are written directly: there are no actions for them yet.

The load is a timeline of about eighteen months ending yesterday. Each action runs with the clock
set to the moment it happened: intakes on their collection days, consignments packed, dispatched,
picked up, received after four to six weeks at sea and treated two to four weeks later, partners
registering every month, an allocation run every Monday. Once back at the real now, the Merkle
root of every finished day of the unit ledger is published.

The data is made up (organisation names, collector codes, containers, vessels, IMEIs) but sized
and priced after DOMAIN.md: collectors paid per phone in local currency (GHS 2.60, NGN 650-700,
XAF 250), about 55 g a phone without battery, regional collectors delivering 100-400 phones at a
time. A seeded random generator makes every load identical for a given day and scale.
"""

from __future__ import annotations

import datetime as dt
import heapq
import io
import itertools
import random
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import time_machine
from django.db import transaction
from django.db.models import Count, Max, Min, Q, Sum
from django.utils import timezone
from stdnum import luhn

from oneforone import (
    demo_deadlines,
    demo_impact,
    demo_money,
    demo_movement,  # issue 6: movement documents and custody
    demo_notices,
    demo_people,
    demo_reporting,  # issue 7: the brand publishes its badge
    demo_signals,
)
from oneforone.accounts.actions import add_member, create_api_key, create_organisation
from oneforone.accounts.models import Organisation, OrganisationKind, Role, User
from oneforone.accounts.queries import system_user
from oneforone.collection.actions import record_intake, seal_lot
from oneforone.collection.models import (
    Area,
    Collector,
    Condition,
    Hub,
    Intake,
    Lot,
    LotKind,
    PaymentMethod,
)
from oneforone.partners.actions import (
    Decision,
    ProgrammeTerms,
    create_programme,
    register_devices,
    resolve_conflict,
)
from oneforone.partners.models import (
    ActivationMode,
    Channel,
    Conflict,
    ConflictStatus,
    Registration,
    Upload,
    UploadMode,
)
from oneforone.partners.schemas import DeviceId, RegistrationRow
from oneforone.partners.upload_actions import create_upload, run_upload
from oneforone.recycling.actions import complete_treatment, record_reception
from oneforone.recycling.models import Reception
from oneforone.registry import supply
from oneforone.registry.actions import (
    allocate,
    cancel_units,
    publish_ledger_roots,
    reserve_units,
    set_allocation_preference,
)
from oneforone.registry.models import (
    Allocation,
    AllocationPreference,
    Cancellation,
    CancellationReason,
    Certificate,
    IssuanceBatch,
    LedgerEntry,
    LedgerRoot,
    Reservation,
)
from oneforone.shipments.actions import create_consignment, sign_dispatch, sign_pickup
from oneforone.shipments.models import Consignment, ConsignmentState

DEMO_PASSWORD = "demo-pass-1234"  # noqa: S105 - documented, public demo password
SEED = 20250106
HISTORY_WEEKS = 78  # collection starts on the Monday about eighteen months before the load
LOT_PHONES = 2_500  # phones in a sealed lot (a packed box or bag) at scale 1
OPEN_INTAKES_PER_HUB = 8  # intakes not yet packed, at scale 1
UNITS_OWED_PER_UNIT_ISSUED = 1.35  # registrations exceed issuance: a backlog remains
TENDER_QUOTA_DEVICES = 40_000  # the framework contract's ceiling over its four years
TENDER_RESERVED_UNITS = 3_000  # the ministry's quota, set aside after the first treatment, scale 1
UNITS_CANCELLED = 12  # the recycler's count correction

# Type allocation codes (the first 8 digits of an IMEI), made up: the brand's two product lines
# whose devices are registered one by one, and the phones the telco buys from another maker.
LISTED_LINES = {"X2 Pro": "35840917", "Flip 3": "35840924"}
TELCO_TAC = "35291106"
FIRST_SERIAL = 100_001


def imei(tac: str, serial: int) -> str:
    """A valid IMEI: type allocation code, six-digit serial, Luhn check digit."""
    body = f"{tac}{serial:06d}"
    return body + luhn.calc_check_digit(body)


# The first device of the brand's first registration that lists devices: compensated early on,
# it is the IMEI the summary suggests trying on /verify/device.
DEMO_IMEI = imei(LISTED_LINES["X2 Pro"], FIRST_SERIAL)


# --- organisations and logins -------------------------------------------------------------------


@dataclass(frozen=True)
class OrgPlan:
    key: str
    name: str
    slug: str
    kind: str
    country: str
    username: str
    role: str
    superuser: bool = False


# fmt: off
ORGANISATIONS: tuple[OrgPlan, ...] = (
    OrgPlan("operator", "Closing Circle Operations BV", "closing-circle",
            OrganisationKind.OPERATOR, "NL", "operator", Role.ADMIN, superuser=True),
    OrgPlan("brand", "Lumen Mobile GmbH", "lumen-mobile",
            OrganisationKind.PARTNER, "DE", "brand", Role.ADMIN),
    OrgPlan("telco", "TeleNova Business", "telenova-business",
            OrganisationKind.PARTNER, "NL", "telco", Role.ADMIN),
    OrgPlan("ministry", "Ministry of the Interior (demo tender)", "ministry-interior",
            OrganisationKind.PARTNER, "NL", "ministry", Role.ADMIN),
    OrgPlan("gh", "Green Loop Ghana Ltd", "green-loop-ghana",
            OrganisationKind.COLLECTION_PARTNER, "GH", "hub-accra", Role.ADMIN),
    OrgPlan("ng", "Lagos Phone Recovery Ltd", "lagos-phone-recovery",
            OrganisationKind.COLLECTION_PARTNER, "NG", "hub-lagos", Role.ADMIN),
    OrgPlan("cm", "Recup Mobile Cameroun SARL", "recup-mobile-cameroun",
            OrganisationKind.COLLECTION_PARTNER, "CM", "hub-douala", Role.ADMIN),
    OrgPlan("carrier", "Gulf Atlantic Freight BV", "gulf-atlantic-freight",
            OrganisationKind.CARRIER, "BE", "carrier", Role.MEMBER),
    OrgPlan("recycler", "Scheldt Precious Metals NV", "scheldt-precious-metals",
            OrganisationKind.RECYCLER, "BE", "recycler", Role.MEMBER),
    OrgPlan("auditor", "Clearview Assurance BV", "clearview-assurance",
            OrganisationKind.AUDITOR, "NL", "auditor", Role.VIEWER),
)
# fmt: on


# --- hubs and the pipeline of each ---------------------------------------------------------------

TREATED = "treated"
RECEIVED = "received"
RECEIVED_SHORT = "received_short"  # counted 2% short of the dispatch: flagged at reception
IN_TRANSIT = "in_transit"
DISPATCHED = "dispatched"
DRAFT = "draft"

# The custody steps in order, and the days each takes after the one before (drawn per
# consignment): the last phone collected to the consignment packed, to its dispatch (export
# papers, container stuffing), to the vessel's loading, sea freight from Tema, Lagos or Douala to
# Antwerp, and the recycler's queue to completed treatment.
STEP_DAYS = ((1, 10), (3, 10), (2, 7), (28, 42), (14, 28))
LAST_STEP = {DRAFT: 0, DISPATCHED: 1, IN_TRANSIT: 2, RECEIVED: 3, RECEIVED_SHORT: 3, TREATED: 4}
# When a consignment's last step took place, in days before the load, for it to be at its stage
# today: a draft waits for its container, a dispatched one for the vessel, one in transit is
# still at sea, a received one in the recycler's queue. Treated ones finish two days before the
# load at the latest, so that their ledger day is over when the roots are published.
STAGE_WINDOW = {
    DRAFT: (30, 1),
    DISPATCHED: (6, 1),
    IN_TRANSIT: (27, 1),
    RECEIVED: (13, 1),
    RECEIVED_SHORT: (13, 1),
    TREATED: (None, 2),
}
LAST_TREATMENT_WITHIN = 35  # days before the load: each hub's latest treatment, supply stays fresh
MIN_COLLECTION_DAYS = 7  # a consignment's phones take at least this long to collect


@dataclass(frozen=True)
class HubPlan:
    org: str
    code: str
    name: str
    city: str
    country: str
    area: str
    currency: str
    prefix: str  # collector and seal prefix, e.g. GH-ACC
    collectors: int
    start_week: int  # weeks after the demo's first collection day
    phones_per_day: int  # at scale 1, over the whole history (it grows: see `_pace`)
    cadence_days: int  # a consignment is packed about this often; all but the last are treated
    in_flight: tuple[str, ...]  # the stages of the last consignments, oldest first
    intake_size: tuple[int, int]
    prices: tuple[Decimal, ...]  # per phone in the first calendar year, the next, ... (last stays)
    location: tuple[Decimal, Decimal]  # the hub's latitude and longitude (a market district)


# fmt: off
HUBS: tuple[HubPlan, ...] = (
    HubPlan(
        org="gh", code="gh-accra", name="Accra hub", city="Accra", country="GH",
        area=Area.URBAN, currency="GHS", prefix="GH-ACC", collectors=12,
        start_week=0, phones_per_day=180, cadence_days=35,
        in_flight=(RECEIVED, IN_TRANSIT, DRAFT),
        intake_size=(100, 400), prices=(Decimal("2.60"),),
        location=(Decimal("5.5680"), Decimal("-0.2120")),
    ),
    HubPlan(
        org="gh", code="gh-kumasi", name="Kumasi hub", city="Kumasi", country="GH",
        area=Area.URBAN, currency="GHS", prefix="GH-KUM", collectors=12,
        start_week=4, phones_per_day=55, cadence_days=60,
        in_flight=(RECEIVED, DISPATCHED),
        intake_size=(100, 400), prices=(Decimal("2.60"),),
        location=(Decimal("6.6950"), Decimal("-1.6250")),
    ),
    HubPlan(
        org="ng", code="ng-lagos", name="Lagos hub", city="Lagos", country="NG",
        area=Area.URBAN, currency="NGN", prefix="NG-LAG", collectors=12,
        start_week=0, phones_per_day=135, cadence_days=42,
        in_flight=(RECEIVED, IN_TRANSIT, DISPATCHED),
        intake_size=(100, 400), prices=(Decimal("650"), Decimal("700")),
        location=(Decimal("6.4550"), Decimal("3.3900")),
    ),
    HubPlan(
        org="cm", code="cm-douala", name="Douala hub", city="Douala", country="CM",
        area=Area.URBAN, currency="XAF", prefix="CM-DLA", collectors=12,
        start_week=2, phones_per_day=65, cadence_days=60,
        in_flight=(RECEIVED_SHORT, DRAFT),
        intake_size=(100, 400), prices=(Decimal("250"),),
        location=(Decimal("4.0480"), Decimal("9.7040")),
    ),
    HubPlan(
        org="cm", code="cm-bafoussam", name="Bafoussam hub", city="Bafoussam", country="CM",
        area=Area.RURAL, currency="XAF", prefix="CM-BAF", collectors=11,
        start_week=13, phones_per_day=25, cadence_days=120,
        in_flight=(DRAFT,),
        intake_size=(100, 250), prices=(Decimal("250"),),
        location=(Decimal("5.4780"), Decimal("10.4180")),
    ),
)
# fmt: on

VESSELS = ("MV Atlantic Kestrel", "MV Gulf Heron", "MV Cape Palmas", "MV Scheldt Trader")


@dataclass
class IntakePlan:
    collector: int  # index into the hub's collectors
    phones: int
    grams_per_phone: float
    battery_share: float
    collected_on: dt.date = dt.date.min


@dataclass
class LotPlan:
    intakes: list[IntakePlan] = field(default_factory=list)

    @property
    def phones(self) -> int:
        return sum(i.phones for i in self.intakes)


@dataclass
class ConsignmentPlan:
    stage: str
    lots: list[LotPlan] = field(default_factory=list)
    collected_until: dt.date = dt.date.min  # no phone of it is collected later
    step_days: list[int] = field(default_factory=list)  # days after the step before, STEP_DAYS

    @property
    def phones(self) -> int:
        return sum(lot.phones for lot in self.lots)

    def step_dates(self) -> list[dt.date]:
        """The dates of its custody steps, up to the one that puts it at its stage."""
        dates = []
        day = self.collected_until
        for days in self.step_days[: LAST_STEP[self.stage] + 1]:
            day += dt.timedelta(days=days)
            dates.append(day)
        return dates


@dataclass
class HubPipeline:
    plan: HubPlan
    first_day: dt.date
    consignments: list[ConsignmentPlan]
    loose_lots: list[LotPlan]
    open_intakes: list[IntakePlan]

    def intakes_in_order(self) -> list[IntakePlan]:
        lots = [lot for c in self.consignments for lot in c.lots] + self.loose_lots
        return [i for lot in lots for i in lot.intakes] + self.open_intakes


# --- the timeline --------------------------------------------------------------------------------


class Timeline:
    """Actions in the order they happened, each run with the clock at its moment."""

    def __init__(self) -> None:
        self._steps: list[tuple[dt.datetime, int, Callable[[], object]]] = []
        self._order = itertools.count()

    def at(self, moment: dt.datetime, action: Callable[[], object]) -> None:
        heapq.heappush(self._steps, (moment, next(self._order), action))

    def run(self) -> None:
        while self._steps:
            moment, _, action = heapq.heappop(self._steps)
            # The actions take their timestamps from the clock (timezone.now(), localdate()), as
            # they do in production, and check dates against it (no intake from the future, no
            # treatment before the arrival). Rather than back-date rows afterwards, which would
            # break the audit chain, the signatures and the ledger's hashes, the loader sets the
            # clock to the moment and lets each action write exactly what it would have written
            # that day. tick=False: every row of one action carries the same moment.
            with time_machine.travel(moment, tick=False):
                action()


def _moment(rng: random.Random, day: dt.date, first_hour: int, last_hour: int) -> dt.datetime:
    """A time on `day` (UTC) between the two hours."""
    minute = rng.randint(first_hour * 60, last_hour * 60)
    return dt.datetime.combine(day, dt.time(minute // 60, minute % 60), tzinfo=dt.UTC)


def _first_collection_day(today: dt.date) -> dt.date:
    start = today - dt.timedelta(weeks=HISTORY_WEEKS)
    return start - dt.timedelta(days=start.weekday())


# --- entry point ---------------------------------------------------------------------------------


def load_if_empty(*, base_url: str, scale: float = 1.0) -> str:
    """Load the demo data set unless partners exist already; return a printable summary."""
    if Organisation.objects.filter(kind=OrganisationKind.PARTNER).exists():
        return _already_loaded_summary(base_url)
    if scale <= 0:
        raise ValueError("scale must be positive")
    with transaction.atomic():
        raw_key = _load(scale=scale)
    return _summary(base_url, raw_key)


@dataclass
class Demo:
    """What the scheduled actions share: the organisations, their logins, what was made so far."""

    orgs: dict[str, Organisation] = field(default_factory=dict)
    users: dict[str, User] = field(default_factory=dict)
    hubs: dict[str, Hub] = field(default_factory=dict)
    collectors: dict[str, list[Collector]] = field(default_factory=dict)
    registrations: dict[tuple[str, str], Registration] = field(default_factory=dict)
    first_day: dt.date = dt.date(2020, 1, 1)


def _load(*, scale: float) -> str:
    rng = random.Random(SEED)
    today = timezone.localdate()
    first_day = _first_collection_day(today)
    demo = Demo(first_day=first_day)
    timeline = Timeline()

    # The organisations join a few weeks before the first month of registrations and intakes.
    first_month = first_day.replace(day=1)
    timeline.at(_moment(rng, first_month - dt.timedelta(days=21), 9, 11), lambda: _setup(demo))
    timeline.at(
        _moment(rng, first_month - dt.timedelta(days=14), 10, 16),
        lambda: set_allocation_preference(
            actor=demo.users["telco"],
            partner=demo.orgs["telco"],
            origin_countries=["GH"],
            strict=False,
        ),
    )
    timeline.at(
        _moment(rng, first_month - dt.timedelta(days=10), 10, 16),
        lambda: set_allocation_preference(
            actor=demo.users["ministry"], partner=demo.orgs["ministry"], allow_partial=False
        ),
    )

    pipelines = [_plan_hub(rng, plan, scale, first_day, today) for plan in HUBS]
    treatments: list[dt.datetime] = []
    for pipeline in pipelines:
        treatments += _schedule_hub(timeline, rng, pipeline, demo)
    treatments.sort()
    expected_units = sum(c.phones for p in pipelines for c in p.consignments if c.stage == TREATED)

    # The tender's quota is set aside from the first treated consignment, before any allocation.
    timeline.at(
        treatments[0] + dt.timedelta(hours=2),
        lambda: reserve_units(
            actor=demo.users["operator"],
            partner=demo.orgs["ministry"],
            label=_tender(first_day),
            quantity=max(1, round(TENDER_RESERVED_UNITS * scale)),
            accept_fewer=True,
        ),
    )
    # Some months on, the recycler corrects a count, an hour after a treatment: the new units are
    # still free (allocation runs on Monday mornings) to compensate the registration it touches.
    correction = treatments[round(len(treatments) * 0.6)]
    timeline.at(correction + dt.timedelta(hours=1), lambda: _correct_count(demo))

    _schedule_registrations(
        timeline,
        rng,
        demo,
        first_day,
        today,
        units_wanted=expected_units * UNITS_OWED_PER_UNIT_ISSUED,
    )

    # Three days ago the telco uploaded a file of its business customers' devices; one line of
    # it had a mistyped IMEI, which the upload's report shows.
    timeline.at(
        _moment(rng, today - dt.timedelta(days=3), 9, 11), lambda: _telco_upload(demo, today)
    )

    # The operator's allocation run, every Monday morning once there are units.
    monday = treatments[0].date() + dt.timedelta(days=7 - treatments[0].weekday())
    while monday <= today - dt.timedelta(days=2):
        timeline.at(
            dt.datetime.combine(monday, dt.time(6, 0), dt.UTC),
            lambda: allocate(actor=demo.users["operator"]),
        )
        monday += dt.timedelta(weeks=1)

    # The collection network's people, money and signals, each with its own random stream so
    # that the plan above does not change with them.
    demo_people.schedule(timeline, random.Random(SEED + 1), demo, first_day, today)
    demo_money.schedule(timeline, random.Random(SEED + 2), demo, first_day, today)
    demo_signals.schedule(timeline, random.Random(SEED + 3), demo, first_day, today)
    demo_notices.schedule(timeline, random.Random(SEED + 4), demo, first_day, today)
    demo_movement.schedule(timeline, random.Random(SEED + 6), demo, first_day, today)

    timeline.run()
    demo_deadlines.load(today=today)  # planned departures and the acts the history would have

    # Back at the real now.
    _, raw_key = create_api_key(
        actor=demo.users["brand"], organisation=demo.orgs["brand"], name="Demo webshop integration"
    )
    publish_ledger_roots(actor=demo.users["operator"])
    # An assay and every batch's impact figures under methodology 2026.1.
    demo_impact.load(
        recycler_user=demo.users["recycler"], operator_user=demo.users["operator"], today=today
    )
    demo_reporting.load(partner=demo.orgs["brand"], admin=demo.users["brand"])
    return raw_key


def _tender(first_day: dt.date) -> str:
    return f"MIN-T{first_day.year - 1}-017"


def _setup(demo: Demo) -> None:
    system = system_user()
    for plan in ORGANISATIONS:
        org = create_organisation(
            actor=system, name=plan.name, slug=plan.slug, kind=plan.kind, country=plan.country
        )
        membership = add_member(
            actor=system,
            organisation=org,
            username=plan.username,
            password=DEMO_PASSWORD,
            role=plan.role,
            email=f"{plan.username}@demo.oneforone.invalid",
            is_staff=plan.superuser,
            is_superuser=plan.superuser,
        )
        demo.orgs[plan.key] = org
        demo.users[plan.key] = membership.user
    _create_programmes(demo)
    _create_hubs_and_collectors(demo)


def _create_programmes(demo: Demo) -> None:
    """The partners' programmes, agreed with the operator when they joined."""
    today = timezone.localdate()
    for key, terms in _programme_terms(today, demo.first_day).items():
        for n, term in enumerate(terms):
            create_programme(
                actor=demo.users["operator"], partner=demo.orgs[key], terms=term, is_default=n == 0
            )


def _programme_terms(today: dt.date, first_day: dt.date) -> dict[str, list[ProgrammeTerms]]:
    start = today.replace(day=1) - dt.timedelta(days=800)
    return {
        "brand": [
            ProgrammeTerms(
                code="lumen-phones",
                name="Lumen phones: one sold, one recycled",
                activation_mode=ActivationMode.CONSUMER_PRODUCTS,
                price_per_unit=Decimal("4.80"),
                currency="EUR",
                starts_on=start,
                ends_on=None,
                claim_wording=(
                    "For every Lumen phone sold, one end-of-life phone is collected in West "
                    "Africa and recycled in Europe."
                ),
            )
        ],
        "telco": [
            ProgrammeTerms(
                code="business-fleet",
                name="TeleNova Business fleet compensation",
                activation_mode=ActivationMode.B2B_SERVICE,
                price_per_unit=Decimal("5.25"),
                currency="EUR",
                starts_on=start,
                ends_on=None,
                claim_wording=(
                    "Every device in your TeleNova Business contract is matched by one "
                    "end-of-life phone recycled in Europe."
                ),
            ),
            ProgrammeTerms(
                code="own-fleet",
                name="TeleNova staff devices",
                activation_mode=ActivationMode.INTERNAL,
                price_per_unit=Decimal("5.00"),
                currency="EUR",
                starts_on=today.replace(day=1),
                ends_on=None,
                claim_wording="TeleNova compensates the phones and laptops of its own staff.",
            ),
        ],
        "ministry": [
            ProgrammeTerms(
                code="tender-2025",
                name="Workplace devices framework (tender)",
                activation_mode=ActivationMode.PUBLIC_TENDER,
                price_per_unit=Decimal("4.10"),
                currency="EUR",
                starts_on=start,
                ends_on=first_day.replace(month=1, day=1) + dt.timedelta(days=4 * 365),
                claim_wording=(
                    "The ministry's workplace phones and laptops are compensated one for one, "
                    "as required by the tender's circularity clause."
                ),
                contracting_authority="Ministry of the Interior (demo)",
                tender_reference=_tender(first_day),
                quota=TENDER_QUOTA_DEVICES,
            )
        ],
    }


def _create_hubs_and_collectors(demo: Demo) -> None:
    """Hubs have no action yet: written directly, in one transaction. Collectors are registered
    through the people action, each with an invented person and consent (demo_people)."""
    with transaction.atomic():
        for plan in HUBS:
            hub = Hub.objects.create(
                organisation=demo.orgs[plan.org],
                code=plan.code,
                name=plan.name,
                country=plan.country,
                city=plan.city,
                area=plan.area,
                currency=plan.currency,
                latitude=plan.location[0],
                longitude=plan.location[1],
            )
            demo.hubs[plan.code] = hub
            demo.collectors[plan.code] = demo_people.register_collectors(
                demo.users[plan.org], hub, plan.prefix, plan.collectors
            )


# --- collection, packing and shipping ------------------------------------------------------------


def _pace(position: float) -> float:
    """The service grows: collection runs at 60% of its average pace at the start of the history
    (`position` 0) and 140% at its end (1)."""
    return 0.6 + 0.8 * min(max(position, 0.0), 1.0)


def _plan_hub(
    rng: random.Random, plan: HubPlan, scale: float, first_day: dt.date, today: dt.date
) -> HubPipeline:
    """A hub's consignments, each closing about every `cadence_days` and sized by the pace of
    collection over its period, the sealed lots and open intakes collected since the last one
    closed; intakes packed into lots packed into consignments, oldest first, dated along the way."""
    # Some collectors are busier than others; the same ones stay busy.
    weights = [rng.uniform(0.4, 1.6) for _ in range(plan.collectors)]
    lot_target = LOT_PHONES * scale
    start = first_day + dt.timedelta(weeks=plan.start_week)
    yesterday = today - dt.timedelta(days=1)
    history = (yesterday - first_day).days

    def phones(since: dt.date, until: dt.date) -> float:
        middle = (since - first_day).days + (until - since).days / 2
        return plan.phones_per_day * scale * (until - since).days * _pace(middle / history)

    def intake() -> IntakePlan:
        return IntakePlan(
            collector=rng.choices(range(plan.collectors), weights)[0],
            phones=rng.randint(*plan.intake_size),
            grams_per_phone=rng.uniform(50.0, 60.0),
            battery_share=rng.uniform(0.15, 0.45),
        )

    def lot(target: float) -> LotPlan:
        packed = LotPlan([intake()])
        while packed.phones + plan.intake_size[1] / 2 < target:
            packed.intakes.append(intake())
        return packed

    def lots(target: float) -> list[LotPlan]:
        """Lots of about `lot_target` phones, `target` phones in all."""
        count = max(1, round(target / lot_target))
        return [lot(target / count) for _ in range(count)]

    # The last consignment closed two to four weeks ago; the ones before close a cadence apart.
    last_close = yesterday - dt.timedelta(days=rng.randint(14, 28))
    count = max((last_close - start).days // plan.cadence_days, len(plan.in_flight) + 1)
    stages = [TREATED] * (count - len(plan.in_flight)) + list(plan.in_flight)
    consignments = [ConsignmentPlan(stage) for stage in stages]
    for number, consignment in enumerate(consignments):
        jitter = rng.uniform(-0.15, 0.15) if number < count - 1 else 0.0
        before = count - 1 - number + jitter
        consignment.collected_until = last_close - dt.timedelta(
            days=round(before * plan.cadence_days)
        )
    _plan_custody(rng, consignments, start, today)

    since = start
    for consignment in consignments:
        target = phones(since, consignment.collected_until) * rng.uniform(0.9, 1.1)
        consignment.lots = lots(target)
        since = consignment.collected_until
    # Since the last consignment closed: a third in intakes not packed yet, the rest sealed.
    tail = phones(since, yesterday)
    loose = lots(tail * 2 / 3)
    open_intakes = [intake()]
    while sum(lot.phones for lot in loose) + LotPlan(open_intakes).phones < tail:
        open_intakes.append(intake())
    pipeline = HubPipeline(plan, start, consignments, loose, open_intakes)
    _date_intakes(rng, pipeline, yesterday)
    return pipeline


def _plan_custody(
    rng: random.Random, consignments: list[ConsignmentPlan], start: dt.date, today: dt.date
) -> None:
    """How long each custody step of each consignment takes, so that each is at its stage today.

    Each consignment's steps take durations drawn from STEP_DAYS after its collection closes on
    its natural day. Where that would not leave it at its planned stage today, the durations
    stretch or shrink within their ranges, and only then does its collection close earlier or
    later.
    """
    last_treated = max(n for n, c in enumerate(consignments) if c.stage == TREATED)
    for number, consignment in enumerate(consignments):
        days = [rng.randint(*bounds) for bounds in STEP_DAYS]
        last = LAST_STEP[consignment.stage]
        earliest, latest = STAGE_WINDOW[consignment.stage]
        if number == last_treated:  # supply keeps coming: each hub's latest treatment is recent
            earliest = LAST_TREATMENT_WITHIN
        natural = consignment.collected_until + dt.timedelta(days=sum(days[: last + 1]))
        latest_day = today - dt.timedelta(days=latest)
        earliest_day = latest_day - dt.timedelta(days=(earliest or latest + 10) - latest)
        if earliest_day <= natural <= latest_day or (earliest is None and natural <= latest_day):
            target = natural
        else:  # a day in the window, not its edge, so that no two consignments move in step
            target = earliest_day + dt.timedelta(
                days=rng.randint(0, (latest_day - earliest_day).days)
            )
        shift = (target - natural).days
        for step in range(last + 1):
            low, high = STEP_DAYS[step]
            change = min(shift, high - days[step]) if shift > 0 else max(shift, low - days[step])
            days[step] += change
            shift -= change
        consignment.collected_until += dt.timedelta(days=shift)
        consignment.step_days = days
    # Consignments are collected one after the other: where a later one had to close early, the
    # one before closes earlier still and its lots wait longer for packing.
    for later, earlier in itertools.pairwise(reversed(consignments)):
        overlap = (earlier.collected_until - later.collected_until).days + MIN_COLLECTION_DAYS
        if overlap > 0:
            earlier.collected_until -= dt.timedelta(days=overlap)
            earlier.step_days[0] += overlap
    if consignments[0].collected_until < start + dt.timedelta(days=MIN_COLLECTION_DAYS):
        raise ValueError("too many consignments for the demo's history")


def _date_intakes(rng: random.Random, pipeline: HubPipeline, last_day: dt.date) -> None:
    """Spread each consignment's intakes evenly by phones over its collection period, then the
    loose lots' and the open intakes' over the days since the last consignment closed."""
    start = pipeline.first_day
    for consignment in pipeline.consignments:
        intakes = [i for lot in consignment.lots for i in lot.intakes]
        _spread(rng, intakes, start, consignment.collected_until)
        start = consignment.collected_until
    tail = [i for lot in pipeline.loose_lots for i in lot.intakes] + pipeline.open_intakes
    _spread(rng, tail, start, last_day)


def _spread(
    rng: random.Random, intakes: Sequence[IntakePlan], first: dt.date, last: dt.date
) -> None:
    total = sum(i.phones for i in intakes)
    span = max((last - first).days, 0)
    days = []
    collected = 0
    for item in intakes:
        position = (collected + item.phones / 2) / total
        jitter = rng.uniform(-2.0, 2.0)
        days.append(min(max(round(position * span + jitter), 0), span))
        collected += item.phones
    for item, day in zip(intakes, sorted(days), strict=True):
        item.collected_on = _open_day(first + dt.timedelta(days=day), first, last)


def _open_day(day: dt.date, first: dt.date, last: dt.date) -> dt.date:
    """Hubs buy Monday to Saturday: a Sunday moves to the Saturday before (or the Monday after)."""
    if day.isoweekday() != 7:
        return day
    for moved in (day - dt.timedelta(days=1), day + dt.timedelta(days=1)):
        if first <= moved <= last:
            return moved
    return day


# Conditions of the phones bought: mostly whole, some without their board, a few screens only.
CONDITIONS: dict[str, int] = {
    Condition.WHOLE: 85,
    Condition.BOARD_MISSING: 10,
    Condition.SCREEN_ONLY: 5,
}
HUB_TACS = {  # made-up type allocation codes of the dead phones read at each hub
    "gh-accra": "35107700",
    "gh-kumasi": "35107711",
    "ng-lagos": "35107722",
    "cm-douala": "35107733",
    "cm-bafoussam": "35107744",
}


class PurchaseDetails:
    """What a hub writes down besides the count and weight: the batteries' weight (40 to 50 g
    each), the condition, the phone's location within a kilometre of the hub, an IMEI or two on
    some purchases (each read once in the whole demo), and the payment on the spot: cash mostly,
    mobile money with its reference otherwise."""

    def __init__(self, plan: HubPlan) -> None:
        self.plan = plan
        self.rng = random.Random(f"{SEED}-{plan.code}-purchase-details")
        self.serials = itertools.count(1)

    def draw(self, phones: int, batteries: int) -> dict[str, Any]:
        rng = self.rng
        latitude, longitude = self.plan.location
        imeis = [
            imei(HUB_TACS[self.plan.code], next(self.serials))
            for _ in range(rng.choice((0, 0, 0, 1, 2)))
        ]
        mobile = rng.random() < 0.2
        return {
            "battery_weight_kg": _kg(batteries * rng.uniform(0.040, 0.050))
            if batteries
            else Decimal(0),
            "condition": rng.choices(list(CONDITIONS), list(CONDITIONS.values()))[0],
            "latitude": (latitude + Decimal(rng.randint(-6000, 6000)) / 1_000_000),
            "longitude": (longitude + Decimal(rng.randint(-6000, 6000)) / 1_000_000),
            "gps_accuracy_m": rng.randint(5, 40),
            "imeis": imeis[:phones],
            "paid_with": PaymentMethod.MOBILE_MONEY if mobile else PaymentMethod.CASH,
            "payment_reference": f"MM-{rng.randint(10**9, 10**10 - 1)}" if mobile else "",
        }


def _schedule_hub(
    timeline: Timeline, rng: random.Random, pipeline: HubPipeline, demo: Demo
) -> list[dt.datetime]:
    """Put a hub's intakes, lots and custody steps on the timeline; return its treatment moments."""
    plan = pipeline.plan
    seals = itertools.count(1)
    first_year = pipeline.first_day.year
    # The purchase details (time, batteries, condition, place, IMEIs, payment) come from their own
    # generator, so that the plan drawn from `rng` (what is bought when, lots, custody) is the
    # same as before they were recorded.
    details = PurchaseDetails(plan)

    def record(item: IntakePlan, into: list[Intake], moment: dt.datetime) -> Callable[[], object]:
        price = plan.prices[min(item.collected_on.year - first_year, len(plan.prices) - 1)]
        batteries = round(item.phones * item.battery_share)
        extra = details.draw(item.phones, batteries)

        def action() -> None:
            into.append(
                record_intake(
                    actor=demo.users[plan.org],
                    hub=demo.hubs[plan.code],
                    collector=demo.collectors[plan.code][item.collector],
                    collected_at=moment,
                    phones=item.phones,
                    net_weight_kg=_kg(item.phones * item.grams_per_phone / 1000),
                    batteries_removed=batteries,
                    price_per_phone=price,
                    currency=plan.currency,
                    **extra,
                )
            )

        return action

    def pack(lot: LotPlan, into: list[Lot]) -> None:
        """The lot's intakes, each on its day, then its seal the same evening, and the seal of
        the box with the batteries taken out of its phones."""
        intakes: list[Intake] = []
        moments = []
        for item in lot.intakes:
            moments.append(_moment(rng, item.collected_on, 8, 16))
            timeline.at(moments[-1], record(item, intakes, moments[-1]))
        number = next(seals)
        year = lot.intakes[-1].collected_on.year
        seal_number = f"{plan.prefix}-{year}-S{number:05d}"

        def action() -> None:
            into.append(
                seal_lot(
                    actor=demo.users[plan.org],
                    hub=demo.hubs[plan.code],
                    seal_number=seal_number,
                    intakes=intakes,
                )
            )

        def seal_batteries() -> None:
            seal_lot(
                actor=demo.users[plan.org],
                hub=demo.hubs[plan.code],
                seal_number=f"{plan.prefix}-{year}-B{number:05d}",
                intakes=intakes,
                kind=LotKind.BATTERIES,
            )

        sealed_at = max(moments) + dt.timedelta(minutes=rng.randint(30, 240))
        timeline.at(sealed_at, action)
        timeline.at(sealed_at + dt.timedelta(minutes=5), seal_batteries)

    treatments = []
    for number, planned in enumerate(pipeline.consignments, start=1):
        lots: list[Lot] = []
        for lot in planned.lots:
            pack(lot, lots)
        reference = f"CSG-{plan.prefix}-{planned.collected_until.year}-{number:03d}"
        steps = _custody_steps(rng, planned, reference, lots, demo, plan)
        for day, (first_hour, last_hour), action in steps:
            moment = _moment(rng, day, first_hour, last_hour)
            timeline.at(moment, action)
        if planned.stage == TREATED:
            treatments.append(moment)
    for lot in pipeline.loose_lots:
        pack(lot, [])
    for item in pipeline.open_intakes:
        moment = _moment(rng, item.collected_on, 8, 16)
        timeline.at(moment, record(item, [], moment))
    return treatments


def _custody_steps(
    rng: random.Random,
    planned: ConsignmentPlan,
    reference: str,
    lots: list[Lot],
    demo: Demo,
    plan: HubPlan,
) -> list[tuple[dt.date, tuple[int, int], Callable[[], object]]]:
    """A consignment's steps up to its planned stage: (day, working hours, action)."""
    # Drawn now, so that the random sequence does not depend on the order the actions run in.
    container = _container_number(rng)
    vessel = f"{rng.choice(VESSELS)}, voyage {rng.randint(1, 52):03d}{rng.choice('NS')}"
    dispatched = planned.phones
    if planned.stage == RECEIVED_SHORT:
        counted = round(dispatched * 0.98)
    else:  # a phone or two per thousand lost or miscounted, within tolerance
        counted = dispatched - rng.randint(0, dispatched // 500)
    # The recycler weighs a little less than the hub: dust, moisture, a scale of its own.
    weighed = rng.uniform(0.990, 1.000)
    held: list[Consignment] = []
    # It moves under the notification whose departures cover its dispatch (or, for a draft,
    # the day it is packed).
    departure = planned.step_dates()[: LAST_STEP[DISPATCHED] + 1][-1]

    def create() -> None:
        held.append(
            create_consignment(
                actor=demo.users[plan.org],
                reference=reference,
                hub=demo.hubs[plan.code],
                lots=lots,
                carrier=demo.orgs["carrier"],
                recycler=demo.orgs["recycler"],
                notification=demo_notices.notification_for(demo, plan.org, departure),
            )
        )

    def dispatch() -> None:
        held[0] = sign_dispatch(
            actor=demo.users[plan.org], consignment=held[0], container_number=container
        )

    def pickup() -> None:
        held[0] = sign_pickup(actor=demo.users["carrier"], consignment=held[0], vehicle=vessel)

    def receive() -> None:
        consignment = held[0]
        assert consignment.phones_dispatched == dispatched
        weight = float(consignment.net_weight_kg_dispatched or 0)
        record_reception(
            actor=demo.users["recycler"],
            consignment=consignment,
            counted_phones=counted,
            net_weight_kg=_kg(weight * counted / dispatched * weighed),
        )

    def treat() -> None:
        complete_treatment(
            actor=demo.users["recycler"], consignment=held[0], completed_on=timezone.localdate()
        )

    actions: list[tuple[tuple[int, int], Callable[[], object]]] = [
        ((8, 12), create),
        ((7, 15), dispatch),
        ((6, 18), pickup),
        ((8, 15), receive),
        ((13, 17), treat),
    ]
    return [
        (day, hours, action)
        for day, (hours, action) in zip(planned.step_dates(), actions, strict=False)
    ]


def _kg(value: float) -> Decimal:
    return Decimal(f"{value:.1f}")


def _container_number(rng: random.Random) -> str:
    """An ISO 6346 container number with its check digit (owner code made up)."""
    owner = rng.choice(("GAFU", "SCHU", "ATLU"))
    serial = f"{rng.randint(0, 999_999):06d}"
    return owner + serial + str(_iso6346_check_digit(owner + serial))


def _iso6346_check_digit(code: str) -> int:
    values = {}
    value = 10
    for letter in "ABCDEFGHIJKLMNOPQRSTUVWXYZ":
        if value % 11 == 0:
            value += 1
        values[letter] = value
        value += 1
    total = sum((values[c] if c.isalpha() else int(c)) * 2**i for i, c in enumerate(code))
    return total % 11 % 10


# --- the count correction ------------------------------------------------------------------------


def _correct_count(demo: Demo) -> None:
    """The recycler finds it counted a few phones too many in a batch treated weeks ago.

    Cancelling them revokes the allocation that holds them; its registration, certified until
    now, is compensated again from the units issued an hour before and gets certificate version 2.
    """
    now = timezone.now()
    batch = (
        IssuanceBatch.objects.filter(issued_at__lte=now - dt.timedelta(days=14))
        .select_related("consignment")
        .order_by("-issued_at")
        .first()
    )
    assert batch is not None
    # Not the tender's units: its deliveries are compensated all at once or not at all.
    candidates = Allocation.objects.filter(batch=batch).exclude(
        registration__partner=demo.orgs["ministry"]
    )
    for allocation in candidates.order_by("-units"):
        registration = allocation.registration
        if registration.certificates.filter(withdrawal__isnull=True).exists():
            break
    else:
        return
    cancelled = min(UNITS_CANCELLED, allocation.quantity)
    cancel_units(
        actor=demo.users["recycler"],
        batch=batch,
        first=allocation.units.upper - cancelled,
        last=allocation.units.upper - 1,
        reason=CancellationReason.COUNT_CORRECTED,
        explanation=(
            f"Recount of consignment {batch.consignment.reference} at the shredder infeed: "
            f"{cancelled} phones fewer than counted at reception (a crate was counted twice)."
        ),
    )


# --- registrations -------------------------------------------------------------------------------


@dataclass
class RowPlan:
    reference: str
    category: str
    drawn: int  # quantity before scaling to the supply
    tac: str | None = None  # devices listed one by one, with IMEIs of this type allocation code
    double_claim: bool = False  # one listed IMEI was registered by the brand before
    product_model: str = ""


@dataclass
class BatchPlan:
    at: dt.datetime
    partner: str
    rows: list[RowPlan]


def _schedule_registrations(
    timeline: Timeline,
    rng: random.Random,
    demo: Demo,
    first_day: dt.date,
    today: dt.date,
    *,
    units_wanted: float,
) -> None:
    """Month by month, the three partners register what they sold, bought or leased.

    Quantities are drawn first and then scaled so the units owed exceed the units issued:
    allocation (oldest registration first) compensates the early months and leaves a backlog.
    """
    batches = _plan_registrations(rng, first_day, today)
    units = {"phone": 1, "tablet": 2, "laptop": 3}
    drawn = sum(row.drawn * units[row.category] for b in batches for row in b.rows)
    factor = units_wanted / drawn
    serials = {tac: itertools.count(FIRST_SERIAL) for tac in [*LISTED_LINES.values(), TELCO_TAC]}
    brand_imeis: list[str] = []  # the last brand registration's listed devices, so far
    resolved = False
    for batch in sorted(batches, key=lambda b: b.at):
        rows = []
        for line, row in enumerate(batch.rows, start=1):
            quantity = max(1, round(row.drawn * factor))
            if row.tac is None:
                counted = RegistrationRow(
                    reference=row.reference,
                    category=row.category,
                    quantity=quantity,
                    product_model=row.product_model,
                )
                rows.append((line, counted))
                continue
            imeis = [imei(row.tac, next(serials[row.tac])) for _ in range(max(2, quantity))]
            if row.double_claim:
                # The telco resold a phone the brand had registered at sale, and lists it too.
                imeis[rng.randrange(len(imeis))] = brand_imeis[min(2, len(brand_imeis) - 1)]
            elif batch.partner == "brand":
                brand_imeis = imeis
            devices = [DeviceId(imei=number) for number in imeis]
            listed = RegistrationRow(
                reference=row.reference,
                category=row.category,
                devices=devices,
                product_model=row.product_model,
            )
            rows.append((line, listed))
        timeline.at(batch.at, _register(demo, batch.partner, rows))
        for row in batch.rows:
            if row.double_claim and not resolved:
                # The first double claim is decided a few days later; the last stays open.
                resolved = True
                timeline.at(
                    batch.at + dt.timedelta(days=4, hours=2), _keep_first(demo, row.reference)
                )


def _register(
    demo: Demo, partner: str, rows: list[tuple[int, RegistrationRow]]
) -> Callable[[], object]:
    def action() -> None:
        registered = register_devices(
            actor=demo.users[partner], partner=demo.orgs[partner], rows=rows, channel=Channel.DEMO
        )
        for registration in registered:
            demo.registrations[(partner, registration.reference)] = registration

    return action


def _telco_upload(demo: Demo, today: dt.date) -> None:
    """A file upload in "accept the valid rows" mode, run here as the worker would run it."""
    order = f"TNB-UPLOAD-{today:%Y%m%d}"
    lines = ["reference,category,programme,imei,serial"]
    lines += [f"{order}-LAPTOPS,laptop,business-fleet,,TNB-LT-{n:05d}" for n in range(1, 41)]
    lines += [
        f"{order}-PHONES,phone,business-fleet,{imei(TELCO_TAC, 900_000 + n)},"
        for n in range(1, 121)
    ]
    lines.append(f"{order}-SPARES,phone,business-fleet,35291106123456,")  # a mistyped check digit
    upload = create_upload(
        actor=demo.users["telco"],
        partner=demo.orgs["telco"],
        file=io.BytesIO("\n".join(lines).encode()),
        name=f"telenova-devices-{today:%Y-%m}.csv",
        mode=UploadMode.ACCEPT_VALID,
    )
    run_upload(upload.pk)


def _keep_first(demo: Demo, reference: str) -> Callable[[], object]:
    """The operator decides the telco's second claim: the brand's registration keeps the phone."""

    def action() -> None:
        registration = demo.registrations[("telco", reference)]
        conflict = Conflict.objects.get(
            second_device__registration=registration, status=ConflictStatus.OPEN
        )
        resolve_conflict(
            actor=demo.users["operator"],
            conflict=conflict,
            decision=Decision.KEEP_FIRST,
            reason=(
                "The brand registered this phone when it sold it; the telco's order is a resale "
                "of the same phone. One device, one unit: the brand's claim stands."
            ),
        )

    return action


def _plan_registrations(rng: random.Random, first_day: dt.date, today: dt.date) -> list[BatchPlan]:
    """What each partner registers and when: the brand at the start of each month for the month
    before (two product lines with their IMEIs), the telco's orders as they come, the ministry's
    tender deliveries each quarter. Nothing after yesterday."""
    batches: list[BatchPlan] = []
    first_month = first_day.replace(day=1)
    months = []
    month = first_month
    while month <= today:
        months.append(month)
        month = (month + dt.timedelta(days=32)).replace(day=1)
    # The telco registers a resold phone of the brand twice: mid-way (the operator keeps the
    # brand's claim) and in the last full month (the conflict is still open).
    double_claims = {months[len(months) // 2], months[-2]}
    tender_deliveries = 0
    order = 0
    for month in months:
        if month > first_month:
            sold = (month - dt.timedelta(days=1)).replace(day=1)
            models = rng.sample(
                ["A15", "A25", "A35", "A55", "X2", "X2 Pro", "Note 7", "Flip 3"], rng.randint(5, 7)
            )
            rows = []
            for model in models:
                code = model.replace(" ", "")
                reference = f"LUM-{sold:%Y-%m}-{code}"
                if model in LISTED_LINES:  # lower volumes, each device listed by its IMEI
                    tac = LISTED_LINES[model]
                    drawn = rng.randint(30, 90)
                    rows.append(RowPlan(reference, "phone", drawn, tac=tac, product_model=model))
                else:
                    drawn = rng.randint(400, 1_500)
                    rows.append(RowPlan(reference, "phone", drawn, product_model=model))
            day = month + dt.timedelta(days=rng.randint(1, 4))
            batches.append(BatchPlan(_moment(rng, day, 6, 8), "brand", rows))
        for number in range(rng.randint(2, 4)):
            order += 1
            category = rng.choices(["phone", "tablet", "laptop"], [6, 2, 2])[0]
            high = {"phone": 600, "tablet": 150, "laptop": 120}[category]
            row = RowPlan(f"TNB-{month:%Y%m}-{order:04d}", category, rng.randint(20, high))
            if month in double_claims and number == 0:
                row = RowPlan(row.reference, "phone", rng.randint(20, 60), TELCO_TAC, True)
            day = month + dt.timedelta(days=rng.randint(0, 27))
            batches.append(BatchPlan(_moment(rng, day, 9, 17), "telco", [row]))
        if month.month % 3 == 0:  # the tender delivers quarterly
            tender_deliveries += 1
            ref = f"{_tender(first_day)}-D{tender_deliveries:02d}"
            rows = [
                RowPlan(f"{ref}-LAPTOP", "laptop", rng.randint(400, 1_000)),
                RowPlan(f"{ref}-PHONE", "phone", rng.randint(1_000, 2_500)),
            ]
            day = month + dt.timedelta(days=rng.randint(9, 19))
            batches.append(BatchPlan(_moment(rng, day, 10, 15), "ministry", rows))
    return [b for b in batches if b.at.date() < today]


# --- summaries -----------------------------------------------------------------------------------


def _logins() -> list[str]:
    kinds = dict(OrganisationKind.choices)
    lines = [f"  {'username':<12} {'password':<16} organisation (kind)"]
    for plan in ORGANISATIONS:
        extra = ", Django admin" if plan.superuser else ""
        lines.append(
            f"  {plan.username:<12} {DEMO_PASSWORD:<16} {plan.name} "
            f"({kinds[plan.kind].lower()}, {plan.role}{extra})"
        )
    return lines


def _device_line(base_url: str) -> str:
    return (
        f"Look a device up at {base_url}/verify/device: IMEI {DEMO_IMEI} "
        "(a Lumen X2 Pro, compensated)"
    )


def _already_loaded_summary(base_url: str) -> str:
    intakes = Intake.objects.aggregate(phones=Sum("phones"))["phones"] or 0
    lines = [
        "Demo data already loaded; nothing was changed.",
        f"  {intakes:,} phones collected, {Registration.objects.count():,} registrations, "
        f"{Certificate.objects.count():,} certificates.",
        f"Open {base_url}/ and sign in (password for every demo login: {DEMO_PASSWORD}):",
        *_logins(),
        _device_line(base_url),
        "The brand's API key was shown when the data was loaded and cannot be shown again;",
        "sign in as `brand` and make a new one on the API keys page.",
        "(`oneforone demo --reset` drops the demo database and loads everything again.)",
    ]
    return "\n".join(lines)


def _summary(base_url: str, raw_key: str) -> str:
    open_intakes = Intake.objects.filter(lot__isnull=True).aggregate(
        n=Count("id"), phones=Sum("phones")
    )
    loose = Lot.objects.filter(consignment__isnull=True, kind=LotKind.PHONES).aggregate(
        n=Count("id"), phones=Sum("phones")
    )
    by_state: dict[str, tuple[int, int]] = {
        row["consignment__state"]: (row["n"], row["phones"])
        for row in Lot.objects.filter(consignment__isnull=False)
        .values("consignment__state")
        .annotate(n=Count("consignment", distinct=True), phones=Sum("phones"))
    }
    total = Intake.objects.aggregate(
        phones=Sum("phones"), kg=Sum("net_weight_kg"), first=Min("collected_on")
    )
    flagged = sum(1 for r in Reception.objects.only("flags") if r.flags)
    issued = IssuanceBatch.objects.aggregate(units=Sum("quantity"), n=Count("id"))
    allocated = Allocation.objects.aggregate(units=Sum("quantity"))["units"] or 0
    regs = Registration.objects.annotate(
        allocated=Sum("allocations__quantity", filter=Q(allocations__revoked_at__isnull=True))
    )
    status: Counter[str] = Counter()
    owed = 0
    for reg in regs.values("units_owed", "allocated"):
        owed += reg["units_owed"]
        got = reg["allocated"] or 0
        status["full" if got >= reg["units_owed"] else "partial" if got else "none"] += 1
    per_partner = (
        Registration.objects.values("partner__name")
        .annotate(n=Count("id"), device_count=Sum("quantity"))
        .order_by("partner__name")
    )
    listed = dict(
        Registration.objects.values_list("partner__name").annotate(n=Count("devices")).order_by()
    )
    certificates = dict(
        Certificate.objects.filter(withdrawal__isnull=True)
        .values_list("registration__partner__name")
        .annotate(n=Count("id"))
        .order_by()
    )

    def row(label: str, n: int | None, what: str, phones: int | None) -> str:
        return f"  {label:<30} {n or 0:>6,} {what:<12} {phones or 0:>10,} phones"

    reserved_left = sum(
        s.size for stretches in supply.reserved_stretches().values() for s in stretches
    )
    free = sum(s.size for s in supply.free_stretches())
    cancelled = Cancellation.objects.aggregate(units=Sum("quantity"))["units"] or 0
    lines = [
        "oneforone demo data loaded.",
        "",
        f"Phones collected since {total['first']:%d %B %Y}: {total['phones'] or 0:,} "
        f"({total['kg'] or 0:,.1f} kg net, {Intake.objects.count():,} intakes at "
        f"{Hub.objects.count()} hubs, {Collector.objects.count()} collectors)",
        row("open intakes (not packed)", open_intakes["n"], "intakes", open_intakes["phones"]),
        row("sealed lots, not shipped", loose["n"], "lots", loose["phones"]),
    ]
    for state in ConsignmentState:
        n, phones = by_state.get(state.value, (0, 0))
        label = f"consignments {state.value.replace('_', ' ')}"
        lines.append(row(label, n, "consignments", phones))
    lines += [
        f"  receptions flagged at counting: {flagged}",
        "",
        f"Registrations: {regs.count():,} ({owed:,} units owed): {status['full']:,} fully "
        f"compensated, {status['partial']:,} partly, {status['none']:,} waiting",
        *(
            f"  {p['partner__name']:<40} {p['n']:>4} registrations {p['device_count']:>9,} devices "
            f"{certificates.get(p['partner__name'], 0):>4} certificates"
            + (
                f", {listed[p['partner__name']]:,} devices listed by IMEI"
                if listed.get(p["partner__name"])
                else ""
            )
            for p in per_partner
        ),
        f"Units issued: {issued['units'] or 0:,} in {issued['n']} batches; allocated: "
        f"{allocated:,}; reserved, not yet allocated: {reserved_left:,}; cancelled: "
        f"{cancelled:,}; available: {free:,}",
        *_preference_lines(),
        *_reservation_lines(),
        *_cancellation_lines(),
        _certificate_line(base_url),
        _conflict_line(base_url),
        *_upload_lines(base_url),
        _ledger_line(),
        "",
        f"Open {base_url}/ and sign in with one of these logins:",
        *_logins(),
        "",
        _device_line(base_url),
        "",
        "The brand partner's API key (shown once; send it in the `X-API-Key` header):",
        f"API key: {raw_key}",
    ]
    return "\n".join(lines)


def _reservation_lines() -> list[str]:
    lines = []
    reservations = (
        Reservation.objects.filter(parent__isnull=True)
        .values("label", "partner__name")
        .annotate(units=Sum("quantity"), at=Min("reserved_at"))
        .order_by("at")
    )
    for reservation in reservations:
        drawn = Allocation.objects.filter(reservation__label=reservation["label"]).aggregate(
            n=Sum("quantity")
        )["n"]
        lines.append(
            f"Reservation {reservation['label']} for {reservation['partner__name']}: "
            f"{reservation['units']:,} units set aside on {reservation['at']:%d %B %Y}, "
            f"{drawn or 0:,} allocated to its deliveries so far"
        )
    return lines


def _cancellation_lines() -> list[str]:
    lines = []
    for cancellation in Cancellation.objects.select_related("batch"):
        revoked = cancellation.revocations.count()
        lines.append(
            f"Units cancelled: {cancellation.quantity} ({cancellation.block}, "
            f"{cancellation.get_reason_display().lower()} on {cancellation.cancelled_at:%d %B %Y}; "
            f"{revoked} allocation{'s' if revoked != 1 else ''} revoked)"
        )
    return lines


def _certificate_line(base_url: str) -> str:
    total = Certificate.objects.count()
    superseded = Certificate.objects.filter(superseded_by__isnull=False).order_by("issued_at")
    withdrawn = Certificate.objects.filter(
        withdrawal__isnull=False, superseded_by__isnull=True
    ).count()
    line = f"Certificates: {total:,}, of which {superseded.count()} superseded by a later version"
    if withdrawn:
        line += f" and {withdrawn} withdrawn, awaiting units"
    if example := superseded.first():
        line += f" (see {base_url}/verify/{example.code})"
    return line


def _ledger_line() -> str:
    roots = LedgerRoot.objects.aggregate(n=Count("id"), first=Min("day"), last=Max("day"))
    line = f"Unit ledger: {LedgerEntry.objects.count():,} entries, "
    if not roots["n"]:
        return line + "no daily root published yet"
    return line + (
        f"{roots['n']:,} daily Merkle roots published ({roots['first']:%d %B %Y} to "
        f"{roots['last']:%d %B %Y}; `oneforone verify-ledger` recomputes them)"
    )


def _conflict_line(base_url: str) -> str:
    conflicts = Counter(Conflict.objects.values_list("status", flat=True))
    open_ = conflicts[ConflictStatus.OPEN]
    return (
        f"Device conflicts (an IMEI registered twice): {sum(conflicts.values())}, "
        f"{open_} open for the operator at {base_url}/conflicts/"
    )


def _upload_lines(base_url: str) -> list[str]:
    return [
        f"Upload {u.original_name} by {u.partner.name}: {u.rows_accepted:,} lines accepted, "
        f"{u.rows_rejected:,} rejected (report at {base_url}/partner/uploads/{u.pk}/)"
        for u in Upload.objects.select_related("partner").order_by("pk")
    ]


def _preference_lines() -> list[str]:
    lines = []
    for preference in AllocationPreference.objects.select_related("partner").order_by("partner"):
        wishes = []
        if preference.origin_countries:
            countries = ", ".join(preference.origin_countries)
            units = Counter(
                dict(
                    Allocation.objects.filter(registration__partner=preference.partner)
                    .values_list("batch__origin_country")
                    .annotate(n=Sum("quantity"))
                    .order_by()
                )
            )
            matching = sum(
                n for country, n in units.items() if country in preference.origin_countries
            )
            share = f"{matching / sum(units.values()):.0%}" if units else "none"
            issued = IssuanceBatch.objects.aggregate(
                all=Sum("quantity"),
                there=Sum("quantity", filter=Q(origin_country__in=preference.origin_countries)),
            )
            wishes.append(
                f"prefers units collected in {countries}"
                + (" only" if preference.strict else ", else any")
                + f" ({share} of its units so far; {countries} issued "
                f"{(issued['there'] or 0) / (issued['all'] or 1):.0%} of all units)"
            )
        if not preference.allow_partial:
            wishes.append("takes a registration's units all at once or waits")
        lines.append(f"Preference: {preference.partner.name} {' and '.join(wishes)}")
    return lines
