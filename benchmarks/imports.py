"""Bulk import benchmark: a 1,000,000-device CSV through the real upload task, next to a raw
PostgreSQL COPY of the same file, on the same database in the same run.

    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/postgres uv run python benchmarks/imports.py
    uv run python benchmarks/imports.py --devices 100000          # a quick check

Database: as benchmarks/registry.py (the database named by --database, default o4o_bench_imports,
is dropped and created again). The generated files, the report and its JSON copy and the cProfile
output go to benchmarks/out/ (git-ignored).

Steps, each timed:
1. generate the file (not measured): `reference,category,imei`, one valid IMEI a line (Luhn check
   digit right), `--per-registration` lines a reference (one registration of that many devices);
2. the floor: raw `COPY` of the file's bytes into a plain three-column text table (no index,
   no constraint), best of 3, commit included; and `COPY` of the device rows the import wrote (read
   back with COPY TO, outside the timing) into a table LIKE partners_device INCLUDING ALL (its
   indexes and constraints), best of 3;
3. ours: `create_upload` (sha256, file stored) and the upload task run to its end (tasks run inline
   here: the ImmediateBackend, so the task runs in this process right after the upload commits),
   all or nothing, then again with another file of other IMEIs in "accept the valid rows" mode
   (10 chunks); the time of each phase (validate, write, report) is taken by wrapping the phase
   functions, and the accept-valid run is profiled with cProfile (its time is then inflated, so it
   is reported apart).
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import sys
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

# The registry benchmark's database set-up and report helpers, shared.
from registry import (
    OUT_DIR,
    log,
    machine,
    prepare_database,
    raw_connection,
    scalar,
    setup_django,
    timed,
)

REPEATS = 3


def luhn_digit(body: str) -> str:
    total = 0
    for i, ch in enumerate(reversed(body)):
        d = int(ch)
        if i % 2 == 0:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return str((10 - total % 10) % 10)


def generate(path: Path, devices: int, per_registration: int, tac: str, prefix: str) -> int:
    """Write the device file; returns its size in bytes."""
    assert devices <= 1_000_000, "one type allocation code holds a million serials"
    with path.open("w", newline="") as f:
        f.write("reference,category,imei\n")
        block = []
        for n in range(devices):
            body = f"{tac}{n:06d}"
            block.append(f"{prefix}-{n // per_registration:07d},phone,{body}{luhn_digit(body)}\n")
            if len(block) == 50_000:
                f.write("".join(block))
                block.clear()
        f.write("".join(block))
    return path.stat().st_size


def raw_copy(path: Path) -> float:
    """COPY the file's bytes into a fresh plain table (commit included); best of REPEATS."""
    conn = raw_connection()
    best = float("inf")
    for _ in range(REPEATS):
        conn.execute("DROP TABLE IF EXISTS bench_raw_copy")
        conn.execute("CREATE TABLE bench_raw_copy (reference text, category text, imei text)")
        start = time.perf_counter()
        with (
            conn.transaction(),
            conn.cursor() as cursor,
            cursor.copy("COPY bench_raw_copy FROM STDIN (FORMAT csv, HEADER true)") as copy,
            path.open("rb") as f,
        ):
            while block := f.read(1 << 20):
                copy.write(block)
        best = min(best, time.perf_counter() - start)
    assert scalar("SELECT count(*) FROM bench_raw_copy") > 0
    conn.execute("DROP TABLE bench_raw_copy")
    return best


def device_copy_floor(
    partner_id: int, order: str, *, foreign_key: bool = False
) -> tuple[float, int]:
    """COPY the device rows the import wrote, in `order`, into a table with partners_device's
    indexes and constraints (no triggers; with `foreign_key`, its deferred foreign key to
    partners_registration too, checked at commit as the import's is); best of REPEATS."""
    conn = raw_connection()
    buffer = io.BytesIO()
    columns = "registration_id, position, kind, identifier_hash, status"
    with (
        conn.cursor() as cursor,
        cursor.copy(
            f"COPY (SELECT {columns} FROM partners_device d WHERE registration_id IN "
            f"(SELECT id FROM partners_registration WHERE partner_id = {int(partner_id)}) "
            f"ORDER BY {order}) TO STDOUT"
        ) as copy,
    ):
        for block in copy:
            buffer.write(block)
    payload = buffer.getvalue()
    rows = payload.count(b"\n")
    best = float("inf")
    for _ in range(REPEATS):
        conn.execute("DROP TABLE IF EXISTS bench_device_copy")
        conn.execute("CREATE TABLE bench_device_copy (LIKE partners_device INCLUDING ALL)")
        if foreign_key:
            conn.execute(
                "ALTER TABLE bench_device_copy ADD FOREIGN KEY (registration_id) REFERENCES "
                "partners_registration (id) DEFERRABLE INITIALLY DEFERRED"
            )
        start = time.perf_counter()
        with (
            conn.transaction(),
            conn.cursor() as cursor,
            cursor.copy(f"COPY bench_device_copy ({columns}) FROM STDIN") as copy,
        ):
            copy.write(payload)
        best = min(best, time.perf_counter() - start)
    conn.execute("DROP TABLE bench_device_copy")
    return best, rows


class Phases:
    """Wall time spent in the upload's phase functions (wrapped for the run)."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = defaultdict(float)
        self.order: list[str] = []

    def in_order(self) -> dict[str, float]:
        return {label: self.seconds[label] for label in self.order if label in self.seconds}

    def wrap(self, module: Any, name: str, label: str) -> None:
        real: Callable[..., Any] = getattr(module, name)
        self.order.append(label)

        def timed_phase(*args: Any, **kwargs: Any) -> Any:
            start = time.perf_counter()
            try:
                return real(*args, **kwargs)
            finally:
                self.seconds[label] += time.perf_counter() - start

        setattr(module, name, timed_phase)


def import_file(path: Path, partner: Any, actor: Any, mode: str) -> tuple[float, Any]:
    from oneforone.partners import upload_actions

    def run() -> Any:
        with path.open("rb") as f:
            upload = upload_actions.create_upload(
                actor=actor, partner=partner, file=f, name=path.name, mode=mode
            )
        upload.refresh_from_db()
        return upload

    return timed(run)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--devices", type=int, default=1_000_000)
    parser.add_argument("--per-registration", type=int, default=100)
    parser.add_argument("--database", default="o4o_bench_imports")
    parser.add_argument("--no-profile", action="store_true")
    args = parser.parse_args(argv)
    started = time.strftime("%Y-%m-%d %H:%M")
    load_start = os.getloadavg()

    where = prepare_database(args.database)
    os.environ["ONEFORONE_TASKS"] = "immediate"
    setup_django()
    os.environ.pop("ONEFORONE_TASKS", None)
    from django.conf import settings

    settings.TASKS = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}
    settings.MEDIA_ROOT = OUT_DIR / "media"
    from registry import make_cast

    from oneforone.partners import actions, upload_actions

    OUT_DIR.mkdir(exist_ok=True)
    cast = make_cast(2)
    (partner_a, admin_a), (partner_b, admin_b) = cast.partners
    files = {}
    for label, tac in (("a", "35693803"), ("b", "35693804")):
        path = OUT_DIR / f"imports-{args.devices}-{label}.csv"
        size = generate(path, args.devices, args.per_registration, tac, f"BENCH-{label.upper()}")
        files[label] = (path, size)
        log(f"generated {path.name}: {args.devices:,} lines, {size / 1e6:.1f} MB")

    copy_seconds = raw_copy(files["a"][0])
    log(f"raw COPY of the file: {copy_seconds:.2f} s")

    phases = Phases()
    phases.wrap(upload_actions, "validate_upload", "read + validate (pydantic, HMAC)")
    phases.wrap(upload_actions, "validate_lines", "  of which reading and validating the lines")
    phases.wrap(actions, "check_rows", "  of which check_rows (categories, references)")
    phases.wrap(upload_actions, "import_chunk", "write (COPY, INSERT ... SELECT, claim)")
    phases.wrap(actions, "copy_devices_to_stage", "  of which COPY of the devices to the stage")
    phases.wrap(actions, "claim_staged", "  of which claim_staged (the claim SQL)")
    phases.wrap(upload_actions, "copy_rows", "  of which COPY of registrations, lines")
    phases.wrap(upload_actions, "store_report", "report CSV")
    seconds, upload = import_file(files["a"][0], partner_a, admin_a, "all_or_nothing")
    assert upload.status == "done", upload.failure
    log(f"import, all or nothing: {seconds:.2f} s ({upload.rows_accepted:,} accepted)")
    phase_a = phases.in_order()
    floor_seconds, device_rows = device_copy_floor(partner_a.pk, "registration_id, position")
    log(f"COPY of the {device_rows:,} device rows into the real indexes: {floor_seconds:.2f} s")
    sorted_seconds, _ = device_copy_floor(partner_a.pk, "identifier_hash")
    log(f"the same in hash order: {sorted_seconds:.2f} s")
    fk_seconds, _ = device_copy_floor(partner_a.pk, "identifier_hash", foreign_key=True)
    log(f"the same with the foreign key: {fk_seconds:.2f} s")

    phases.seconds.clear()
    profiler = None if args.no_profile else cProfile.Profile()
    if profiler:
        profiler.enable()
    seconds_b, upload_b = import_file(files["b"][0], partner_b, admin_b, "accept_valid")
    if profiler:
        profiler.disable()
    assert upload_b.status == "done", upload_b.failure
    log(f"import, accept valid{' (profiled)' if profiler else ''}: {seconds_b:.2f} s")

    rows = [
        ("raw COPY of the file into a plain table (best of 3)", args.devices, copy_seconds, 1.0),
        (
            "COPY of the device rows written, into partners_device's indexes (best of 3)",
            device_rows,
            floor_seconds,
            floor_seconds / copy_seconds,
        ),
        (
            "the same rows in identifier-hash order, as the import inserts them (best of 3)",
            device_rows,
            sorted_seconds,
            sorted_seconds / copy_seconds,
        ),
        (
            "the same, with the foreign key to partners_registration (checked at commit)",
            device_rows,
            fk_seconds,
            fk_seconds / copy_seconds,
        ),
        ("our import, all or nothing (upload + task, end to end)", upload.rows_accepted, seconds, seconds / copy_seconds),
        (
            f"our import, accept valid, {'profiled' if profiler else 'not profiled'}",
            upload_b.rows_accepted,
            seconds_b,
            seconds_b / copy_seconds,
        ),
    ]  # fmt: skip
    m = machine()
    lines = [
        f"## Import benchmark, {started}",
        "",
        f"`{' '.join(['uv run python benchmarks/imports.py', *(argv or sys.argv[1:])])}`",
        "",
        f"Machine: {m['cores']} cores ({m['cpu']}), {m['memory']} RAM; PostgreSQL "
        f"{m['server_version']} ({where}); shared_buffers {m['shared_buffers']}, work_mem "
        f"{m['work_mem']}, synchronous_commit {m['synchronous_commit']}; Python {m['python']}, "
        f"Django {m['django']}. File: {args.devices:,} device lines in "
        f"{args.devices // args.per_registration:,} registrations, {files['a'][1] / 1e6:.1f} MB. "
        f"Load average at the start {load_start}, at the end {os.getloadavg()}.",
        "",
        "| step | rows | time | × raw COPY |",
        "|---|--:|--:|--:|",
        *(f"| {name} | {n:,} | {t:.2f} s | {ratio:.1f}× |" for name, n, t, ratio in rows),
        "",
        f"The all-or-nothing import takes {seconds / copy_seconds:.1f}× the raw COPY of the file, "
        f"and {seconds / fk_seconds:.1f}× the COPY of the device rows it wrote into the real "
        "indexes and foreign key (the floor of writing them at all).",
        "",
        "Where the all-or-nothing import's time goes:",
        "",
        "| phase | time | share |",
        "|---|--:|--:|",
        *(f"| {name} | {t:.2f} s | {100 * t / seconds:.0f} % |" for name, t in phase_a.items()),
        f"| rest: upload (sha256, storing the file), task, status updates | "
        f"{seconds - sum(t for n, t in phase_a.items() if not n.startswith(' ')):.2f} s | |",
        "",
    ]
    if profiler:
        profile_path = OUT_DIR / "imports-accept-valid.prof"
        profiler.dump_stats(profile_path)
        text = io.StringIO()
        pstats.Stats(profiler, stream=text).strip_dirs().sort_stats("tottime").print_stats(18)
        body = text.getvalue()
        body = body[body.index("   ncalls") :] if "   ncalls" in body else body
        lines += [
            "cProfile of the accept-valid run, by own time (top 18):",
            "",
            "```",
            body.rstrip(),
            "```",
        ]
    report = "\n".join(lines) + "\n"
    print(report)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    (OUT_DIR / f"imports-{stamp}.md").write_text(report)
    (OUT_DIR / f"imports-{stamp}.json").write_text(
        json.dumps({"rows": rows, "phases": phase_a, "machine": m}, indent=2, default=str)
    )


if __name__ == "__main__":
    main()
