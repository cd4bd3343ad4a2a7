from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from oneforone.accounts.models import User
from oneforone.accounts.permissions import NotAllowed, require_operator
from oneforone.registry.actions import publish_ledger_roots


class Command(BaseCommand):
    help = (
        "Publish the Merkle root of every finished UTC day of the unit ledger not yet published "
        "(run it daily, after 01:00 UTC, from cron or a scheduler)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--actor", required=True, help="username of the operator staff member")

    def handle(self, *args: Any, **options: Any) -> None:
        actor = User.objects.filter(username=options["actor"]).first()
        if actor is None:
            raise CommandError(f"no user {options['actor']!r}")
        try:
            require_operator(actor)
        except NotAllowed as exc:
            raise CommandError(str(exc)) from exc
        roots = publish_ledger_roots(actor=actor)
        for root in roots:
            self.stdout.write(f"{root.day}: {root.entries} entries, root {root.root}")
        if not roots:
            self.stdout.write("nothing to publish: every finished day has its root")
