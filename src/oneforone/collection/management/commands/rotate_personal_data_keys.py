from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from oneforone.accounts.models import User
from oneforone.accounts.permissions import NotAllowed
from oneforone.collection.people_actions import rotate_personal_data_keys


class Command(BaseCommand):
    help = (
        "Re-encrypt every collector's personal data with the first key of "
        "ONEFORONE_PERSONAL_DATA_KEYS; afterwards the older keys can be removed."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--actor", required=True, help="username of the operator staff member")

    def handle(self, *args: Any, **options: Any) -> None:
        actor = User.objects.filter(username=options["actor"]).first()
        if actor is None:
            raise CommandError(f"no user {options['actor']!r}")
        try:
            count = rotate_personal_data_keys(actor=actor)
        except NotAllowed as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"re-encrypted {count} identities with the first key")
