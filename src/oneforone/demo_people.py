"""The demo's collectors as people: identities with consent, code of conduct, training, protective
equipment and incidents over the history, through the people actions.

Every name, phone number and mobile-money account here is invented: first names and surnames
common in the region, combined at random, and numbers in the 555 range that the demo uses for
fiction. None of them is a real person."""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable
from typing import TYPE_CHECKING

from django.utils import timezone

from oneforone.collection import people_actions
from oneforone.collection.models import Collector, Hub, IncidentKind
from oneforone.collection.people_queries import CURRENT_CONDUCT_VERSION
from oneforone.collection.personal_data import Person

if TYPE_CHECKING:
    from oneforone.accounts.models import User
    from oneforone.demo import Demo, Timeline

CONSENT_VERSION = "consent-2024-1"
FIRST_CONDUCT_VERSION = "1.0"
CONDUCT_RELEASE_DAYS_AGO = 150  # the current code of conduct came out this long before the load

# fmt: off
FIRST_NAMES = {
    "GH": ("Kwame", "Ama", "Kofi", "Abena", "Yaw", "Efua", "Kwabena", "Akosua", "Kojo", "Adjoa",
           "Kwaku", "Afua", "Fiifi", "Esi"),
    "NG": ("Tunde", "Funmilayo", "Chinedu", "Ngozi", "Emeka", "Bisi", "Segun", "Amaka", "Kunle",
           "Ifeoma", "Babatunde", "Chiamaka", "Musa", "Hauwa"),
    "CM": ("Jean", "Marie", "Paul", "Brigitte", "Emmanuel", "Solange", "Hervé", "Clarisse", "Serge",
           "Pauline", "Blaise", "Odile", "Rodrigue", "Nadège"),
}
SURNAMES = {
    "GH": ("Mensah", "Owusu", "Boateng", "Asante", "Osei", "Appiah", "Darko", "Quartey", "Agyeman",
           "Ofori", "Addo", "Tetteh"),
    "NG": ("Adeyemi", "Okafor", "Balogun", "Eze", "Okonkwo", "Adebayo", "Nwosu", "Ogunleye",
           "Bello", "Olawale", "Umeh", "Ibrahim"),
    "CM": ("Mbarga", "Essomba", "Fotso", "Nkeng", "Tchamba", "Ngono", "Kamga", "Atangana",
           "Tchoupo", "Mvondo", "Ewane", "Njoya"),
}
WALLETS = {"GH": "MTN MoMo", "NG": "OPay", "CM": "Orange Money"}
TRAINERS = {
    "GH": ("Green Loop training team", "Accra Red Cross first-aid course"),
    "NG": ("Lagos Phone Recovery training team", "Lagos Red Cross first-aid course"),
    "CM": ("Équipe formation Recup Mobile", "Croix-Rouge Douala, cours de secourisme"),
}
# What happened, what was done, and whether it is closed yet (the last two are still open).
INCIDENTS = (
    (IncidentKind.INJURY, "Cut on the palm from a cracked screen while sorting.",
     ("First aid at the hub; cut-resistant gloves replaced.",), True),
    (IncidentKind.FIRE, "A swollen battery smoked in the sorting tray; put out with sand.",
     ("Battery box moved away from the bench.", "Refresher on battery removal given."), True),
    (IncidentKind.THEFT, "Bag of 60 phones taken from a parked motorbike on the way to the hub.",
     ("Reported to the police; the hub now collects from the market twice a week.",), True),
    (IncidentKind.HARASSMENT, "Threatened by a scrap buyer who wanted the phones instead.",
     ("Talked with the market association; collector accompanied for two weeks.",), True),
    (IncidentKind.INJURY, "Eye irritation from dust while opening back covers.",
     ("Goggles issued the same day; watching whether masks are needed too.",), False),
    (IncidentKind.OTHER, "Mobile-money payment did not arrive for three days.",
     ("Provider ticket opened; paid in cash meanwhile.",), False),
)
# fmt: on


def person_for(country: str, code: str) -> Person:
    """The invented person behind a collector code; a generator seeded by the code keeps every
    load the same without drawing from anyone else's stream."""
    rng = random.Random(code)  # noqa: S311 - made-up demo data, not a secret
    number = int(code.rsplit("-", 1)[-1])
    first = rng.choice(FIRST_NAMES[country])
    surname = rng.choice(SURNAMES[country])
    digits = f"{rng.randint(0, 999):03d}{number % 10}"
    phone = {
        "GH": f"+233 24 555 {digits}",
        "NG": f"+234 803 555 {digits}",
        "CM": f"+237 6 55 55 {digits[:2]} {digits[2:]}",
    }[country]
    # About one in five is paid in cash and gives no mobile-money account.
    wallet = "" if rng.random() < 0.2 else f"{WALLETS[country]} {phone}"
    return Person(name=f"{first} {surname}", phone=phone, mobile_money=wallet)


def register_collectors(actor: User, hub: Hub, prefix: str, count: int) -> list[Collector]:
    """The hub's collectors, registered with their consent the day the hub joins."""
    codes = [f"{prefix}-{n:03d}" for n in range(1, count + 1)]
    return [
        people_actions.register_collector(
            actor=actor,
            hub=hub,
            person=person_for(hub.country, code),
            consent_version=CONSENT_VERSION,
            consent_given_on=timezone.localdate(),
            code=code,
        )
        for code in codes
    ]


def schedule(
    timeline: Timeline, rng: random.Random, demo: Demo, first_day: dt.date, today: dt.date
) -> None:
    """Put this part of the demo on the timeline (its own random stream keeps the rest as is)."""
    from oneforone.demo import HUBS

    released = today - dt.timedelta(days=CONDUCT_RELEASE_DAYS_AGO)
    incidents = list(INCIDENTS)
    for plan in HUBS:
        start = first_day + dt.timedelta(weeks=plan.start_week)
        for index in range(plan.collectors):
            steps = _collector_steps(rng, plan.country, start, released, today)
            for day, step in steps:

                def run(
                    step: _Step = step, org: str = plan.org, code: str = plan.code, i: int = index
                ) -> None:
                    step(demo.users[org], demo.collectors[code][i])

                timeline.at(_at(rng, day), run)
        # One or two incidents per hub, the open ones recent.
        for _ in range(1 if plan.collectors < 12 else 2):
            if incidents:
                _schedule_incident(
                    timeline, rng, demo, (plan.org, plan.code), incidents.pop(0), start, today
                )


_Step = Callable[["User", Collector], object]


def _at(rng: random.Random, day: dt.date) -> dt.datetime:
    minute = rng.randint(8 * 60, 16 * 60)
    return dt.datetime.combine(day, dt.time(minute // 60, minute % 60), tzinfo=dt.UTC)


def _collector_steps(
    rng: random.Random, country: str, start: dt.date, released: dt.date, today: dt.date
) -> list[tuple[dt.date, _Step]]:
    """A collector's safe-work history: the first code of conduct on joining, training and
    equipment in the first months, a glove replacement now and then, the current code for most."""
    last = today - dt.timedelta(days=1)

    def on(days_after: int, base: dt.date = start) -> dt.date:
        return min(base + dt.timedelta(days=days_after), last)

    team, first_aid = TRAINERS[country]
    steps: list[tuple[dt.date, _Step]] = [
        (on(rng.randint(0, 10)), _conduct(FIRST_CONDUCT_VERSION)),
        (on(rng.randint(3, 40)), _training("safe_handling", team)),
    ]
    if rng.random() < 0.9:
        steps.append((on(rng.randint(20, 90)), _training("battery_removal", team)))
    if rng.random() < 0.5:
        steps.append((on(rng.randint(60, 300)), _training("first_aid", first_aid)))
    if rng.random() < 0.6:
        steps.append((on(rng.randint(10, 120)), _training("fair_buying", team)))
    if rng.random() < 0.88:
        issued = on(rng.randint(0, 30))
        steps += [(issued, _equipment("gloves", 2)), (issued, _equipment("goggles", 1))]
        replaced = issued + dt.timedelta(days=rng.randint(150, 210))
        while replaced < last:
            steps.append((replaced, _equipment("gloves", 2)))
            replaced += dt.timedelta(days=rng.randint(150, 210))
    if rng.random() < 0.55:
        steps.append((on(rng.randint(0, 60)), _equipment("mask", 5)))
    if rng.random() < 0.85:
        steps.append(
            (on(rng.randint(1, 90), max(released, start)), _conduct(CURRENT_CONDUCT_VERSION))
        )
    return steps


def _conduct(version: str) -> _Step:
    def step(actor: User, collector: Collector) -> object:
        return people_actions.acknowledge_conduct(
            actor=actor,
            collector=collector,
            version=version,
            acknowledged_on=timezone.localdate(),
        )

    return step


def _training(topic: str, trainer: str) -> _Step:
    def step(actor: User, collector: Collector) -> object:
        return people_actions.record_training(
            actor=actor,
            collector=collector,
            topic=topic,
            trained_on=timezone.localdate(),
            trainer=trainer,
        )

    return step


def _equipment(item: str, quantity: int) -> _Step:
    def step(actor: User, collector: Collector) -> object:
        return people_actions.issue_equipment(
            actor=actor,
            collector=collector,
            item=item,
            quantity=quantity,
            issued_on=timezone.localdate(),
        )

    return step


def _schedule_incident(
    timeline: Timeline,
    rng: random.Random,
    demo: Demo,
    where: tuple[str, str],
    incident: tuple[str, str, tuple[str, ...], bool],
    start: dt.date,
    today: dt.date,
) -> None:
    org, hub_code = where
    kind, description, follow_ups, closed = incident
    span = (today - start).days
    happened = (
        start + dt.timedelta(days=rng.randint(30, max(31, span - 60)))
        if closed
        else today - dt.timedelta(days=rng.randint(4, 12))
    )
    index = rng.randrange(10)
    reported: list[object] = []

    def report() -> None:
        reported.append(
            people_actions.report_incident(
                actor=demo.users[org],
                hub=demo.hubs[hub_code],
                collector=demo.collectors[hub_code][index],
                kind=kind,
                occurred_on=timezone.localdate(),
                description=description,
            )
        )

    timeline.at(_at(rng, happened), report)
    for n, note in enumerate(follow_ups, start=1):
        last = closed and n == len(follow_ups)

        def follow(note: str = note, closes: bool = last) -> None:
            people_actions.follow_up_incident(
                actor=demo.users[org],
                incident=reported[0],  # type: ignore[arg-type]
                note=note,
                closes=closes,
            )

        day = min(
            happened + dt.timedelta(days=2 * n + rng.randint(0, 3)), today - dt.timedelta(days=1)
        )
        timeline.at(_at(rng, day) + dt.timedelta(hours=n), follow)
