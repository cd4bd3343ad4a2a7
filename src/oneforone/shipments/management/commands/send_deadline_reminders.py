"""Send the reminders of deadlines due soon or overdue; run daily from cron."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from oneforone.accounts.queries import system_user
from oneforone.shipments.deadline_actions import send_deadline_reminders


class Command(BaseCommand):
    help = (
        "E-mail the responsible organisations and the operator about deadlines due within five "
        "days or overdue (each deadline and stage once; the task worker sends the e-mails). "
        "Run it daily from cron."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--today", help="the day to judge deadlines on (YYYY-MM-DD)")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            today = (
                dt.date.fromisoformat(options["today"])
                if options["today"]
                else timezone.localdate()
            )
        except ValueError as exc:
            raise CommandError(f"--today must be a date like 2026-12-09: {exc}") from exc
        sent = send_deadline_reminders(actor=system_user(), today=today)
        self.stdout.write(f"{sent} deadline reminder(s) sent for {today:%Y-%m-%d}")
