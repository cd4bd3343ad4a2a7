"""The impact benchmark: methodology figures for every batch, and their sums for any scope.

    uv run python benchmarks/impact.py --scale 0.01              # 20 batches, 2,000 registrations
    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/postgres \\
      uv run python benchmarks/impact.py                         # 2,000 x 40,000 phones (80 million)
    uv run python benchmarks/impact.py --reuse                   # on a database the registry
                                                                 # benchmark left (no rebuild)

The data is the registry benchmark's (benchmarks/registry.py: treated consignments through every
action, registrations, allocation in runs). Measured, each against a floor measured in the same
run on the same database:

- computing the figures of every batch under version 2026.1 (`impact.tasks.compute_version`, one
  transaction, one audit event per batch), against a raw COPY of the computation and figure rows
  it wrote;
- `impact_figures` for the scopes the pages ask for (the service, a partner, a programme, an
  origin country and period, a certificate, an allocation) and `drill_down` of a partner's figure,
  against the scan of the scope's allocations alone (what any answer must read).

See benchmarks/README.md for the results.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import sys
import time
from dataclasses import dataclass
from typing import Any

import registry as bench  # benchmarks/registry.py: the data builder and the floors

METHOD_VERSION = 1  # 2026.1, the seeded version


@dataclass(frozen=True)
class ScopeCase:
    name: str
    scope: Any
    floor_sql: str
    floor_params: dict[str, Any]


# What any answer for a scope must read: its allocations, summed per batch.
PARTNER_FLOOR = """
    SELECT a.batch_id, SUM(a.quantity) FROM registry_allocation a
    JOIN partners_registration r ON r.id = a.registration_id
    WHERE r.partner_id = %(id)s AND a.revoked_at IS NULL GROUP BY a.batch_id
"""
PROGRAMME_FLOOR = """
    SELECT a.batch_id, SUM(a.quantity) FROM registry_allocation a
    JOIN partners_registration r ON r.id = a.registration_id
    WHERE r.programme_id = %(id)s AND a.revoked_at IS NULL GROUP BY a.batch_id
"""
SERVICE_FLOOR = "SELECT id, quantity FROM registry_issuancebatch"
ORIGIN_FLOOR = """
    SELECT a.batch_id, SUM(a.quantity) FROM registry_allocation a
    JOIN registry_issuancebatch b ON b.id = a.batch_id
    WHERE b.origin_country = %(country)s AND a.revoked_at IS NULL
      AND (a.allocated_at AT TIME ZONE 'UTC')::date BETWEEN %(start)s AND %(end)s
    GROUP BY a.batch_id
"""
CERTIFICATE_FLOOR = """
    SELECT a.batch_id, SUM(a.quantity) FROM registry_allocation a
    WHERE a.registration_id = %(id)s AND a.revoked_at IS NULL GROUP BY a.batch_id
"""
ALLOCATION_FLOOR = "SELECT batch_id, quantity FROM registry_allocation WHERE id = %(id)s"


def fetch_all(sql: str, params: dict[str, Any]) -> int:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return len(cursor.fetchall())


def scope_cases() -> list[ScopeCase]:
    """The largest partner, its largest programme, the largest certificate and allocation, and
    the first origin country over the last year: the heaviest scope of each kind."""
    from django.db.models import Count, Sum

    from oneforone.impact.queries import Scope
    from oneforone.partners.models import Programme, Registration
    from oneforone.registry.models import Allocation, Certificate, IssuanceBatch

    partner_id = (
        Registration.objects.values("partner_id")
        .annotate(n=Sum("units_owed"))
        .order_by("-n")
        .values_list("partner_id", flat=True)
        .first()
    )
    programme = (
        Programme.objects.filter(partner_id=partner_id)
        .annotate(n=Count("registrations"))
        .order_by("-n")
        .first()
    )
    allocation = Allocation.objects.filter(revoked_at__isnull=True).order_by("-quantity").first()
    certificate = Certificate.objects.order_by("-registration__units_owed", "id").first()
    country = IssuanceBatch.objects.values_list("origin_country", flat=True).first()
    assert programme is not None
    assert allocation is not None
    assert certificate is not None
    assert country is not None
    until = dt.date.today()  # noqa: DTZ011
    since = until - dt.timedelta(days=365)
    partner = programme.partner
    return [
        ScopeCase("the service (home page)", Scope(issued=True), SERVICE_FLOOR, {}),
        ScopeCase("the largest partner", Scope(partner=partner), PARTNER_FLOOR, {"id": partner.pk}),
        ScopeCase(
            "its largest programme",
            Scope(partner=partner, programme=programme),
            PROGRAMME_FLOOR,
            {"id": programme.pk},
        ),
        ScopeCase(
            f"origin {country}, last 365 days",
            Scope(origin_country=country, allocated_from=since, allocated_until=until),
            ORIGIN_FLOOR,
            {"country": country, "start": since, "end": until},
        ),
        ScopeCase(
            "the largest certificate",
            Scope(certificate=certificate),
            CERTIFICATE_FLOOR,
            {"id": certificate.registration_id},
        ),
        ScopeCase(
            "the largest allocation", Scope(allocation=allocation), ALLOCATION_FLOOR, {"id": allocation.pk}
        ),
    ]  # fmt: skip


def measure_computation(report: bench.Report) -> None:
    from oneforone.impact.models import MethodologyVersion
    from oneforone.impact.tasks import compute_version

    version = MethodologyVersion.objects.get(number=METHOD_VERSION)
    mark = {
        table: int(bench.scalar(f"SELECT COALESCE(MAX(id), 0) FROM {table}"))
        for table in ("impact_computation", "impact_figure")
    }

    def progress(done: int, total: int) -> None:
        if done % max(1, total // 10) == 0:
            bench.log(f"compute: {done:,}/{total:,} batches")

    seconds, batches = bench.timed(
        lambda: compute_version(version.number, reason="benchmark", again=True, progress=progress)
    )
    computations = bench.copy_out("impact_computation", mark["impact_computation"])
    figures = bench.copy_out("impact_figure", mark["impact_figure"])
    plain = bench.copy_in(computations, indexed=False) + bench.copy_in(figures, indexed=False)
    indexed = bench.copy_in(computations, indexed=True) + bench.copy_in(figures, indexed=True)
    rows = f"{batches:,} batches: {computations.rows:,} computations, {figures.rows:,} figures"
    report.steps.append(
        bench.Step(
            "compute every batch (2026.1)", rows, seconds, "COPY of those rows, indexed", indexed
        )
    )
    report.steps.append(
        bench.Step("", "", seconds, "COPY of those rows, heap only", plain)
    )  # fmt: skip
    report.notes.append(
        f"Computing one batch takes {seconds / max(batches, 1) * 1000:.1f} ms: reading its "
        "reception, lots, assays, legs and income, the method in Python, and one transaction "
        "with its audit event."
    )


def measure_scopes(report: bench.Report) -> None:
    from oneforone.impact.queries import drill_down, impact_figures

    for case in scope_cases():
        ours = bench.best_of(lambda case=case: impact_figures(case.scope))  # type: ignore[misc]
        figures = impact_figures(case.scope)
        floor = bench.best_of(lambda case=case: fetch_all(case.floor_sql, case.floor_params))  # type: ignore[misc]
        rows = f"{figures.units:,} units, {len(figures.figures)} figures"
        report.steps.append(
            bench.Step(f"impact_figures: {case.name}", rows, ours, "scan of its allocations", floor)
        )
        if case.name == "the largest partner":
            down = drill_down(case.scope, "ewaste_mass_kg")
            seconds = bench.best_of(lambda case=case: drill_down(case.scope, "ewaste_mass_kg"))  # type: ignore[misc]
            report.steps.append(
                bench.Step(
                    "drill_down: the partner's mass", f"{len(down.batches):,} batches", seconds,
                    "scan of its allocations", floor,
                )
            )  # fmt: skip


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="benchmarks/impact.py", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--scale", type=float, default=1.0, help="as in benchmarks/registry.py")
    parser.add_argument("--phones", type=int, default=bench.PHONES, help="phones per consignment")
    parser.add_argument("--database", default="o4o_bench", help="dropped and created again")
    parser.add_argument("--reuse", action="store_true", help="measure the database as it is")
    parser.add_argument("--seed", type=int, default=bench.SEED)
    return parser.parse_args(argv)  # fmt: skip


def build(args: argparse.Namespace, report: bench.Report) -> None:
    batches = max(1, round(bench.BATCHES * args.scale))
    registrations = max(1, round(bench.REGISTRATIONS * args.scale))
    rng = random.Random(args.seed)
    cast = bench.make_cast(bench.PARTNERS)
    start = time.perf_counter()
    for number in range(1, batches + 1):
        bench.treat_consignment(cast, number, args.phones)
        if number % max(1, batches // 10) == 0:
            bench.log(f"load: {number:,}/{batches:,} consignments treated")
    report.load[f"{batches:,} treated consignments"] = time.perf_counter() - start
    rows = bench.registration_rows(rng, registrations, round(batches * args.phones * bench.OWED_SHARE), "BENCH")  # fmt: skip
    report.load[f"{registrations:,} registrations"] = bench.timed(
        lambda: bench.register(cast, rows)
    )[0]
    bench.analyze("modified")
    # Runs of about 2,000 registrations' units, as the registry benchmark's --in-runs.
    run_units = max(1, round(batches * args.phones * bench.OWED_SHARE / registrations * 2_000))
    runs = bench.allocate_runs(cast, run_units, "modified", None)
    report.load[f"allocation ({runs.allocations:,} ranges)"] = runs.seconds


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    report = bench.Report()
    if args.reuse:
        where = "reused database " + args.database
        if url := os.environ.get("DATABASE_URL"):
            from urllib.parse import urlsplit, urlunsplit

            os.environ["DATABASE_URL"] = urlunsplit(
                urlsplit(url)._replace(path=f"/{args.database}")
            )
        else:
            os.environ["ONEFORONE_DB_NAME"] = args.database
    else:
        where = bench.prepare_database(args.database)
    bench.setup_django()
    command = "uv run python benchmarks/impact.py " + " ".join(
        sys.argv[1:] if argv is None else argv
    )
    if not args.reuse:
        build(args, report)
    bench.analyze("modified")
    bench.collect_counts(report)
    measure_computation(report)
    bench.analyze("modified")
    measure_scopes(report)
    text = render(report, where, command)
    print(text)
    bench.OUT_DIR.mkdir(exist_ok=True)
    path = bench.OUT_DIR / f"impact-{time.strftime('%Y%m%d-%H%M%S')}.md"
    path.write_text(text)
    path.with_suffix(".json").write_text(
        json.dumps({"counts": report.counts, "steps": [s.__dict__ for s in report.steps]}, indent=2)
    )
    bench.log(f"written to {path}")


def render(report: bench.Report, where: str, command: str) -> str:
    m = bench.machine()
    lines = [
        f"## Impact benchmark, {dt.date.today().isoformat()}",  # noqa: DTZ011
        "",
        f"`{command}`",
        "",
        f"Machine: {m['cores']} cores ({m['cpu']}), {m['memory']} RAM; PostgreSQL "
        f"{m['server_version']} ({where}); Python {m['python']}, Django {m['django']}; load "
        "average (1, 5, 15 min) at the end: {:.1f}, {:.1f}, {:.1f}.".format(*os.getloadavg()),
        "",
        "Counts: " + ", ".join(f"{k} {v:,}" for k, v in report.counts.items()) + ".",
        "",
        *bench.step_table(report.steps),
    ]
    if report.load:
        lines += ["", "Loading (not measured): " + "; ".join(f"{k} {v:.1f} s" for k, v in report.load.items()) + "."]  # fmt: skip
    lines += ["", *(f"- {note}" for note in report.notes)]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
