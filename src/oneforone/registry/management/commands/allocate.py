from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from oneforone.accounts.models import Organisation, OrganisationKind, User
from oneforone.accounts.permissions import NotAllowed, require_operator
from oneforone.registry.actions import allocate


class Command(BaseCommand):
    help = "Allocate available units to open registrations (oldest first), issuing certificates."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--actor", required=True, help="username of the operator staff member")
        parser.add_argument("--partner", help="slug of one partner to allocate to")
        parser.add_argument("--max-units", type=int)

    def handle(self, *args: Any, **options: Any) -> None:
        actor = User.objects.filter(username=options["actor"]).first()
        if actor is None:
            raise CommandError(f"no user {options['actor']!r}")
        try:
            require_operator(actor)
        except NotAllowed as exc:
            raise CommandError(str(exc)) from exc
        partner = None
        if options["partner"]:
            partner = Organisation.objects.filter(
                slug=options["partner"], kind=OrganisationKind.PARTNER
            ).first()
            if partner is None:
                raise CommandError(f"no partner with slug {options['partner']!r}")
        result = allocate(actor=actor, partner=partner, max_units=options["max_units"])
        self.stdout.write(
            f"allocated {result.units} units in {len(result.allocations)} ranges; "
            f"{len(result.certificates)} certificates issued"
        )
