"""Builders for tests: every domain row is made through the real actions.

Hubs and collectors have no action yet (they are reference data set up in the back office), so
they are the only rows created with the ORM here. Device categories come from a data migration;
`ensure_categories` puts them back after a transactional test has flushed the database.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import connection
from django.utils import timezone
from stdnum import luhn

from oneforone.accounts import actions as account_actions
from oneforone.accounts.models import Membership, Organisation, OrganisationKind, Role, User
from oneforone.accounts.queries import system_user
from oneforone.collection import actions as collection_actions
from oneforone.collection.models import Collector, Hub, Intake, Lot
from oneforone.partners import actions as partner_actions
from oneforone.partners.models import Channel, DeviceCategory, Programme, Registration
from oneforone.partners.schemas import DeviceId, RegistrationRow
from oneforone.recycling import actions as recycling_actions
from oneforone.registry.models import IssuanceBatch
from oneforone.shipments import actions as shipment_actions
from oneforone.shipments.models import (
    Consignment,
    MovementDocument,
    Notification,
    RouteRole,
    ShipmentType,
    Stream,
)

_sequence = itertools.count(1)

# The same rows as partners/migrations/0002_device_categories.py.
CATEGORIES = [
    ("phone", "Phone", 1),
    ("tablet", "Tablet", 2),
    ("laptop", "Laptop", 3),
]

GRAMS_PER_PHONE = Decimal("0.055")  # kg: an old phone without its battery


def next_number() -> int:
    return next(_sequence)


def ensure_categories() -> None:
    for code, name, units in CATEGORIES:
        DeviceCategory.objects.get_or_create(
            code=code,
            valid_from=dt.date(2020, 1, 1),
            defaults={"name": name, "units_per_device": units},
        )


def bootstrap_actor() -> User:
    """The actor that sets organisations up (the system user, as the command line does)."""
    return system_user()


def make_organisation(kind: str, *, name: str | None = None, country: str = "NL") -> Organisation:
    """An organisation; a partner gets an open-ended default programme to register under."""
    n = next_number()
    organisation = account_actions.create_organisation(
        actor=bootstrap_actor(),
        name=name or f"{kind.replace('_', ' ').title()} {n}",
        slug=f"{kind.replace('_', '-')}-{n}",
        kind=kind,
        country=country,
    )
    if kind == OrganisationKind.PARTNER:
        make_programme(organisation, code="general")
    return organisation


def make_programme(
    partner: Organisation,
    *,
    code: str | None = None,
    mode: str = "consumer_products",
    starts_on: dt.date = dt.date(2020, 1, 1),
    ends_on: dt.date | None = None,
    quota: int | None = None,
    is_default: bool = False,
) -> Programme:
    tender = mode == "public_tender"
    return partner_actions.create_programme(
        actor=operator_actor(),
        partner=partner,
        terms=partner_actions.ProgrammeTerms(
            code=code or f"programme-{next_number()}",
            name=f"Programme {code}",
            activation_mode=mode,
            price_per_unit=Decimal("4.50"),
            currency="EUR",
            starts_on=starts_on,
            ends_on=ends_on,
            claim_wording="For every device, one end-of-life phone is recycled.",
            contracting_authority="Ministry of Digital Affairs" if tender else "",
            tender_reference=f"T-{next_number()}" if tender else "",
            quota=quota if tender else None,
        ),
        is_default=is_default,
    )


def operator_actor() -> User:
    """A member of an operator organisation (made once), for set-up done by operator staff."""
    membership = (
        Membership.objects.filter(organisation__kind=OrganisationKind.OPERATOR, role=Role.ADMIN)
        .select_related("user")
        .first()
    )
    if membership is not None:
        return membership.user
    operator = account_actions.create_organisation(
        actor=bootstrap_actor(),
        name=f"Operator staff {next_number()}",
        slug=f"operator-staff-{next_number()}",
        kind=OrganisationKind.OPERATOR,
        country="NL",
    )
    return make_member(operator, role=Role.ADMIN)


def make_member(organisation: Organisation, *, role: str = Role.MEMBER) -> User:
    n = next_number()
    membership = account_actions.add_member(
        actor=bootstrap_actor(),
        organisation=organisation,
        username=f"{organisation.slug}-{role}-{n}",
        password="correct horse battery staple",
        role=role,
    )
    return membership.user


def make_hub(
    organisation: Organisation, *, country: str = "GH", currency: str = "GHS", area: str = "urban"
) -> Hub:
    n = next_number()
    return Hub.objects.create(
        organisation=organisation,
        code=f"hub-{n}",
        name=f"Hub {n}",
        country=country,
        city="Accra",
        area=area,
        currency=currency,
    )


def make_collector(hub: Hub) -> Collector:
    return Collector.objects.create(hub=hub, code=f"COL-{next_number():05d}")


@dataclass
class World:
    """One of every party, each with a writing member."""

    operator: Organisation
    operator_user: User
    partner: Organisation
    partner_admin: User
    collection_partner: Organisation
    hub_user: User
    hub: Hub
    collector: Collector
    carrier: Organisation
    carrier_user: User
    recycler: Organisation
    recycler_user: User


def make_world() -> World:
    ensure_categories()
    operator = make_organisation(OrganisationKind.OPERATOR)
    partner = make_organisation(OrganisationKind.PARTNER)
    collection_partner = make_organisation(OrganisationKind.COLLECTION_PARTNER, country="GH")
    carrier = make_organisation(OrganisationKind.CARRIER)
    recycler = make_organisation(OrganisationKind.RECYCLER, country="BE")
    hub = make_hub(collection_partner)
    return World(
        operator=operator,
        operator_user=make_member(operator),
        partner=partner,
        partner_admin=make_member(partner, role=Role.ADMIN),
        collection_partner=collection_partner,
        hub_user=make_member(collection_partner),
        hub=hub,
        collector=make_collector(hub),
        carrier=carrier,
        carrier_user=make_member(carrier),
        recycler=recycler,
        recycler_user=make_member(recycler),
    )


def record_intake(world: World, *, phones: int, price: str = "0.50", **overrides: object) -> Intake:
    arguments: dict[str, object] = {
        "actor": world.hub_user,
        "hub": world.hub,
        "collector": world.collector,
        "collected_on": timezone.localdate() - dt.timedelta(days=30),
        "phones": phones,
        "net_weight_kg": phones * GRAMS_PER_PHONE,
        "batteries_removed": phones,
        "price_per_phone": Decimal(price),
        "currency": world.hub.currency,
    }
    arguments.update(overrides)
    return collection_actions.record_intake(**arguments)  # type: ignore[arg-type]


def seal_lot(world: World, intakes: list[Intake]) -> Lot:
    return collection_actions.seal_lot(
        actor=world.hub_user,
        hub=world.hub,
        seal_number=f"SEAL-{next_number():06d}",
        intakes=intakes,
    )


def draft_consignment(world: World, *, intakes: tuple[int, ...] = (60, 40)) -> Consignment:
    """Intakes packed into one lot, in a consignment not yet dispatched, under the world's
    consented notification (the dispatch gate needs one)."""
    lot = seal_lot(world, [record_intake(world, phones=phones) for phones in intakes])
    return shipment_actions.create_consignment(
        actor=world.hub_user,
        reference=f"CONS-{next_number():06d}",
        hub=world.hub,
        lots=[lot],
        carrier=world.carrier,
        recycler=world.recycler,
        notification=consented_notification(world),
    )


def make_notification(world: World, **overrides: object) -> Notification:
    """A multiple-shipment notification for phones from the world's hub (GH) to its recycler (BE)
    by sea through NL, written as rows (no consents, contract or guarantee yet)."""
    today = timezone.localdate()
    fields: dict[str, object] = {
        "number": f"GH{next_number():010d}",
        "stream": Stream.PHONES,
        "notifier": world.collection_partner,
        "consignee": world.recycler,
        "generator": world.collection_partner,
        "generator_site": f"{world.hub.name}: purchase of discarded phones from collectors",
        "facility": world.recycler,
        "facility_site": "Smelter-refinery, Hoboken",
        "shipment_type": ShipmentType.MULTIPLE,
        "intended_shipments": 4,
        "total_quantity_kg": Decimal("20000.000"),
        "first_departure": today - dt.timedelta(days=60),
        "last_departure": today + dt.timedelta(days=300),
        "packaging_types": ["4"],
        "operation_code": "R4",
        "waste_description": "Discarded mobile phones, batteries removed",
        "physical_characteristics": "2",
        "basel_code": "A1181",
        "ewc_code": "16 02 13*",
        "hs_code": "8549.21",
        "y_codes": ["Y49"],
        "h_codes": ["H11", "H12", "H13"],
        "notified_on": today - dt.timedelta(days=90),
        "created_at": timezone.now(),
        "created_by": world.hub_user,
    }
    fields.update(overrides)
    notification = Notification.objects.create(**fields)
    stops = [
        (RouteRole.EXPORT, "GH", "Environmental Protection Agency, Ghana", "", "Port of Tema"),
        (RouteRole.TRANSIT, "NL", "Inspectie Leefomgeving en Transport", "Rotterdam", "Rotterdam"),
        (RouteRole.IMPORT, "BE", "OVAM (Flanders)", "Antwerp", ""),
    ]
    for sequence, (role, country, authority, entry, exit_point) in enumerate(stops, start=1):
        notification.route.create(
            sequence=sequence,
            role=role,
            country=country,
            competent_authority=authority,
            entry_point=entry,
            exit_point=exit_point,
        )
    notification.carriers.create(sequence=1, carrier=world.carrier, means_of_transport="S")
    return notification


def dispatched_consignment(world: World, **kwargs: object) -> Consignment:
    consignment = draft_consignment(world, **kwargs)  # type: ignore[arg-type]
    return shipment_actions.sign_dispatch(
        actor=world.hub_user, consignment=consignment, container_number="MSCU1234565"
    )


def in_transit_consignment(world: World, **kwargs: object) -> Consignment:
    consignment = dispatched_consignment(world, **kwargs)
    return shipment_actions.sign_pickup(
        actor=world.carrier_user, consignment=consignment, vehicle="MV Example"
    )


def received_consignment(
    world: World, *, counted: int | None = None, weight: Decimal | None = None, **kwargs: object
) -> Consignment:
    consignment = in_transit_consignment(world, **kwargs)
    assert consignment.phones_dispatched is not None
    counted = consignment.phones_dispatched if counted is None else counted
    recycling_actions.record_reception(
        actor=world.recycler_user,
        consignment=consignment,
        counted_phones=counted,
        net_weight_kg=counted * GRAMS_PER_PHONE if weight is None else weight,
    )
    consignment.refresh_from_db()
    return consignment


def treated_consignment(world: World, **kwargs: object) -> Consignment:
    """Walk a consignment through every step; treatment completion issues its batch."""
    consignment = received_consignment(world, **kwargs)  # type: ignore[arg-type]
    recycling_actions.complete_treatment(
        actor=world.recycler_user, consignment=consignment, completed_on=timezone.localdate()
    )
    consignment.refresh_from_db()
    return consignment


def issue(world: World, phones: int) -> IssuanceBatch:
    """A batch of `phones` units, from one intake of that many phones."""
    consignment = treated_consignment(world, intakes=(phones,))
    return IssuanceBatch.objects.get(consignment=consignment)


def register(
    world: World,
    *,
    quantity: int | None = None,
    category: str = "phone",
    reference: str | None = None,
    partner: Organisation | None = None,
    actor: User | None = None,
    imeis: Sequence[str] = (),
    serials: Sequence[str] = (),
    product_model: str = "",
) -> Registration:
    """A registration of `quantity` devices (default 1), or of the devices listed by identifier."""
    devices = [DeviceId(imei=i) for i in imeis] + [DeviceId(serial=s) for s in serials]
    [registration] = partner_actions.register_devices(
        actor=actor or world.partner_admin,
        partner=partner or world.partner,
        rows=[
            (
                1,
                RegistrationRow(
                    reference=reference or f"REF-{next_number():06d}",
                    category=category,
                    quantity=quantity if quantity or devices else 1,
                    devices=devices or None,
                    product_model=product_model,
                ),
            )
        ],
        channel=Channel.API,
    )
    registration.refresh_from_db()
    return registration


def imei(n: int, tac: str = "35693803") -> str:
    """A valid IMEI (right Luhn check digit): type allocation code `tac`, serial `n`."""
    body = f"{tac}{n:06d}"
    return body + luhn.calc_check_digit(body)


def make_partner() -> tuple[Organisation, User]:
    """Another partner organisation with its administrator."""
    partner = make_organisation(OrganisationKind.PARTNER)
    return partner, make_member(partner, role=Role.ADMIN)


def race(actions: dict[str, Callable[[], Any]]) -> dict[str, Any]:
    """Start every action at once (a barrier), each in its own thread and connection; return
    each one's result or the exception it raised."""
    barrier = threading.Barrier(len(actions))
    outcomes: dict[str, Any] = {}

    def run(name: str, action: Callable[[], Any]) -> None:
        try:
            barrier.wait(timeout=30)
            outcomes[name] = action()
        except BaseException as exc:
            outcomes[name] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=item) for item in actions.items()]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads), "an action hung"
    return outcomes


def database_params() -> dict[str, Any]:
    """How this test process reaches its database, for another connection or process: a server's
    host and port, or the embedded server's socket folder."""
    params = connection.get_connection_params()
    return {k: params[k] for k in ("dbname", "user", "host", "port", "password") if params.get(k)}


def database_url() -> str:
    """The test database as a DATABASE_URL for a child process (server or embedded socket)."""
    params = database_params()
    user, name, host = params.get("user", ""), params["dbname"], params.get("host", "")
    if host.startswith("/"):  # a unix socket folder: the embedded server
        port = f"&port={params['port']}" if "port" in params else ""
        return f"postgresql://{user}@/{name}?host={host}{port}"
    return f"postgresql://{user}@{host or 'localhost'}:{params.get('port', 5432)}/{name}"


def register_person(
    hub: Hub,
    actor: User,
    *,
    name: str = "Abena Owusu-Test",
    phone: str = "+233 20 555 0142",
    mobile_money: str = "MTN 024 555 0199",
) -> Collector:
    """A collector registered through the people action, with made-up personal data."""
    from oneforone.collection import people_actions
    from oneforone.collection.personal_data import Person

    return people_actions.register_collector(
        actor=actor,
        hub=hub,
        person=Person(name=name, phone=phone, mobile_money=mobile_money),
        consent_version="C-1",
        consent_given_on=timezone.localdate() - dt.timedelta(days=60),
    )


# --- Issue 6: notifications, consents and the dispatch gate ----------------------------------------

FACTORY_NOTIFICATION = "factory notification: every consent, contract and guarantee in place"


def notification_blocks(world: World, **overrides: Any) -> Any:
    """The form blocks of a multiple-shipment notification of phones from the world's hub (GH)
    directly to its recycler (BE), with codes valid on its date."""
    from oneforone.shipments.notification_actions import (
        CarrierBlock,
        NotificationBlocks,
        StopBlock,
    )

    today = timezone.localdate()
    notified_on = overrides.pop("notified_on", today - dt.timedelta(days=120))
    e_waste_codes = notified_on >= dt.date(2025, 1, 1)  # Basel decision BC-15/18
    fields: dict[str, Any] = {
        "number": f"GH{next_number():010d}",
        "notifier": world.collection_partner,
        "consignee": world.recycler,
        "generator": world.collection_partner,
        "generator_site": f"{world.hub.name}: purchase of discarded phones from collectors",
        "facility": world.recycler,
        "facility_site": "Smelter-refinery, Hoboken",
        "shipment_type": ShipmentType.MULTIPLE,
        "intended_shipments": 1000,
        "total_quantity_kg": Decimal("1000000.000"),
        "first_departure": today - dt.timedelta(days=90),
        "last_departure": today + dt.timedelta(days=270),
        "operation_code": "R4",
        "waste_description": "Discarded mobile phones, batteries removed",
        "physical_characteristics": "2",
        "basel_code": "A1181" if e_waste_codes else "A1180",
        "ewc_code": "16 02 13*",
        "hs_code": "8549.21",
        "y_codes": ("Y49",) if e_waste_codes else (),
        "h_codes": ("H11", "H12"),
        "notified_on": notified_on,
        "route": (
            StopBlock("export", "GH", "Environmental Protection Agency, Ghana", "", "Port of Tema"),
            StopBlock("import", "BE", "OVAM (Flanders)", "Port of Antwerp", "", "Antwerp customs"),
        ),
        "carriers": (CarrierBlock(world.carrier, "S"),),
    }
    fields.update(overrides)
    return NotificationBlocks(**fields)


def consent_everything(
    world: World,
    notification: Notification,
    *,
    valid_from: dt.date | None = None,
    valid_to: dt.date | None = None,
) -> Notification:
    """Every authority consents for the notified period; a contract and a guarantee cover it."""
    from oneforone.shipments import notification_actions as notices

    actor = world.hub_user
    valid_from = valid_from or notification.first_departure
    valid_to = valid_to or notification.last_departure
    decided_on = min(notification.notified_on + dt.timedelta(days=20), timezone.localdate())
    notices.acknowledge_notification(
        actor=actor, notification=notification, acknowledged_on=decided_on
    )
    for stop in notification.route.all():
        notices.record_consent(
            actor=actor,
            notification=notification,
            route_stop=stop,
            decision="consent",
            decided_on=decided_on,
            valid_from=valid_from,
            valid_to=valid_to,
            reference=f"{stop.country}-CONSENT-{next_number()}",
        )
    notices.record_contract(
        actor=actor,
        notification=notification,
        reference=f"CTR-{next_number()}",
        signed_on=notification.notified_on,
        valid_from=valid_from,
        valid_to=valid_to,
    )
    notices.record_guarantee(
        actor=actor,
        reference=f"GUA-{next_number()}",
        guarantor="Demo Assurance SA",
        amount=Decimal("250000.00"),
        currency="EUR",
        valid_from=valid_from,
        valid_to=valid_to,
        notifications=[notification],
    )
    notification.refresh_from_db()
    return notification


def consented_notification(world: World, **overrides: Any) -> Notification:
    """The world's notification with every consent, the contract and the guarantee in force
    today, made through the actions (reused while today is inside its period, unless
    `overrides` ask for a new one)."""
    from oneforone.shipments import notification_actions as notices

    today = timezone.localdate()
    if not overrides:
        existing = Notification.objects.filter(
            notifier=world.collection_partner,
            consignee=world.recycler,
            carriers__carrier=world.carrier,
            technology=FACTORY_NOTIFICATION,
            first_departure__lte=today,
            last_departure__gte=today,
        ).first()
        if existing is not None:
            return existing
    overrides.setdefault("technology", FACTORY_NOTIFICATION)
    notification = notices.create_notification(
        actor=world.hub_user, blocks=notification_blocks(world, **overrides)
    )
    return consent_everything(world, notification)


def movement_document_row(
    consignment: Consignment, notification: Notification, **overrides: object
) -> MovementDocument:
    """The consignment under the notification with its movement document, written as rows (the
    documents part's tests). A consignment dispatched through the gate already has both: its
    own are returned, since signed custody seals them."""
    existing = MovementDocument.objects.filter(consignment=consignment).first()
    if existing is not None:
        return existing
    Consignment.objects.filter(pk=consignment.pk).update(notification=notification)
    consignment.refresh_from_db()
    fields: dict[str, object] = {
        "consignment": consignment,
        "notification": notification,
        "serial": notification.movement_documents.count() + 1,
        "actual_quantity_kg": consignment.net_weight_kg_dispatched or Decimal("1234.500"),
        "actual_departure": notification.first_departure + dt.timedelta(days=10),
        "packaging_type": "4",
        "packages": 3,
        "created_at": timezone.now(),
        "created_by": consignment.created_by,
    }
    fields.update(overrides)
    return MovementDocument.objects.create(**fields)


def documents_of(reference: str) -> Any:
    """The consignment `reference` (dispatched at least) under a notification of its own parties,
    with its movement document and one attachment; made once, then found again."""
    from oneforone.shipments.models import Attachment

    consignment = Consignment.objects.select_related("origin_hub__organisation").get(
        reference=reference
    )
    found = Attachment.objects.filter(movement_document__consignment=consignment).first()
    if found is not None:
        return found
    hub_user = Membership.objects.filter(organisation=consignment.origin_hub.organisation).first()
    assert hub_user is not None
    parties = World(  # only the fields make_notification reads
        operator=consignment.recycler,
        operator_user=hub_user.user,
        partner=consignment.recycler,
        partner_admin=hub_user.user,
        collection_partner=consignment.origin_hub.organisation,
        hub_user=hub_user.user,
        hub=consignment.origin_hub,
        collector=None,  # type: ignore[arg-type]
        carrier=consignment.carrier,
        carrier_user=hub_user.user,
        recycler=consignment.recycler,
        recycler_user=hub_user.user,
    )
    # A consignment dispatched through the gate already has its notification and document.
    document = MovementDocument.objects.filter(
        consignment=consignment
    ).first() or movement_document_row(consignment, make_notification(parties))
    return Attachment.objects.create(
        notification=document.notification,
        movement_document=document,
        title="signed movement document",
        filename="md.png",
        content_type="image/png",
        size=12,
        sha256=hashlib.sha256(b"\x89PNG\r\n\x1a\nscan").hexdigest(),
        content=b"\x89PNG\r\n\x1a\nscan",
        uploaded_by=hub_user.user,
        uploaded_at=timezone.now(),
    )


# --- Issue 6, movement documents and custody ------------------------------------------------


def notified_consignment(
    world: World, notification: Notification | None = None, **kwargs: object
) -> Consignment:
    """A draft consignment moving under a notification (the world's by default)."""
    consignment = draft_consignment(world, **kwargs)  # type: ignore[arg-type]
    notification = notification or make_notification(world)
    if not notification.consents.exists():
        consent_everything(world, notification)
    Consignment.objects.filter(pk=consignment.pk).update(notification=notification)
    consignment.refresh_from_db()
    return consignment


def add_sea_carrier(world: World, notification: Notification) -> tuple[Organisation, User]:
    """Road to the port by the world's carrier, then a second notified carrier by sea."""
    shipping_line = make_organisation(OrganisationKind.CARRIER, name=f"Line {next_number()}")
    notification.carriers.filter(carrier=world.carrier).update(means_of_transport="R")
    notification.carriers.create(sequence=2, carrier=shipping_line, means_of_transport="S")
    return shipping_line, make_member(shipping_line)


def battery_consignment(world: World, *, damaged: bool = False) -> Consignment:
    """A draft battery consignment from one intake's removed batteries."""
    intake = record_intake(world, phones=40, battery_weight_kg=Decimal("1.800"))
    lot = collection_actions.seal_lot(
        actor=world.hub_user,
        hub=world.hub,
        seal_number=f"BAT-{next_number():06d}",
        intakes=[intake],
        kind="batteries",
    )
    return shipment_actions.create_consignment(
        actor=world.hub_user,
        reference=f"BATT-{next_number():06d}",
        hub=world.hub,
        lots=[lot],
        carrier=world.carrier,
        recycler=world.recycler,
        stream="batteries",
        un_number="UN3480",
        packing_instruction="P908" if damaged else "P909",
        damaged=damaged,
    )
