from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from oneforone.accounts.models import User
from oneforone.accounts.permissions import NotAllowed
from oneforone.shipments.document_actions import DocumentError, delete_expired_documents


class Command(BaseCommand):
    help = (
        "Delete the shipment attachments, movement documents and notifications whose retention "
        "(completion + ONEFORONE_DOCUMENT_RETENTION_YEARS, at least 5 years) has ended."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--actor", required=True, help="username of the operator staff member")

    def handle(self, *args: Any, **options: Any) -> None:
        actor = User.objects.filter(username=options["actor"]).first()
        if actor is None:
            raise CommandError(f"no user {options['actor']!r}")
        try:
            deleted = delete_expired_documents(actor=actor, today=timezone.localdate())
        except (NotAllowed, DocumentError) as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            f"deleted {len(deleted.attachments)} attachment(s) and "
            f"{len(deleted.notifications)} notification(s) past retention"
        )
