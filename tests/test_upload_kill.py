"""An upload whose process is killed (SIGKILL) in the middle of its import resumes, from its
checkpoint, to the very state an uninterrupted import of the same layout reaches."""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from factories import database_url, ensure_categories, imei, make_partner
from oneforone.partners import upload_actions
from oneforone.partners.models import Registration, Upload, UploadMode, UploadStatus

pytestmark = pytest.mark.django_db(transaction=True)

RUN = (
    "import sys, django; django.setup();"
    "from oneforone.partners.upload_actions import run_upload; run_upload(int(sys.argv[1]))"
)


def devices(first: int) -> bytes:
    return b"reference,category,imei\n" + b"".join(
        f"KILL-{n // 50:03d},phone,{imei(first + n)}\n".encode() for n in range(6000)
    )


def state(partner) -> list[tuple[str, int, int, list[str]]]:  # type: ignore[no-untyped-def]
    return [
        (r.reference, r.quantity, r.devices_excluded, [d.status for d in r.devices.all()])
        for r in Registration.objects.filter(partner=partner).order_by("reference")
    ]


def report(upload: Upload) -> list[str]:
    with upload.report.open("rb") as f:
        return f.read().decode().splitlines()


def test_an_import_killed_with_sigkill_resumes_to_the_uninterrupted_state(
    settings, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    ensure_categories()
    settings.MEDIA_ROOT = tmp_path
    settings.UPLOAD_CHUNK_DEVICES = 200
    # The queue keeps the task: this test runs it itself, in a process it kills.
    settings.TASKS = {"default": {"BACKEND": "django.tasks.backends.dummy.DummyBackend"}}
    (straight_partner, straight_admin), (killed_partner, killed_admin) = (
        make_partner(),
        make_partner(),
    )
    straight = upload_actions.create_upload(
        actor=straight_admin, partner=straight_partner, file=io.BytesIO(devices(100_000)),
        name="a.csv", mode=UploadMode.ACCEPT_VALID,
    )  # fmt: skip
    upload_actions.run_upload(straight.pk)
    killed = upload_actions.create_upload(
        actor=killed_admin, partner=killed_partner, file=io.BytesIO(devices(200_000)),
        name="b.csv", mode=UploadMode.ACCEPT_VALID,
    )  # fmt: skip

    env = os.environ | {
        "DATABASE_URL": database_url(),
        "MEDIA_ROOT": str(tmp_path),
        "UPLOAD_CHUNK_DEVICES": "200",
        "ONEFORONE_DEVICE_KEY": settings.DEVICE_IDENTIFIER_KEY,
    }
    process = subprocess.Popen([sys.executable, "-c", RUN, str(killed.pk)], env=env)  # noqa: S603
    deadline = time.monotonic() + 120
    while process.poll() is None and time.monotonic() < deadline:
        if Upload.objects.get(pk=killed.pk).registrations_done > 0:
            break
        time.sleep(0.02)
    process.send_signal(signal.SIGKILL)
    process.wait()

    killed.refresh_from_db()
    assert killed.status == UploadStatus.IMPORTING
    assert 0 < killed.registrations_done < 120  # some chunks committed, not all
    assert Registration.objects.filter(partner=killed_partner).count() == killed.registrations_done
    while not upload_actions.is_interrupted(killed) and time.monotonic() < deadline:
        time.sleep(0.05)  # the server notices the dead client and drops its run lock
    assert upload_actions.is_interrupted(killed)

    upload_actions.resume_upload(actor=killed_admin, upload=killed)
    upload_actions.run_upload(killed.pk)

    killed.refresh_from_db()
    straight.refresh_from_db()
    assert (killed.status, killed.attempts) == (UploadStatus.DONE, 2)
    assert state(killed_partner) == state(straight_partner)
    assert report(killed) == report(straight)
    assert killed.rows_accepted == straight.rows_accepted == 6000
