"""Bulk uploads: background import by mode, per-line report, re-uploads recognised, crash safety,
the portal pages and the API router."""

from __future__ import annotations

import csv
import io
import time
from pathlib import Path

import pytest
from django.db import IntegrityError, transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from hypothesis import given
from hypothesis import strategies as st
from stdnum import imei as stdnum_imei
from stdnum import luhn as stdnum_luhn

import factories
from factories import World, imei, make_partner, register
from oneforone.accounts import actions as account_actions
from oneforone.accounts.models import Organisation, User
from oneforone.accounts.permissions import NotAllowed
from oneforone.partners import actions, identifiers, upload_actions
from oneforone.partners.models import (
    Conflict,
    Device,
    Registration,
    Upload,
    UploadMode,
    UploadStatus,
)


@pytest.fixture(autouse=True)
def _media(settings, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    settings.MEDIA_ROOT = tmp_path


def device_file(first: int, *, references: int = 6, per_reference: int = 5) -> bytes:
    """Device lines grouped by reference, with a bad check digit on line 4 and an IMEISV on 9."""
    lines = ["reference,category,imei"]
    n = first
    for r in range(references):
        for _ in range(per_reference):
            lines.append(f"DEV-{r},phone,{imei(n)}")
            n += 1
    good = imei(first + 2)
    lines[3] = f"DEV-0,phone,{good[:-1]}{(int(good[-1]) + 1) % 10}"
    lines[8] = f"DEV-1,phone,{imei(first + 7)}0"
    return ("\n".join(lines) + "\n").encode()


def upload(
    partner: Organisation, actor: User, data: bytes, mode: str, name: str = "devices.csv"
) -> Upload:
    created = upload_actions.create_upload(
        actor=actor, partner=partner, file=io.BytesIO(data), name=name, mode=mode
    )
    upload_actions.run_upload(created.pk)
    created.refresh_from_db()
    return created


def report(upload: Upload) -> list[list[str]]:
    with upload.report.open("rb") as f:
        return list(csv.reader(io.StringIO(f.read().decode())))


def end_state(partner: Organisation) -> list[tuple[str, int, int, list[str]]]:
    return [
        (r.reference, r.quantity, r.devices_excluded, [d.status for d in r.devices.all()])
        for r in Registration.objects.filter(partner=partner).order_by("reference")
    ]


def test_accept_valid_records_the_right_lines_and_reports_every_line(world: World) -> None:
    other, other_admin = make_partner()
    register(world, partner=other, actor=other_admin, imeis=[imei(9999)])  # claimed by them
    data = device_file(1000).replace(b"\n", f"\nDEV-5,phone,{imei(9999)}\n".encode(), 1)

    done = upload(world.partner, world.partner_admin, data, UploadMode.ACCEPT_VALID)

    assert done.status == UploadStatus.DONE, done.failure
    assert (done.rows_total, done.rows_accepted, done.rows_rejected, done.rows_conflicts) == (
        31,
        28,
        2,
        1,
    )
    lines = report(done)
    assert lines[0] == ["line", "reference", "outcome", "reason"]
    by_line = {int(row[0]): row[1:] for row in lines[1:]}
    assert len(by_line) == 31
    assert by_line[2] == ["DEV-5", "conflict", upload_actions.conflict_reason()]
    assert by_line[5][1] == "rejected"
    assert "check digit" in by_line[5][2]
    assert by_line[10][1] == "rejected"
    assert "IMEISV" in by_line[10][2]
    assert by_line[3] == ["DEV-0", "accepted", ""]
    text = "\n".join(",".join(row) for row in lines)
    assert other.name not in text
    assert imei(9999) not in text
    assert imei(1002)[:-1] not in text
    dev0 = Registration.objects.get(partner=world.partner, reference="DEV-0")
    assert (dev0.quantity, dev0.units_owed) == (4, 4)  # the bad line is left out
    dev5 = Registration.objects.get(partner=world.partner, reference="DEV-5")
    assert (dev5.quantity, dev5.devices_excluded, dev5.units_owed) == (6, 1, 5)
    assert Conflict.objects.get().second_device.registration == dev5


def test_all_or_nothing_records_nothing_when_a_line_is_wrong(world: World) -> None:
    done = upload(world.partner, world.partner_admin, device_file(2000), UploadMode.ALL_OR_NOTHING)

    assert done.status == UploadStatus.REJECTED
    assert done.failure.startswith("2 of 30 lines are wrong; nothing was recorded")
    assert not Registration.objects.filter(partner=world.partner).exists()
    outcomes = {row[0]: row[2:] for row in report(done)[1:]}
    assert outcomes["4"][0] == "rejected"
    assert "check digit" in outcomes["4"][1]
    assert outcomes["2"] == ["rejected", upload_actions.not_recorded_reason()]
    assert next(str(e) for e in upload_actions.report_errors(done)).startswith("line 4: imei:")


def test_all_or_nothing_records_a_right_file_in_one_go(world: World) -> None:
    data = b"reference,category,quantity\nQ-1,phone,3\nQ-2,laptop,2\n"

    done = upload(world.partner, world.partner_admin, data, UploadMode.ALL_OR_NOTHING)

    assert (done.status, done.rows_accepted, done.registrations_done) == ("done", 2, 2)
    assert [(r.reference, r.units_owed, r.channel) for r in Registration.objects.all()] == [
        ("Q-1", 3, "csv"),
        ("Q-2", 6, "csv"),
    ]


def test_the_same_file_again_is_recognised_not_imported_twice(world: World) -> None:
    data = b"reference,category,quantity\nS-1,phone,3\n"
    first = upload(world.partner, world.partner_admin, data, UploadMode.ACCEPT_VALID)

    with pytest.raises(upload_actions.AlreadyUploaded) as refused:
        upload(world.partner, world.partner_admin, data, UploadMode.ALL_OR_NOTHING)

    assert refused.value.upload == first
    assert str(refused.value) == (
        f"this file was uploaded on {first.created_at:%Y-%m-%d %H:%M} as upload {first.pk} (done)"
    )
    assert Registration.objects.filter(partner=world.partner).count() == 1
    other, other_admin = make_partner()
    assert upload(other, other_admin, data, UploadMode.ACCEPT_VALID).status == "done"


def test_the_database_refuses_the_same_file_twice_and_inconsistent_states(world: World) -> None:
    done = upload(
        world.partner,
        world.partner_admin,
        b"reference,category,quantity\nC-1,phone,1\n",
        UploadMode.ACCEPT_VALID,
    )
    twin = Upload.objects.filter(pk=done.pk).values().get()
    del twin["id"]
    breaks = [
        ({}, "upload_file_once"),
        ({"sha256": "f" * 64, "status": "done", "finished_at": None}, "upload_finished_iff_final"),
        ({"sha256": "e" * 64, "status": "failed", "failure": ""}, "upload_failure_iff_failed"),
        (
            {
                "sha256": "d" * 64,
                "status": "importing",
                "finished_at": None,
                "rows_accepted": 0,
                "mode": "all_or_nothing",
                "registrations_done": 1,
            },
            "upload_all_or_nothing_atomic",
        ),
        ({"sha256": "c" * 64, "rows_total": 2}, "upload_done_counts_every_line"),
        (
            {
                "sha256": "b" * 64,
                "status": "queued",
                "started_at": None,
                "finished_at": None,
                "rows_accepted": 0,
                "rows_total": None,
                "registrations_done": 0,
                "registrations_total": None,
                "mode": "accept_valid",
                "format": "pdf",
            },
            "upload_format_known",
        ),
    ]
    for change, constraint in breaks:
        with pytest.raises(IntegrityError, match=constraint), transaction.atomic():
            Upload.objects.create(**(twin | change))


class Killed(BaseException):
    """The process dies here: nothing after runs, no `except Exception` sees it."""


def kill_at_chunk(monkeypatch: pytest.MonkeyPatch, n: int) -> None:
    """Chunks before the n-th commit; the n-th dies after writing its rows, before its commit."""
    real = actions.claim_staged
    calls = {"n": 0}

    def dying(*args, **kwargs):  # type: ignore[no-untyped-def]
        calls["n"] += 1
        held = real(*args, **kwargs)
        if calls["n"] == n:
            raise Killed
        return held

    monkeypatch.setattr(actions, "claim_staged", dying)


@pytest.mark.parametrize("mode", [UploadMode.ACCEPT_VALID, UploadMode.ALL_OR_NOTHING])
def test_a_killed_import_resumes_to_the_state_of_an_uninterrupted_one(
    world: World, monkeypatch: pytest.MonkeyPatch, mode: str, settings
) -> None:  # type: ignore[no-untyped-def]
    settings.UPLOAD_CHUNK_DEVICES = 7
    killed_partner, killed_admin = make_partner()

    # The same layout twice, with other IMEIs; one device of each already claimed by the operator's
    # other customer, so conflicts happen in both.
    def devices(first: int) -> bytes:
        return b"reference,category,imei\n" + b"".join(
            f"K-{n // 4},phone,{imei(first + n)}\n".encode() for n in range(30)
        )

    bystander, bystander_admin = make_partner()
    register(world, partner=bystander, actor=bystander_admin, imeis=[imei(3013), imei(13013)])

    straight = upload(world.partner, world.partner_admin, devices(3000), mode)
    kill_at_chunk(monkeypatch, 2 if mode == UploadMode.ACCEPT_VALID else 1)
    created = upload_actions.create_upload(
        actor=killed_admin,
        partner=killed_partner,
        file=io.BytesIO(devices(13000)),
        name="devices.csv",
        mode=mode,
    )
    with pytest.raises(Killed):
        upload_actions.run_upload(created.pk)
    created.refresh_from_db()

    assert created.status == UploadStatus.IMPORTING
    assert upload_actions.is_interrupted(created)
    if mode == UploadMode.ALL_OR_NOTHING:
        assert not Registration.objects.filter(partner=killed_partner).exists()
    else:
        assert 0 < created.registrations_done < created.registrations_total  # type: ignore[operator]
    monkeypatch.undo()
    settings.UPLOAD_CHUNK_DEVICES = 7
    upload_actions.resume_upload(actor=killed_admin, upload=created)
    upload_actions.run_upload(created.pk)
    created.refresh_from_db()

    assert created.status == straight.status == UploadStatus.DONE
    assert end_state(killed_partner) == end_state(world.partner)
    assert report(created) == report(straight)
    assert created.rows_conflicts == straight.rows_conflicts == 1
    assert Device.objects.filter(registration__partner=killed_partner).count() == 30


def test_a_resumed_import_does_not_mistake_its_own_references_for_earlier_ones(
    world: World, monkeypatch: pytest.MonkeyPatch, settings
) -> None:  # type: ignore[no-untyped-def]
    settings.UPLOAD_CHUNK_DEVICES = 1
    register(world, reference="OLD")
    data = b"reference,category,quantity\nA,phone,1\nOLD,phone,1\nB,phone,1\nA,phone,2\n"
    monkeypatch.setattr(
        upload_actions, "import_chunk", _dying_after(upload_actions.import_chunk, 3)
    )
    created = upload_actions.create_upload(
        actor=world.partner_admin,
        partner=world.partner,
        file=io.BytesIO(data),
        name="q.csv",
        mode=UploadMode.ACCEPT_VALID,
    )
    with pytest.raises(Killed):
        upload_actions.run_upload(created.pk)
    monkeypatch.undo()
    upload_actions.resume_upload(actor=world.partner_admin, upload=created)
    upload_actions.run_upload(created.pk)
    created.refresh_from_db()

    assert [row[1:] for row in report(created)[1:]] == [
        ["A", "accepted", ""],
        ["OLD", "rejected", "reference 'OLD' is already registered"],
        ["B", "accepted", ""],
        ["A", "rejected", "reference 'A' repeats line 2"],
    ]


def _dying_after(real, n: int):  # type: ignore[no-untyped-def]
    calls = {"n": 0}

    def chunk(**kwargs):  # type: ignore[no-untyped-def]
        calls["n"] += 1
        if calls["n"] == n:
            raise Killed
        return real(**kwargs)

    return chunk


def test_a_failed_import_is_kept_and_can_be_retried(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise RuntimeError("the disk is full")

    monkeypatch.setattr(actions, "claim_staged", broken)
    data = f"reference,category,imei\nF-1,phone,{imei(4000)}\n".encode()
    failed = upload(world.partner, world.partner_admin, data, UploadMode.ALL_OR_NOTHING)
    assert failed.status == UploadStatus.FAILED
    assert "the disk is full" in failed.failure
    with pytest.raises(upload_actions.AlreadyUploaded):
        upload(world.partner, world.partner_admin, data, UploadMode.ALL_OR_NOTHING)

    monkeypatch.undo()
    upload_actions.resume_upload(actor=world.partner_admin, upload=failed)
    upload_actions.run_upload(failed.pk)
    failed.refresh_from_db()

    assert (failed.status, failed.attempts, failed.failure) == ("done", 2, "")
    with pytest.raises(upload_actions.UploadRefused, match="only a failed or interrupted"):
        upload_actions.resume_upload(actor=world.partner_admin, upload=failed)


def test_an_xlsx_upload_with_imeis_typed_as_numbers(world: World) -> None:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["Reference", "Category", "IMEI"])
    sheet.append(["X-1", "phone", int(imei(5001))])
    sheet.append(["X-1", "phone", imei(5002)])
    sheet.append(["X-2", "tablet", None])
    buffer = io.BytesIO()
    book.save(buffer)

    done = upload(
        world.partner,
        world.partner_admin,
        buffer.getvalue(),
        UploadMode.ACCEPT_VALID,
        name="devices.xlsx",
    )

    assert (done.format, done.status, done.rows_accepted, done.rows_rejected) == (
        "xlsx",
        "done",
        2,
        1,
    )
    assert Registration.objects.get(reference="X-1").quantity == 2
    assert report(done)[3][2:] == ["rejected", "give the device's imei or serial, or a quantity"]


def test_a_file_that_is_not_text_or_a_workbook_is_rejected_as_a_whole(world: World) -> None:
    done = upload(
        world.partner,
        world.partner_admin,
        b"PK\x03\x04junk",
        UploadMode.ACCEPT_VALID,
        name="x.xlsx",
    )
    assert done.status == UploadStatus.REJECTED
    assert "not an Excel workbook" in done.failure
    with pytest.raises(upload_actions.UploadRefused, match=r"save the sheet as \.xlsx"):
        upload(world.partner, world.partner_admin, b"abc", UploadMode.ACCEPT_VALID, name="x.xls")


def test_only_a_writing_member_uploads_for_a_partner(world: World) -> None:
    other, _ = make_partner()
    with pytest.raises(NotAllowed):
        upload(
            other,
            world.partner_admin,
            b"reference,category,quantity\nN-1,phone,1\n",
            "accept_valid",
        )
    assert not Upload.objects.exists()


# Pages --------------------------------------------------------------------------------------------


def client_for(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_the_upload_page_imports_in_the_background_and_shows_progress_and_report(
    world: World, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    from django.core.files.uploadedfile import SimpleUploadedFile

    client = client_for(world.partner_admin)
    assert client.get(reverse("partner-upload")).status_code == 200
    data = b"reference,category,quantity\nP-1,phone,3\nP-2,toaster,1\n"
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("partner-upload"),
            {
                "file": SimpleUploadedFile("r.csv", data, content_type="text/csv"),
                "mode": "accept_valid",
            },
        )
    done = Upload.objects.get()
    assert response["Location"] == reverse("partner-upload-detail", args=[done.pk])

    page = client.get(response["Location"]).content.decode()
    assert "line 3: unknown category &#x27;toaster&#x27;" in page
    assert reverse("partner-upload-report", args=[done.pk]) in page
    status = client.get(reverse("partner-upload-status", args=[done.pk])).json()
    assert (status["status"], status["percent"], status["rows_accepted"]) == ("done", 100, 1)
    csv_report = b"".join(
        client.get(reverse("partner-upload-report", args=[done.pk])).streaming_content
    )  # type: ignore[attr-defined]
    assert csv_report.decode().splitlines()[1:] == [
        "2,P-1,accepted,",
        "3,P-2,rejected,\"unknown category 'toaster'; use one of laptop, phone, tablet\"",
    ]
    assert f"upload {done.pk}" in client.get(reverse("partner-uploads")).content.decode()

    again = client.post(
        reverse("partner-upload"),
        {
            "file": SimpleUploadedFile("copy.csv", data, content_type="text/csv"),
            "mode": "all_or_nothing",
        },
    )
    assert (
        f'as <a href="{reverse("partner-upload-detail", args=[done.pk])}">upload {done.pk}</a> (done)'
        in again.content.decode()
    )
    assert Upload.objects.count() == 1


def test_upload_pages_are_the_partners_own(world: World) -> None:
    other, other_admin = make_partner()
    theirs = upload(
        other, other_admin, b"reference,category,quantity\nT-1,phone,1\n", "accept_valid"
    )
    mine = client_for(world.partner_admin)
    for name in ["partner-upload-detail", "partner-upload-status", "partner-upload-report"]:
        assert mine.get(reverse(name, args=[theirs.pk])).status_code == 404
    assert "T-1" not in mine.get(reverse("partner-uploads")).content.decode()
    hub = client_for(world.hub_user)
    assert hub.get(reverse("partner-uploads")).status_code == 403
    assert hub.get(reverse("partner-upload-status", args=[theirs.pk])).status_code == 403


def test_an_interrupted_upload_is_shown_and_resumed_from_its_page(
    world: World, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    stuck = upload_actions.create_upload(
        actor=world.partner_admin,
        partner=world.partner,
        file=io.BytesIO(b"reference,category,quantity\nI-1,phone,1\n"),
        name="i.csv",
        mode=UploadMode.ACCEPT_VALID,
    )
    Upload.objects.filter(pk=stuck.pk).update(status="importing", started_at=timezone.now())
    client = client_for(world.partner_admin)
    page = client.get(reverse("partner-upload-detail", args=[stuck.pk])).content.decode()
    assert "interrupted" in page
    assert "Resume" in page

    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("partner-upload-detail", args=[stuck.pk]), {"resume": "1"})

    stuck.refresh_from_db()
    assert stuck.status == "done"
    assert Registration.objects.filter(reference="I-1").exists()


# API ----------------------------------------------------------------------------------------------


def test_the_upload_api_creates_follows_and_reports(
    world: World, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    from django.core.files.uploadedfile import SimpleUploadedFile

    _, key = account_actions.create_api_key(
        actor=world.partner_admin, organisation=world.partner, name="erp"
    )
    client = Client(headers={"X-API-Key": key})
    data = f"reference,category,imei\nA-1,phone,{imei(6001)}\nA-1,phone,123\n".encode()
    with django_capture_on_commit_callbacks(execute=True):
        created = client.post(
            "/api/v1/uploads",
            {"mode": "accept_valid", "file": SimpleUploadedFile("a.csv", data)},
        )
    assert created.status_code == 202, created.content
    upload_id = created.json()["id"]

    status = client.get(f"/api/v1/uploads/{upload_id}").json()
    assert (status["status"], status["rows_accepted"], status["rows_rejected"]) == ("done", 1, 1)
    assert status["report_url"] == f"/api/v1/uploads/{upload_id}/report"
    listed = client.get("/api/v1/uploads").json()
    assert [u["id"] for u in listed["items"]] == [upload_id]
    assert listed["next_cursor"] is None
    report_lines = (
        b"".join(client.get(status["report_url"]).streaming_content).decode().splitlines()
    )  # type: ignore[attr-defined]
    assert len(report_lines) == 3, report_lines
    assert report_lines[2].startswith("3,A-1,rejected,imei: IMEI: 3 digits")

    again = client.post(
        "/api/v1/uploads", {"mode": "accept_valid", "file": SimpleUploadedFile("b.csv", data)}
    )
    assert again.status_code == 409
    assert again.json()["code"] == "already_uploaded"
    assert again.json()["upload"]["id"] == upload_id

    other, other_admin = make_partner()
    _, their_key = account_actions.create_api_key(actor=other_admin, organisation=other, name="x")
    theirs = Client(headers={"X-API-Key": their_key})
    assert theirs.get(f"/api/v1/uploads/{upload_id}").status_code == 404
    assert theirs.get(f"/api/v1/uploads/{upload_id}/report").status_code == 404
    assert theirs.get("/api/v1/uploads").json()["items"] == []
    bad = client.post(
        "/api/v1/uploads", {"mode": "sometimes", "file": SimpleUploadedFile("c.csv", b"x")}
    )
    assert bad.status_code == 400
    assert bad.json()["code"] == "upload_refused"
    assert "unknown mode" in bad.json()["message"]
    factories.ensure_categories()


@given(st.text(alphabet="0123456789", min_size=15, max_size=15))
def test_the_fast_imei_check_agrees_with_python_stdnum(digits: str) -> None:
    try:
        ours: str | None = identifiers.normalise_imei(digits)
    except identifiers.InvalidIdentifier:
        ours = None
    assert ours == (digits if stdnum_imei.is_valid(digits) else None)
    assert identifiers._luhn_valid(digits) == stdnum_luhn.is_valid(digits)


def test_the_resume_command_queues_every_interrupted_upload_again(
    world: World, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    from django.core.management import call_command

    stuck = upload_actions.create_upload(
        actor=world.partner_admin,
        partner=world.partner,
        file=io.BytesIO(b"reference,category,quantity\nZ-1,phone,1\n"),
        name="z.csv",
        mode=UploadMode.ACCEPT_VALID,
    )
    Upload.objects.filter(pk=stuck.pk).update(status="validating", started_at=timezone.now())
    out = io.StringIO()

    with django_capture_on_commit_callbacks(execute=True):
        call_command("resume_uploads", stdout=out)

    assert "1 interrupted upload(s) queued again." in out.getvalue()
    stuck.refresh_from_db()
    assert stuck.status == UploadStatus.DONE
    assert upload_actions.interrupted_uploads() == []


def test_an_upload_another_process_runs_is_neither_run_twice_nor_interrupted(
    world: World,
) -> None:
    import psycopg

    running = upload_actions.create_upload(
        actor=world.partner_admin,
        partner=world.partner,
        file=io.BytesIO(b"reference,category,quantity\nR-1,phone,1\n"),
        name="r.csv",
        mode=UploadMode.ACCEPT_VALID,
    )
    Upload.objects.filter(pk=running.pk).update(status="importing", started_at=timezone.now())
    running.refresh_from_db()
    with psycopg.connect(**factories.database_params()) as other:
        other.execute(
            "SELECT pg_advisory_lock(%s, %s)", [upload_actions._RUN_LOCK_NAMESPACE, running.pk]
        )

        assert upload_actions.run_upload(running.pk) == "running elsewhere"
        assert upload_actions.is_running(running)
        assert not upload_actions.is_interrupted(running)
        with pytest.raises(upload_actions.UploadRefused, match="only a failed or interrupted"):
            upload_actions.resume_upload(actor=world.partner_admin, upload=running)

    for _ in range(200):  # that process is gone: the server drops its lock as its backend ends
        if upload_actions.is_interrupted(running):
            break
        time.sleep(0.05)
    assert upload_actions.is_interrupted(running)
    assert not Registration.objects.filter(reference="R-1").exists()
