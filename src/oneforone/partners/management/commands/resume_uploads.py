from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from oneforone.accounts.queries import system_user
from oneforone.partners import upload_actions


class Command(BaseCommand):
    help = (
        "Queue again every upload left validating or importing by a process that died (run it "
        "after a crash or a restart of the workers); each continues from its checkpoint."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        actor = system_user()
        uploads = upload_actions.interrupted_uploads()
        for upload in uploads:
            upload_actions.resume_upload(actor=actor, upload=upload)
            self.stdout.write(
                f"upload {upload.pk} of {upload.partner.name}: queued again from registration "
                f"{upload.registrations_done}"
            )
        self.stdout.write(f"{len(uploads)} interrupted upload(s) queued again.")
