from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from oneforone.core.audit import verify_chain
from oneforone.core.models import AuditEvent


class Command(BaseCommand):
    help = "Recompute the audit log's hash chain; exit non-zero naming the first broken entry."

    def handle(self, *args: Any, **options: Any) -> None:
        broken = verify_chain()
        if broken is not None:
            raise CommandError(f"audit entry {broken.event_id}: {broken.reason}")
        self.stdout.write(f"audit chain intact: {AuditEvent.objects.count()} entries")
