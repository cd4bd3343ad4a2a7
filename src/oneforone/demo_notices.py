"""The demo's notifications: each collection partner notifies its exports to the recycler in
Belgium once a year (Ghana directly, Nigeria through Spain, Cameroon through Morocco), with the
authorities' consents, a contract and a guarantee, all through the actions on their days. Two
things are left open for the operator to see the dispatch gate at work: next year's Ghanaian
notification still waits for Belgium's consent, and a change of carrier on the current
Cameroonian notification waits for the authorities' answer, which holds Cameroon's drafts."""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING

from django.utils import timezone

from oneforone.shipments import notification_actions as notices
from oneforone.shipments.models import Notification, ShipmentType, Stream
from oneforone.shipments.notification_actions import CarrierBlock, NotificationBlocks, StopBlock

if TYPE_CHECKING:
    from oneforone.demo import Demo, Timeline

PERIOD_DAYS = 365
NOTIFIED_BEFORE = 75  # days before its first departure a yearly notification is filed
INTENDED_SHIPMENTS = 24
TOTAL_QUANTITY_KG = Decimal("25000")
E_WASTE_AMENDMENTS = dt.date(2025, 1, 1)  # Basel decision BC-15/18: A1181 and Y49 from then


@dataclass(frozen=True)
class ExportRoute:
    org: str
    country: str
    route: tuple[StopBlock, ...]


BELGIUM = StopBlock(
    "import", "BE", "OVAM (Flemish Waste Agency)", "Port of Antwerp", "", "Antwerp customs"
)
ROUTES = (
    ExportRoute(
        "gh",
        "GH",
        (
            StopBlock(
                "export",
                "GH",
                "Environmental Protection Agency, Ghana",
                "",
                "Port of Tema",
                "Tema Long Room customs",
            ),
            BELGIUM,
        ),
    ),
    ExportRoute(
        "ng",
        "NG",
        (
            StopBlock("export", "NG", "NESREA, Nigeria", "", "Apapa port, Lagos", "Apapa customs"),
            StopBlock("transit", "ES", "MITECO (Spain)", "Port of Algeciras", "Port of Algeciras"),
            BELGIUM,
        ),
    ),
    ExportRoute(
        "cm",
        "CM",
        (
            StopBlock("export", "CM", "MINEPDED, Cameroon", "", "Port of Douala", "Douala customs"),
            StopBlock(
                "transit",
                "MA",
                "Ministry of Energy Transition (Morocco)",
                "Tanger Med",
                "Tanger Med",
            ),
            BELGIUM,
        ),
    ),
)


def schedule(
    timeline: Timeline, rng: random.Random, demo: Demo, first_day: dt.date, today: dt.date
) -> None:
    """A notification per exporting partner and year of the history, each filed before its
    year starts; then the open items of today."""
    from oneforone.demo import _moment

    start = first_day
    period = 0
    while start <= today:
        end = start + dt.timedelta(days=PERIOD_DAYS - 1)
        filed = max(start - dt.timedelta(days=NOTIFIED_BEFORE), first_day - dt.timedelta(days=20))
        for route in ROUTES:
            timeline.at(
                _moment(rng, filed, 9, 12),
                _file(demo, route, period, start, end, filed, complete=True),
            )
        tacit_on = filed + dt.timedelta(days=notices.BASEL_TRANSIT_TACIT_DAYS + 1)
        if period > 0 and tacit_on < today:  # the first year's came in writing
            timeline.at(_moment(rng, tacit_on, 9, 12), _tacit(demo, ROUTES[2], start))
        timeline.at(
            _moment(rng, filed + dt.timedelta(days=10), 9, 12), _guarantee(demo, start, end)
        )
        release = end + dt.timedelta(days=120)
        if release < today:
            timeline.at(_moment(rng, release, 10, 12), _release(demo, start))
        start, period = end + dt.timedelta(days=1), period + 1
    # Next year's Ghanaian notification, filed twelve days ago: Belgium has not answered yet.
    ghana = ROUTES[0]
    filed = today - dt.timedelta(days=12)
    end = start + dt.timedelta(days=PERIOD_DAYS - 1)
    timeline.at(
        _moment(rng, filed, 9, 12), _file(demo, ghana, period, start, end, filed, complete=False)
    )
    timeline.at(_moment(rng, today - dt.timedelta(days=4), 9, 12), _change_quantity(demo))


def notification_for(demo: Demo, org: str, day: dt.date) -> Notification:
    """The partner's phone notification whose departures cover `day`."""
    notification = (
        Notification.objects.filter(
            notifier=demo.orgs[org],
            stream=Stream.PHONES,
            first_departure__lte=day,
            last_departure__gte=day,
        )
        .order_by("first_departure")
        .first()
    )
    assert notification is not None, f"no demo notification of {org} covers {day}"
    return notification


def _number(route: ExportRoute, start: dt.date, period: int) -> str:
    return f"{route.country}{start.year}{period + 1:02d}{ROUTES.index(route) + 1:04d}"


def _blocks(
    demo: Demo, route: ExportRoute, number: str, start: dt.date, end: dt.date, filed: dt.date
) -> NotificationBlocks:
    notifier = demo.orgs[route.org]
    e_waste = filed >= E_WASTE_AMENDMENTS
    return NotificationBlocks(
        number=number,
        notifier=notifier,
        consignee=demo.orgs["recycler"],
        generator=notifier,
        generator_site=f"{notifier.name}: hubs buying discarded phones from collectors",
        facility=demo.orgs["recycler"],
        facility_site="Smelter-refinery for precious metals, Hoboken (BE)",
        shipment_type=ShipmentType.MULTIPLE,
        intended_shipments=INTENDED_SHIPMENTS,
        total_quantity_kg=TOTAL_QUANTITY_KG,
        first_departure=start,
        last_departure=end,
        operation_code="R4",
        technology="Smelting of circuit boards and recovery of copper, gold, silver, palladium",
        waste_description="Discarded mobile phones, batteries removed, in sealed lots",
        physical_characteristics="2",
        basel_code="A1181" if e_waste else "A1180",
        ewc_code="16 02 13*",
        hs_code="8549.21",
        y_codes=("Y49",) if e_waste else (),
        h_codes=("H11", "H12", "H13"),
        packaging_types=("4",),
        notified_on=filed,
        route=route.route,
        carriers=(CarrierBlock(demo.orgs["carrier"], "S"),),
    )


def _file(
    demo: Demo,
    route: ExportRoute,
    period: int,
    start: dt.date,
    end: dt.date,
    filed: dt.date,
    *,
    complete: bool,
) -> Callable[[], None]:
    """File the notification; the authority of destination acknowledges it and the written
    consents come back the same day (a demo shortcut); Morocco's silence is recorded later."""

    def action() -> None:
        actor = demo.users[route.org]
        notification = notices.create_notification(
            actor=actor,
            blocks=_blocks(demo, route, _number(route, start, period), start, end, filed),
        )
        notices.acknowledge_notification(
            actor=actor, notification=notification, acknowledged_on=filed
        )
        for stop in notification.route.all():
            if stop.country == "BE" and not complete:
                continue  # Belgium's decision is awaited
            if stop.country == "MA" and period > 0:
                continue  # Morocco stays silent: tacit consent once 60 days have passed
            notices.record_consent(
                actor=actor,
                notification=notification,
                route_stop=stop,
                decision="conditions" if stop.country == "BE" else "consent",
                conditions="Each shipment announced to OVAM two working days ahead"
                if stop.country == "BE"
                else "",
                decided_on=filed,
                valid_from=start,
                valid_to=end,
                reference=f"{stop.country}/{notification.number}",
            )
        if complete:
            notices.record_contract(
                actor=actor,
                notification=notification,
                reference=f"SPM-{route.country}-{start.year}-{period + 1}",
                signed_on=filed,
                valid_from=start,
                valid_to=end + dt.timedelta(days=120),
            )

    return action


def _guarantee(demo: Demo, start: dt.date, end: dt.date) -> Callable[[], None]:
    """One guarantee covers the three notifications of a year, and 120 days more for the
    last shipments' recovery and storage."""

    def action() -> None:
        notices.record_guarantee(
            actor=demo.users["operator"],
            reference=f"DCI-{start:%Y%m%d}",
            guarantor="Demo Credit Insurance NV",
            amount=Decimal("180000.00"),
            currency="EUR",
            valid_from=start,
            valid_to=end + dt.timedelta(days=120),
            notifications=[notification_for(demo, route.org, start) for route in ROUTES],
        )

    return action


def _tacit(demo: Demo, route: ExportRoute, start: dt.date) -> Callable[[], None]:
    """Morocco stayed silent: its tacit consent, recorded once the 60 days have passed."""

    def action() -> None:
        notification = notification_for(demo, route.org, start)
        stop = notification.route.get(country="MA")
        notices.record_tacit_consent(
            actor=demo.users[route.org], notification=notification, route_stop=stop
        )

    return action


def _release(demo: Demo, start: dt.date) -> Callable[[], None]:
    """The year's certificates of recovery are in: the guarantee is released."""

    def action() -> None:
        guarantee = notification_for(demo, "gh", start).guarantees.get()
        notices.release_guarantee(
            actor=demo.users["operator"], guarantee=guarantee, released_on=timezone.localdate()
        )

    return action


def _change_quantity(demo: Demo) -> Callable[[], None]:
    """Cameroon asks for a larger total; until the authorities answer, its drafts cannot move."""

    def action() -> None:
        notification = notification_for(demo, "cm", timezone.localdate())
        notices.request_change(
            actor=demo.users["cm"],
            notification=notification,
            kind="quantity",
            description="Bafoussam collects more than planned: total raised to 30 000 kg",
            proposed={"total_quantity_kg": "30000"},
        )

    return action
