"""The demo data set: a year and a half of a one-for-one service, loaded through the actions.

`load_if_empty` is what `oneforone demo` calls. Every state change goes through the action that
owns it (organisations, members, API key, registrations, intakes, lots, consignments, custody
signatures, reception, treatment with its issuance, allocation with its certificates), so the demo
carries the same audit trail, signatures and invariants as real use. Only hubs and collectors are
written directly: there are no actions for them yet.

The data is made up (organisation names, collector codes, containers, vessels) but sized and priced
after DOMAIN.md: collectors paid per phone in local currency (GHS 2.60, NGN 650-700, XAF 250),
about 55 g a phone without battery, regional collectors delivering 100-400 phones at a time.
A seeded random generator makes every load identical for a given day and scale.
"""

from __future__ import annotations

import datetime as dt
import random
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import transaction
from django.db.models import Count, Q, Sum
from django.utils import timezone

from oneforone.accounts.actions import add_member, create_api_key, create_organisation
from oneforone.accounts.models import Organisation, OrganisationKind, Role, User
from oneforone.accounts.queries import system_user
from oneforone.collection.actions import record_intake, seal_lot
from oneforone.collection.models import Area, Collector, Hub, Intake, Lot
from oneforone.partners.actions import register_devices
from oneforone.partners.models import Channel, Registration
from oneforone.partners.schemas import RegistrationRow
from oneforone.recycling.actions import complete_treatment, record_reception
from oneforone.recycling.models import Reception
from oneforone.registry.actions import allocate
from oneforone.registry.models import Allocation, Certificate, IssuanceBatch
from oneforone.shipments.actions import create_consignment, sign_dispatch, sign_pickup
from oneforone.shipments.models import Consignment, ConsignmentState

DEMO_PASSWORD = "demo-pass-1234"  # noqa: S105 - documented, public demo password
SEED = 20250106
FIRST_COLLECTION_DAY = dt.date(2025, 1, 6)
LOT_PHONES = 2_500  # phones in a sealed lot (a packed box or bag) at scale 1
OPEN_INTAKES_PER_HUB = 8  # intakes not yet packed, at scale 1
UNITS_OWED_PER_UNIT_ISSUED = 1.35  # registrations exceed issuance: a backlog remains


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
    first_day: dt.date
    phones_per_consignment: int
    consignments: tuple[str, ...]  # stages, oldest first
    loose_lots: int
    intake_size: tuple[int, int]
    price_by_year: dict[int, Decimal]


# fmt: off
HUBS: tuple[HubPlan, ...] = (
    HubPlan(
        org="gh", code="gh-accra", name="Accra hub", city="Accra", country="GH",
        area=Area.URBAN, currency="GHS", prefix="GH-ACC", collectors=12,
        first_day=FIRST_COLLECTION_DAY, phones_per_consignment=11_000,
        consignments=(TREATED, TREATED, TREATED, TREATED, TREATED, RECEIVED, IN_TRANSIT, DRAFT),
        loose_lots=2, intake_size=(100, 400),
        price_by_year={2025: Decimal("2.60"), 2026: Decimal("2.60")},
    ),
    HubPlan(
        org="gh", code="gh-kumasi", name="Kumasi hub", city="Kumasi", country="GH",
        area=Area.URBAN, currency="GHS", prefix="GH-KUM", collectors=12,
        first_day=dt.date(2025, 2, 3), phones_per_consignment=6_000,
        consignments=(TREATED, TREATED, RECEIVED, DISPATCHED),
        loose_lots=1, intake_size=(100, 400),
        price_by_year={2025: Decimal("2.60"), 2026: Decimal("2.60")},
    ),
    HubPlan(
        org="ng", code="ng-lagos", name="Lagos hub", city="Lagos", country="NG",
        area=Area.URBAN, currency="NGN", prefix="NG-LAG", collectors=12,
        first_day=FIRST_COLLECTION_DAY, phones_per_consignment=11_000,
        consignments=(TREATED, TREATED, TREATED, RECEIVED, IN_TRANSIT, DISPATCHED),
        loose_lots=2, intake_size=(100, 400),
        price_by_year={2025: Decimal("650"), 2026: Decimal("700")},
    ),
    HubPlan(
        org="cm", code="cm-douala", name="Douala hub", city="Douala", country="CM",
        area=Area.URBAN, currency="XAF", prefix="CM-DLA", collectors=12,
        first_day=dt.date(2025, 1, 20), phones_per_consignment=9_000,
        consignments=(TREATED, RECEIVED_SHORT, DRAFT),
        loose_lots=1, intake_size=(100, 400),
        price_by_year={2025: Decimal("250"), 2026: Decimal("250")},
    ),
    HubPlan(
        org="cm", code="cm-bafoussam", name="Bafoussam hub", city="Bafoussam", country="CM",
        area=Area.RURAL, currency="XAF", prefix="CM-BAF", collectors=11,
        first_day=dt.date(2025, 4, 7), phones_per_consignment=4_000,
        consignments=(TREATED, DRAFT),
        loose_lots=1, intake_size=(100, 250),
        price_by_year={2025: Decimal("250"), 2026: Decimal("250")},
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
    collected_on: dt.date = FIRST_COLLECTION_DAY


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

    @property
    def phones(self) -> int:
        return sum(lot.phones for lot in self.lots)


@dataclass
class HubPipeline:
    plan: HubPlan
    consignments: list[ConsignmentPlan]
    loose_lots: list[LotPlan]
    open_intakes: list[IntakePlan]

    def intakes_in_order(self) -> list[IntakePlan]:
        lots = [lot for c in self.consignments for lot in c.lots] + self.loose_lots
        return [i for lot in lots for i in lot.intakes] + self.open_intakes


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


def _load(*, scale: float) -> str:
    rng = random.Random(SEED)
    today = timezone.localdate()
    system = system_user()

    orgs: dict[str, Organisation] = {}
    users: dict[str, User] = {}
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
        orgs[plan.key] = org
        users[plan.key] = membership.user

    _, raw_key = create_api_key(
        actor=users["brand"], organisation=orgs["brand"], name="Demo webshop integration"
    )

    hubs, collectors = _create_hubs_and_collectors(orgs)
    pipelines = [_plan_hub(rng, plan, scale, today) for plan in HUBS]
    packed: list[tuple[dt.date, Consignment, str, User]] = []
    for pipeline in pipelines:
        hub = hubs[pipeline.plan.code]
        packed += _collect_and_pack(pipeline, hub, collectors[hub.code], users, orgs)
    # Consignments travel oldest first whatever their origin, so issuance interleaves countries.
    for _, consignment, stage, hub_user in sorted(packed, key=lambda p: (p[0], p[1].pk)):
        _advance(rng, consignment, stage, hub_user, users, today)
    expected_units = sum(c.phones for p in pipelines for c in p.consignments if c.stage == TREATED)

    _register(rng, orgs, users, today, units_wanted=expected_units * UNITS_OWED_PER_UNIT_ISSUED)
    allocate(actor=users["operator"])
    return raw_key


def _create_hubs_and_collectors(
    orgs: dict[str, Organisation],
) -> tuple[dict[str, Hub], dict[str, list[Collector]]]:
    """Hubs and collectors have no actions yet: written directly, in one transaction."""
    hubs: dict[str, Hub] = {}
    collectors: dict[str, list[Collector]] = {}
    with transaction.atomic():
        for plan in HUBS:
            hub = Hub.objects.create(
                organisation=orgs[plan.org],
                code=plan.code,
                name=plan.name,
                country=plan.country,
                city=plan.city,
                area=plan.area,
                currency=plan.currency,
            )
            hubs[plan.code] = hub
            collectors[plan.code] = Collector.objects.bulk_create(
                Collector(hub=hub, code=f"{plan.prefix}-{n:03d}")
                for n in range(1, plan.collectors + 1)
            )
    return hubs, collectors


# --- collection, packing and shipping ------------------------------------------------------------


def _plan_hub(rng: random.Random, plan: HubPlan, scale: float, today: dt.date) -> HubPipeline:
    """Intakes packed into lots packed into consignments, oldest first, dated along the way."""
    # Some collectors are busier than others; the same ones stay busy.
    weights = [rng.uniform(0.4, 1.6) for _ in range(plan.collectors)]
    lot_target = LOT_PHONES * scale

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

    consignments = []
    for stage in plan.consignments:
        target = plan.phones_per_consignment * scale * rng.uniform(0.85, 1.15)
        consignment = ConsignmentPlan(stage, [lot(min(lot_target, target))])
        while consignment.phones + lot_target / 2 < target:
            consignment.lots.append(lot(lot_target))
        consignments.append(consignment)
    loose = [lot(lot_target * rng.uniform(0.8, 1.2)) for _ in range(plan.loose_lots)]
    open_intakes = [intake() for _ in range(max(1, round(OPEN_INTAKES_PER_HUB * scale)))]
    pipeline = HubPipeline(plan, consignments, loose, open_intakes)
    _date_intakes(rng, pipeline.intakes_in_order(), plan.first_day, today)
    return pipeline


def _date_intakes(
    rng: random.Random, intakes: Sequence[IntakePlan], first: dt.date, last: dt.date
) -> None:
    """Spread collection dates evenly by phones collected, so the pipeline is in date order."""
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
        item.collected_on = first + dt.timedelta(days=day)


def _collect_and_pack(
    pipeline: HubPipeline,
    hub: Hub,
    collectors: list[Collector],
    users: dict[str, User],
    orgs: dict[str, Organisation],
) -> list[tuple[dt.date, Consignment, str, User]]:
    """Record a hub's intakes and pack them; return its consignments with their planned stage."""
    plan = pipeline.plan
    hub_user = users[plan.org]
    seals = iter(range(1, 10_000))

    def record(item: IntakePlan) -> Intake:
        return record_intake(
            actor=hub_user,
            hub=hub,
            collector=collectors[item.collector],
            collected_on=item.collected_on,
            phones=item.phones,
            net_weight_kg=_kg(item.phones * item.grams_per_phone / 1000),
            batteries_removed=round(item.phones * item.battery_share),
            price_per_phone=plan.price_by_year.get(
                item.collected_on.year, plan.price_by_year[max(plan.price_by_year)]
            ),
            currency=plan.currency,
        )

    def pack(lot: LotPlan) -> Lot:
        intakes = [record(item) for item in lot.intakes]
        year = lot.intakes[-1].collected_on.year
        return seal_lot(
            actor=hub_user,
            hub=hub,
            seal_number=f"{plan.prefix}-{year}-S{next(seals):05d}",
            intakes=intakes,
        )

    packed = []
    for number, planned in enumerate(pipeline.consignments, start=1):
        lots = [pack(lot) for lot in planned.lots]
        last_collected = planned.lots[-1].intakes[-1].collected_on
        consignment = create_consignment(
            actor=hub_user,
            reference=f"CSG-{plan.prefix}-{last_collected.year}-{number:03d}",
            hub=hub,
            lots=lots,
            carrier=orgs["carrier"],
            recycler=orgs["recycler"],
        )
        packed.append((last_collected, consignment, planned.stage, hub_user))
    for lot in pipeline.loose_lots:
        pack(lot)
    for item in pipeline.open_intakes:
        record(item)
    return packed


def _advance(
    rng: random.Random,
    consignment: Consignment,
    stage: str,
    hub_user: User,
    users: dict[str, User],
    today: dt.date,
) -> None:
    """Sign the custody steps up to the consignment's planned stage."""
    if stage == DRAFT:
        return
    consignment = sign_dispatch(
        actor=hub_user, consignment=consignment, container_number=_container_number(rng)
    )
    if stage == DISPATCHED:
        return
    voyage = f"{rng.randint(1, 52):03d}{rng.choice('NS')}"
    consignment = sign_pickup(
        actor=users["carrier"],
        consignment=consignment,
        vehicle=f"{rng.choice(VESSELS)}, voyage {voyage}",
    )
    if stage == IN_TRANSIT:
        return
    dispatched = consignment.phones_dispatched or 0
    weight = consignment.net_weight_kg_dispatched or Decimal(0)
    if stage == RECEIVED_SHORT:
        counted = round(dispatched * 0.98)
    else:  # a phone or two per thousand lost or miscounted, within tolerance
        counted = dispatched - rng.randint(0, dispatched // 500)
    # The recycler weighs a little less than the hub: dust, moisture, a scale of its own.
    received_kg = _kg(float(weight) * counted / dispatched * rng.uniform(0.990, 1.000))
    record_reception(
        actor=users["recycler"],
        consignment=consignment,
        counted_phones=counted,
        net_weight_kg=received_kg,
    )
    if stage == TREATED:
        complete_treatment(actor=users["recycler"], consignment=consignment, completed_on=today)


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


# --- registrations -------------------------------------------------------------------------------


def _register(
    rng: random.Random,
    orgs: dict[str, Organisation],
    users: dict[str, User],
    today: dt.date,
    *,
    units_wanted: float,
) -> None:
    """Month by month, the three partners register what they sold, bought or leased.

    Quantities are drawn first and then scaled so the units owed exceed the units issued:
    allocation (oldest registration first) compensates the early months and leaves a backlog.
    """
    units = {"phone": 1, "tablet": 2, "laptop": 3}
    months: list[tuple[str, list[tuple[str, str, int]]]] = []  # (partner, [(ref, category, qty)])
    month = FIRST_COLLECTION_DAY.replace(day=1)
    tender_deliveries = 0
    order = 0
    while month <= today:
        tag = f"{month:%Y-%m}"
        models = rng.sample(
            ["A15", "A25", "A35", "A55", "X2", "X2 Pro", "Note 7", "Flip 3"], rng.randint(5, 7)
        )
        months.append(
            (
                "brand",
                [
                    (f"LUM-{tag}-{m.replace(' ', '')}", "phone", rng.randint(400, 1_500))
                    for m in models
                ],
            )
        )
        orders = []
        for _ in range(rng.randint(2, 4)):
            order += 1
            category = rng.choices(["phone", "tablet", "laptop"], [6, 2, 2])[0]
            high = {"phone": 600, "tablet": 150, "laptop": 120}[category]
            orders.append((f"TNB-{month:%Y%m}-{order:04d}", category, rng.randint(20, high)))
        months.append(("telco", orders))
        if month.month % 3 == 0:  # the tender delivers quarterly
            tender_deliveries += 1
            ref = f"MIN-T2024-017-D{tender_deliveries:02d}"
            months.append(
                (
                    "ministry",
                    [
                        (f"{ref}-LAPTOP", "laptop", rng.randint(800, 2_000)),
                        (f"{ref}-PHONE", "phone", rng.randint(1_500, 3_500)),
                    ],
                )
            )
        month = (month + dt.timedelta(days=32)).replace(day=1)

    drawn = sum(qty * units[cat] for _, rows in months for _, cat, qty in rows)
    factor = units_wanted / drawn
    for partner, rows in months:
        register_devices(
            actor=users[partner],
            partner=orgs[partner],
            channel=Channel.DEMO,
            rows=[
                (
                    line,
                    RegistrationRow(
                        reference=ref, category=cat, quantity=max(1, round(qty * factor))
                    ),
                )
                for line, (ref, cat, qty) in enumerate(rows, start=1)
            ],
        )


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


def _already_loaded_summary(base_url: str) -> str:
    intakes = Intake.objects.aggregate(phones=Sum("phones"))["phones"] or 0
    lines = [
        "Demo data already loaded; nothing was changed.",
        f"  {intakes:,} phones collected, {Registration.objects.count():,} registrations, "
        f"{Certificate.objects.count():,} certificates.",
        f"Open {base_url}/ and sign in (password for every demo login: {DEMO_PASSWORD}):",
        *_logins(),
        "The brand's API key was shown when the data was loaded and cannot be shown again;",
        "sign in as `brand` and make a new one on the API keys page.",
        "(`oneforone demo --reset` drops the demo database and loads everything again.)",
    ]
    return "\n".join(lines)


def _summary(base_url: str, raw_key: str) -> str:
    open_intakes = Intake.objects.filter(lot__isnull=True).aggregate(
        n=Count("id"), phones=Sum("phones")
    )
    loose = Lot.objects.filter(consignment__isnull=True).aggregate(
        n=Count("id"), phones=Sum("phones")
    )
    by_state: dict[str, tuple[int, int]] = {
        row["consignment__state"]: (row["n"], row["phones"])
        for row in Lot.objects.filter(consignment__isnull=False)
        .values("consignment__state")
        .annotate(n=Count("consignment", distinct=True), phones=Sum("phones"))
    }
    total = Intake.objects.aggregate(phones=Sum("phones"), kg=Sum("net_weight_kg"))
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
        .annotate(
            n=Count("id"),
            device_count=Sum("quantity"),
            certs=Count("certificates"),
        )
        .order_by("partner__name")
    )

    def row(label: str, n: int | None, what: str, phones: int | None) -> str:
        return f"  {label:<30} {n or 0:>6,} {what:<12} {phones or 0:>10,} phones"

    lines = [
        "oneforone demo data loaded.",
        "",
        f"Phones collected: {total['phones'] or 0:,} ({total['kg'] or 0:,.1f} kg net, "
        f"{Intake.objects.count():,} intakes at {Hub.objects.count()} hubs, "
        f"{Collector.objects.count()} collectors)",
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
            f"{p['certs']:>4} certificates"
            for p in per_partner
        ),
        f"Units issued: {issued['units'] or 0:,} in {issued['n']} batches; allocated: "
        f"{allocated:,}; available: {(issued['units'] or 0) - allocated:,}",
        f"Certificates: {Certificate.objects.count():,}",
        "",
        f"Open {base_url}/ and sign in with one of these logins:",
        *_logins(),
        "",
        "The brand partner's API key (shown once; send it in the `X-API-Key` header):",
        f"API key: {raw_key}",
    ]
    return "\n".join(lines)
