from __future__ import annotations

from django.tasks import task

from oneforone.partners.upload_actions import run_upload


@task()
def run_upload_task(upload_id: int) -> str:
    """Import an upload in the background (resumable: see partners.upload_actions)."""
    return run_upload(upload_id)
