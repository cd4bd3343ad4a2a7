"""Delete expired Idempotency-Key records (claims also purge a batch now and then)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from oneforone.core.idempotency import purge_expired


class Command(BaseCommand):
    help = "Delete Idempotency-Key records older than their 24 hours."

    def handle(self, *args: Any, **options: Any) -> None:
        deleted = purge_expired()
        self.stdout.write(f"{deleted} expired idempotency record(s) deleted")
