"""Bulk uploads of registrations: create, run in the background, resume, report.

An upload goes queued -> validating -> importing -> done, or ends rejected (the file, or in
all-or-nothing mode some of its lines, are wrong: nothing recorded) or failed (the import broke;
a retry continues it). The database keeps the states consistent (see Upload's constraints).

Crash safety. The file is read and validated again on every run (it is kept, and reading is
deterministic), so nothing of the validation needs saving. What is written goes in chunks, each
one transaction that also advances the checkpoint `Upload.registrations_done` and stores the
chunk's rejected and conflicting lines:
- all or nothing: one chunk, which also finishes the upload. A kill leaves nothing but the
  upload's status (validating or importing, with no runner): it is resumed from the start.
- accept the valid rows: chunks of about settings.UPLOAD_CHUNK_DEVICES devices; a killed run is
  resumed from its checkpoint, without duplicates, and ends as an uninterrupted run would.
A run holds a session advisory lock on its upload for its whole life; PostgreSQL drops it when
the process or its connection dies, so "validating/importing and nobody holds the lock" is exactly
an interrupted upload (`is_running`), which `resume_upload` (button, API, `oneforone
resume-uploads`) puts back in the queue. Two runners of one upload cannot overlap: the second
does not get the lock, and each chunk checks the checkpoint it started from under a row lock.

Speed. Registrations and devices are written set-based: COPY into staging tables, then INSERT ...
SELECT, and the very claim statements `register_devices` uses (actions.claim_staged), so the
one-device-one-claim rules, `devices_excluded` and the conflicts are the same whatever the path.
"""

from __future__ import annotations

import csv
import gc
import hashlib
import io
import logging
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from django.conf import settings
from django.core.files.base import ContentFile, File
from django.db import IntegrityError, connection, transaction
from django.utils import timezone, translation
from django.utils.formats import number_format
from django.utils.translation import gettext, ngettext

from oneforone.accounts.models import Organisation, OrganisationKind, User
from oneforone.accounts.permissions import NotAllowed, require_member
from oneforone.accounts.queries import system_user
from oneforone.core import audit
from oneforone.core.db import copy_rows
from oneforone.partners import actions, webhook_events
from oneforone.partners.imports import (
    Entry,
    FileRefused,
    ParsedFile,
    RowError,
    csv_lines,
    decode,
    validate_lines,
    xlsx_lines,
)
from oneforone.partners.models import (
    Channel,
    LineOutcome,
    Registration,
    Upload,
    UploadFormat,
    UploadLine,
    UploadMode,
    UploadStatus,
)
from oneforone.partners.queries import current_categories, device_counts
from oneforone.partners.schemas import RegistrationRow
from oneforone.webhooks.actions import listening
from oneforone.webhooks.models import EventType

logger = logging.getLogger(__name__)
PROGRESS_EVERY = 50_000  # lines validated between two progress updates


def conflict_reason() -> str:
    return gettext(
        "already registered for compensation (by you or another partner): recorded but held for "
        "the operator's review, not owed twice"
    )


def not_recorded_reason() -> str:
    return gettext(
        "not recorded: other lines of the file are wrong and the upload is all or nothing"
    )


# pg_try_advisory_lock(namespace, upload id): held by the one process running an upload.
_RUN_LOCK_NAMESPACE = 0x0403


class UploadRefused(Exception):
    """The file cannot be accepted for import; the message says what to do."""


class AlreadyUploaded(Exception):
    """The same file was uploaded before by this partner: that upload is `upload`."""

    def __init__(self, upload: Upload) -> None:
        super().__init__(
            gettext("this file was uploaded on %(when)s as upload %(number)s (%(status)s)")
            % {
                "when": f"{upload.created_at:%Y-%m-%d %H:%M}",
                "number": upload.pk,
                "status": upload.get_status_display(),
            }
        )
        self.upload = upload


def _sniff_format(name: str, head: bytes) -> str:
    if head.startswith(b"PK\x03\x04"):
        if not name.lower().endswith((".xlsx", ".xlsm")):
            raise UploadRefused(
                gettext(
                    "this looks like a zip archive or a workbook: upload an .xlsx workbook or a CSV"
                )
            )
        return UploadFormat.XLSX
    if name.lower().endswith((".xls", ".ods", ".numbers")):
        raise UploadRefused(gettext("save the sheet as .xlsx (Excel workbook) or as CSV (UTF-8)"))
    return UploadFormat.CSV


@transaction.atomic
def create_upload(
    *, actor: User, partner: Organisation, file: IO[bytes], name: str, mode: str
) -> Upload:
    """Keep the file and queue its import. AlreadyUploaded if this partner uploaded the same
    bytes before (an earlier failed upload is retried instead: `retry_upload`)."""
    require_member(actor, partner)
    if partner.kind != OrganisationKind.PARTNER:
        raise NotAllowed(
            gettext("%(organisation)s is not a partner") % {"organisation": partner.name}
        )
    if mode not in UploadMode.values:
        raise UploadRefused(
            gettext("unknown mode %(mode)s; use one of %(modes)s")
            % {"mode": repr(mode), "modes": ", ".join(UploadMode.values)}
        )
    digest = hashlib.sha256()
    size = 0
    file.seek(0)
    head = file.read(8)
    file.seek(0)
    while block := file.read(1 << 20):
        digest.update(block)
        size += len(block)
    if size == 0:
        raise UploadRefused(
            gettext("the file is empty; expected a header line (%(columns)s) and rows")
            % {"columns": ",".join(RegistrationRow.columns())}
        )
    if size > settings.UPLOAD_MAX_BYTES:
        raise UploadRefused(
            gettext("the file is %(size)s MB; the limit is %(limit)s MB: split it")
            % {
                "size": number_format(size / 1e6, decimal_pos=1),
                "limit": number_format(settings.UPLOAD_MAX_BYTES / 1e6, decimal_pos=0),
            }
        )
    sha256 = digest.hexdigest()
    earlier = Upload.objects.filter(partner=partner, sha256=sha256).first()
    if earlier is not None:
        raise AlreadyUploaded(earlier)
    name = Path(name or "upload").name[:200]
    file.seek(0)
    upload = Upload(
        partner=partner,
        uploaded_by=actor,
        original_name=name,
        format=_sniff_format(name, head),
        size=size,
        sha256=sha256,
        mode=mode,
        created_at=timezone.now(),
    )
    upload.file.save(f"{sha256[:16]}.{upload.format}", File(file), save=False)
    try:
        with transaction.atomic():
            upload.save()
    except IntegrityError:  # the same file at the same moment: one of the two uploads wins
        upload.file.delete(save=False)
        raise AlreadyUploaded(Upload.objects.get(partner=partner, sha256=sha256)) from None
    audit.record(
        actor=actor,
        code="partners.upload.created",
        obj=upload,
        organisation=partner,
        data={"name": name, "size": size, "sha256": sha256, "mode": mode},
    )
    _enqueue_on_commit(upload)
    return upload


def _enqueue_on_commit(upload: Upload) -> None:
    from oneforone.partners.tasks import run_upload_task

    pk = upload.pk
    transaction.on_commit(lambda: run_upload_task.enqueue(pk))


def is_running(upload: Upload) -> bool:
    """A process holds the upload's run lock (it dies with the process or its connection)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND granted"
            " AND classid = %s AND objid = %s AND objsubid = 2)",
            [_RUN_LOCK_NAMESPACE, upload.pk],
        )
        return bool(cursor.fetchone()[0])


def interrupted_uploads() -> list[Upload]:
    """Every upload validating or importing that no process runs (killed, server restarted)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT objid FROM pg_locks WHERE locktype = 'advisory' AND granted"
            " AND classid = %s AND objsubid = 2",
            [_RUN_LOCK_NAMESPACE],
        )
        running = [row[0] for row in cursor.fetchall()]
    return list(
        Upload.objects.filter(status__in=[UploadStatus.VALIDATING, UploadStatus.IMPORTING])
        .exclude(pk__in=running)
        .select_related("partner")
    )


def is_interrupted(upload: Upload) -> bool:
    """Validating or importing, with nobody running it: its process was killed."""
    return upload.status in (UploadStatus.VALIDATING, UploadStatus.IMPORTING) and not is_running(
        upload
    )


@transaction.atomic
def resume_upload(*, actor: User, upload: Upload) -> Upload:
    """Queue again a failed or interrupted upload; it continues from its checkpoint.

    A writing member of the partner, or the system (`oneforone resume-uploads`, after a crash)."""
    if actor != system_user():
        require_member(actor, upload.partner)
    upload = Upload.objects.select_for_update().get(pk=upload.pk)
    if not (upload.status == UploadStatus.FAILED or is_interrupted(upload)):
        raise UploadRefused(
            gettext(
                "upload %(number)s is %(status)s: only a failed or interrupted upload can be "
                "resumed"
            )
            % {"number": upload.pk, "status": upload.get_status_display()}
        )
    previous = upload.status
    upload.status = UploadStatus.QUEUED
    upload.failure = ""
    upload.finished_at = None
    upload.save(update_fields=["status", "failure", "finished_at"])
    audit.record(
        actor=actor,
        code="partners.upload.resumed",
        obj=upload,
        organisation=upload.partner,
        data={"from": previous, "registrations_done": upload.registrations_done},
    )
    _enqueue_on_commit(upload)
    return upload


# Running ----------------------------------------------------------------------------------------


class _Superseded(Exception):
    """Another run moved the upload on; this one stops without writing."""


def run_upload(upload_id: int) -> str:
    """The background task's body: run the upload to its end (or to where it breaks)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", [_RUN_LOCK_NAMESPACE, upload_id])
        if not cursor.fetchone()[0]:
            return "running elsewhere"
    try:
        upload = Upload.objects.select_related("partner", "uploaded_by").get(pk=upload_id)
        # What the run writes (the failure, each line's reason, the report) is read by the
        # member who uploaded the file: it is written in their language.
        with translation.override(upload.uploaded_by.email_language):
            return _run_to_the_end(upload)
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s, %s)", [_RUN_LOCK_NAMESPACE, upload_id])


def _run_to_the_end(upload: Upload) -> str:
    if upload.finished:
        if not upload.report:
            store_report(upload)
        return upload.status
    try:
        with _without_cyclic_gc():
            _run(upload)
    except _Superseded:
        return "superseded"
    except Exception as exc:
        # Logged for the operator; the partner sees the failure and may retry (a bug or a
        # lost database is not the file's fault).
        logger.exception("upload %s failed", upload.pk)
        fail_upload(
            upload=upload,
            message=gettext("the import broke: %(error)s")
            % {"error": f"{type(exc).__name__}: {exc}"},
        )
        return UploadStatus.FAILED
    upload.refresh_from_db()
    store_report(upload)
    return upload.status


@contextmanager
def _without_cyclic_gc() -> Iterator[None]:
    """A run builds millions of small objects that live until its end and hold no cycles;
    Python's cyclic collector would scan them again and again, finding nothing to free: measured,
    a third of the CPU time of validating a million lines. Reference counting still frees
    everything; the collector runs again afterwards."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


@dataclass
class Outcomes:
    """What the file's lines come to before anything is written."""

    parsed: ParsedFile
    rejected: dict[int, str] = field(default_factory=dict)  # line -> reason
    entry_rejected: dict[int, str] = field(default_factory=dict)  # entry's first line -> reason


def _run(upload: Upload) -> None:
    _set_status(upload, UploadStatus.VALIDATING, attempt=True)
    try:
        outcomes = validate_upload(upload)
    except FileRefused as exc:
        error = exc.error
        lines = {error.line: error.message} if error.line else {}
        reject_upload(
            upload=upload, message=str(error) if error.line else error.message, lines=lines
        )
        return
    parsed = outcomes.parsed
    Upload.objects.filter(pk=upload.pk).update(
        rows_total=parsed.lines,
        rows_validated=parsed.lines,
        registrations_total=len(parsed.entries),
    )
    upload.rows_total = parsed.lines
    if upload.mode == UploadMode.ALL_OR_NOTHING and outcomes.rejected:
        wrong = len(outcomes.rejected)
        reject_upload(
            upload=upload,
            message=ngettext(
                "%(wrong)s of %(lines)s lines is wrong; nothing was recorded: fix it (see the "
                "report) and upload the file again",
                "%(wrong)s of %(lines)s lines are wrong; nothing was recorded: fix them (see the "
                "report) and upload the file again",
                wrong,
            )
            % {
                "wrong": number_format(wrong, force_grouping=True),
                "lines": number_format(parsed.lines, force_grouping=True),
            },
            lines=outcomes.rejected,
        )
        return
    _set_status(upload, UploadStatus.IMPORTING)
    for start, stop, final in _chunks(upload, parsed.entries):
        import_chunk(upload=upload, outcomes=outcomes, start=start, stop=stop, final=final)


def _chunks(upload: Upload, entries: Sequence[Entry]) -> Iterator[tuple[int, int, bool]]:
    """[start, stop) ranges of entries from the checkpoint; one range in all-or-nothing mode."""
    start = upload.registrations_done
    if upload.mode == UploadMode.ALL_OR_NOTHING or not entries:
        yield start, len(entries), True
        return
    size = 0
    stop = start
    while stop < len(entries):
        size += max(1, len(entries[stop].hashes))
        stop += 1
        if size >= settings.UPLOAD_CHUNK_DEVICES or stop == len(entries):
            yield start, stop, stop == len(entries)
            start, size = stop, 0
    if start == len(entries) == upload.registrations_done:
        yield start, start, True  # cannot happen (the last chunk finishes), but never hang here


def _set_status(upload: Upload, status: str, *, attempt: bool = False) -> None:
    """Progress of a run (not a decision of anyone's): a plain update, committed at once."""
    fields: dict[str, Any] = {"status": status}
    if attempt:
        upload.attempts += 1
        fields |= {"attempts": upload.attempts, "started_at": timezone.now()}
    # Any unfinished state: the caller holds the run lock, so an upload still "importing" was
    # interrupted (the worker re-runs a task whose process died) and continues here.
    updated = Upload.objects.filter(
        pk=upload.pk,
        status__in=[UploadStatus.QUEUED, UploadStatus.VALIDATING, UploadStatus.IMPORTING],
    ).update(**fields)
    if not updated:
        raise _Superseded
    upload.status = status


def _file_lines(upload: Upload) -> Iterator[tuple[int, list[str]]]:
    path = Path(upload.file.path)
    if upload.format == UploadFormat.XLSX:
        return xlsx_lines(path)
    return csv_lines(decode(path.read_bytes(), settings.UPLOAD_MAX_BYTES))


def validate_upload(upload: Upload) -> Outcomes:
    """Read and validate the whole file (progress saved as it goes); then what the database
    says about its registrations (categories, references already registered)."""

    def counted(lines: Iterator[tuple[int, list[str]]]) -> Iterator[tuple[int, list[str]]]:
        for n, item in enumerate(lines, start=1):
            if n % PROGRESS_EVERY == 0:
                Upload.objects.filter(pk=upload.pk).update(rows_validated=n)
            yield item

    parsed = validate_lines(
        counted(_file_lines(upload)), max_rows=settings.UPLOAD_MAX_ROWS, max_errors=None
    )
    outcomes = Outcomes(parsed)
    for error in parsed.errors:
        reason = outcomes.rejected.get(error.line)
        outcomes.rejected[error.line] = f"{reason}; {error.message}" if reason else error.message
    problems = actions.check_rows(upload.partner, parsed.rows) if parsed.entries else []
    # References this upload registered itself before a resume are not "already registered".
    ours = _registered_by_this_upload(upload, parsed.entries)
    by_line = {e.line: e for e in parsed.entries}
    for problem in problems:
        entry = by_line[problem.line]
        if entry.row.reference in ours and problem.code == "reference_taken":
            continue
        reason = outcomes.entry_rejected.get(entry.line)
        outcomes.entry_rejected[entry.line] = (
            f"{reason}; {problem.message}" if reason else problem.message
        )
    for line, reason in outcomes.entry_rejected.items():
        for each in by_line[line].all_lines:
            outcomes.rejected[each] = reason
    return outcomes


def _registered_by_this_upload(upload: Upload, entries: Sequence[Entry]) -> set[str]:
    done = entries[: upload.registrations_done]
    if not done:
        return set()
    rejected = set(upload.lines.filter(outcome=LineOutcome.REJECTED).values_list("line", flat=True))
    return {e.row.reference for e in done if e.line not in rejected}


def _announce(
    partner: Organisation, registration_ids: list[int], held: list[actions._NewDevice]
) -> None:
    """The webhook events of the registrations a chunk wrote, as register_devices sends them;
    read back from the database only when one of the partner's endpoints listens."""
    if not listening(EventType.REGISTRATION_ACCEPTED, [partner.pk]) and not held:
        return
    registrations = list(
        Registration.objects.filter(pk__in=registration_ids)
        .select_related("category", "programme")
        .order_by("pk")
    )
    counts = device_counts(registration_ids)
    claims = {
        r.pk: actions.DeviceClaims(
            listed=counts[r.pk].listed if r.pk in counts else 0,
            claimed=counts[r.pk].claimed if r.pk in counts else 0,
            already_compensated=counts[r.pk].already_compensated if r.pk in counts else 0,
        )
        for r in registrations
    }
    webhook_events.registrations_accepted(partner, registrations, claims, held)


_STAGE_REGISTRATIONS = """
    CREATE TEMP TABLE IF NOT EXISTS partners_registration_stage (
        reference text NOT NULL, programme_id bigint NOT NULL, category_id bigint NOT NULL,
        quantity integer NOT NULL, units_per_device integer NOT NULL, ord integer NOT NULL,
        product_model text NOT NULL
    ) ON COMMIT DELETE ROWS
"""
_INSERT_REGISTRATIONS = """
    INSERT INTO partners_registration (partner_id, reference, programme_id, category_id, quantity,
        devices_excluded, units_per_device, channel, created_at, created_by_id, cancel_reason,
        product_model)
    SELECT %(partner)s, reference, programme_id, category_id, quantity, 0, units_per_device,
           %(channel)s, %(now)s, %(actor)s, '', product_model
    FROM partners_registration_stage ORDER BY ord
    RETURNING id, reference
"""


@transaction.atomic
def import_chunk(*, upload: Upload, outcomes: Outcomes, start: int, stop: int, final: bool) -> None:
    """Write the registrations [start, stop) of the file with their devices, their rejected and
    conflicting lines and the checkpoint, in one transaction; the last chunk finishes the upload.

    The actor is the partner's member who uploaded the file: the registrations are theirs."""
    locked = Upload.objects.select_for_update().get(pk=upload.pk)
    if locked.status != UploadStatus.IMPORTING or locked.registrations_done != start:
        raise _Superseded
    actor = upload.uploaded_by
    partner = upload.partner
    entries = outcomes.parsed.entries[start:stop]
    valid = [e for e in entries if e.line not in outcomes.entry_rejected]
    lines: dict[int, tuple[str, str]] = {
        line: (LineOutcome.REJECTED, outcomes.entry_rejected[e.line])
        for e in entries
        if e.line in outcomes.entry_rejected
        for line in e.all_lines
    }
    if final:  # lines outside any registration (unreadable): with the last chunk
        in_entries = {line for e in outcomes.parsed.entries for line in e.all_lines}
        lines |= {
            line: (LineOutcome.REJECTED, reason)
            for line, reason in outcomes.rejected.items()
            if line not in in_entries
        }
    now = timezone.now()
    categories = current_categories()
    programmes = actions.ProgrammeChoice(partner)
    held = 0
    held_devices: list[actions._NewDevice] = []
    first_id = last_id = None
    if valid:
        with connection.cursor() as cursor:
            cursor.execute(_STAGE_REGISTRATIONS)
            cursor.execute("TRUNCATE partners_registration_stage")
        copy_rows(
            "partners_registration_stage",
            [
                "reference",
                "programme_id",
                "category_id",
                "quantity",
                "units_per_device",
                "ord",
                "product_model",
            ],
            (
                (
                    e.row.reference,
                    programmes.of(e.row).pk,
                    categories[e.row.category].pk,
                    e.row.count,
                    categories[e.row.category].units_per_device,
                    n,
                    e.row.product_model,
                )
                for n, e in enumerate(valid)
            ),
        )
        with connection.cursor() as cursor:
            cursor.execute(
                _INSERT_REGISTRATIONS,
                {"partner": partner.pk, "channel": Channel.CSV, "now": now, "actor": actor.pk},
            )
            ids = {reference: pk for pk, reference in cursor.fetchall()}
            first_id, last_id = min(ids.values()), max(ids.values())
            listed = [e for e in valid if e.hashes]
            if listed:
                actions.open_device_stage(cursor)
                actions.copy_devices_to_stage(
                    cursor,
                    (
                        actions._NewDevice(ids[e.row.reference], position, kind, hashed)
                        for e in listed
                        for position, (kind, hashed) in enumerate(
                            zip(e.kinds, e.hashes, strict=True), start=1
                        )
                    ),
                )
                held = actions.claim_staged(cursor, now, analyze=True)
            if held:
                cursor.execute(
                    "SELECT registration_id, position FROM partners_device_stage"
                    " WHERE status = 'held'"
                )
                entry_of = {ids[e.row.reference]: e for e in listed}
                reason = conflict_reason()
                for registration_id, position in cursor.fetchall():
                    entry = entry_of[registration_id]
                    line = entry.lines[position - 1]
                    lines[line] = (LineOutcome.CONFLICT, reason)
                    held_devices.append(
                        actions._NewDevice(registration_id, position, entry.kinds[position - 1], "")
                    )
        if ids:
            _announce(partner, list(ids.values()), held_devices)
    copy_rows(
        UploadLine._meta.db_table,
        ["upload_id", "line", "outcome", "reason"],
        ((upload.pk, line, outcome, reason) for line, (outcome, reason) in sorted(lines.items())),
    )
    rejected = sum(1 for outcome, _ in lines.values() if outcome == LineOutcome.REJECTED)
    conflicts = len(lines) - rejected
    accepted = sum(len(e.all_lines) for e in valid) - conflicts
    locked.rows_accepted += accepted
    locked.rows_rejected += rejected
    locked.rows_conflicts += conflicts
    locked.registrations_done = stop
    if final:
        locked.status = UploadStatus.DONE
        locked.finished_at = now
    locked.save(
        update_fields=[
            "rows_accepted",
            "rows_rejected",
            "rows_conflicts",
            "registrations_done",
            "status",
            "finished_at",
        ]
    )
    audit.record(
        actor=actor,
        code="partners.registrations.created",
        obj=upload,
        organisation=partner,
        data={
            "channel": Channel.CSV,
            "upload": upload.pk,
            "registrations": len(valid),
            "devices": sum(e.row.count for e in valid),
            "devices_listed": sum(len(e.hashes) for e in valid),
            "conflicts": held,
            "first_id": first_id,
            "last_id": last_id,
            "lines_rejected": rejected,
            "finished": final,
        },
    )


@transaction.atomic
def reject_upload(*, upload: Upload, message: str, lines: dict[int, str]) -> None:
    """The file, or (all or nothing) some of its lines, are wrong: record why, write nothing."""
    locked = Upload.objects.select_for_update().get(pk=upload.pk)
    if locked.status != UploadStatus.VALIDATING:
        raise _Superseded
    copy_rows(
        UploadLine._meta.db_table,
        ["upload_id", "line", "outcome", "reason"],
        ((upload.pk, line, LineOutcome.REJECTED, reason) for line, reason in sorted(lines.items())),
    )
    locked.status = UploadStatus.REJECTED
    locked.failure = message
    locked.finished_at = timezone.now()
    locked.rows_rejected = len(lines)
    locked.save(update_fields=["status", "failure", "finished_at", "rows_rejected"])
    audit.record(
        actor=upload.uploaded_by,
        code="partners.upload.rejected",
        obj=upload,
        organisation=upload.partner,
        data={"message": message, "lines_rejected": len(lines)},
    )


@transaction.atomic
def fail_upload(*, upload: Upload, message: str) -> None:
    """The import broke (not the file): keep what was committed; a retry continues from there."""
    locked = Upload.objects.select_for_update().get(pk=upload.pk)
    if locked.finished:
        return
    locked.status = UploadStatus.FAILED
    locked.failure = message[:2000]
    locked.finished_at = timezone.now()
    locked.started_at = locked.started_at or locked.finished_at
    locked.save(update_fields=["status", "failure", "finished_at", "started_at"])
    audit.record(
        actor=upload.uploaded_by,
        code="partners.upload.failed",
        obj=upload,
        organisation=upload.partner,
        data={"message": locked.failure, "registrations_done": locked.registrations_done},
    )


# The report -------------------------------------------------------------------------------------

REPORT_COLUMNS = ["line", "reference", "outcome", "reason"]


def report_lines(upload: Upload) -> Iterator[list[str]]:
    """Every line of the file with its outcome. Reasons never repeat an identifier, and a conflict
    never names the other partner."""
    outcomes = {
        line: (outcome, reason)
        for line, outcome, reason in upload.lines.values_list("line", "outcome", "reason")
    }
    yield REPORT_COLUMNS
    if upload.status == UploadStatus.REJECTED and upload.rows_total is None:
        # The file as a whole (or from the line where it cannot be read on).
        [line] = list(outcomes) or [0]
        yield [str(line), "", LineOutcome.REJECTED, outcomes.get(line, ("", upload.failure))[1]]
        return
    try:
        lines = _file_lines(upload)
        header = next(lines)[1]
    except (FileRefused, StopIteration):
        return
    try:
        column = [c.strip().lower() for c in header].index("reference")
    except ValueError:
        column = -1
    default = (
        (LineOutcome.REJECTED, not_recorded_reason())
        if upload.status == UploadStatus.REJECTED
        else (LineOutcome.ACCEPTED, "")
    )
    try:
        for line, row in lines:
            if not "".join(row).strip():  # a blank line (one C call, not a generator a line)
                continue
            outcome, reason = outcomes.get(line, default)
            reference = row[column].strip() if 0 <= column < len(row) else ""
            yield [str(line), reference, outcome, reason]
    except FileRefused:
        return


def store_report(upload: Upload) -> None:
    """Write the report of a finished upload once (derived data: it can always be made again)."""
    if upload.status not in (UploadStatus.DONE, UploadStatus.REJECTED):
        return
    buffer = io.StringIO()
    csv.writer(buffer).writerows(report_lines(upload))
    upload.report.save(
        f"upload-{upload.pk}-report.csv", ContentFile(buffer.getvalue().encode()), save=False
    )
    Upload.objects.filter(pk=upload.pk).update(report=upload.report.name)


def report_errors(upload: Upload, limit: int = 20) -> list[RowError]:
    """The first rejected lines, to show on the page."""
    return [
        RowError(line, reason)
        for line, reason in upload.lines.filter(outcome=LineOutcome.REJECTED)
        .order_by("line")
        .values_list("line", "reason")[:limit]
    ]
