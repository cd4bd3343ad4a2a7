from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from oneforone.accounts.models import User
from oneforone.accounts.permissions import NotAllowed, require_operator
from oneforone.registry import serials
from oneforone.registry.actions import CancellationRefused, cancel_units
from oneforone.registry.models import CancellationReason, IssuanceBatch
from oneforone.registry.queries import cancellation_preview


class Command(BaseCommand):
    help = (
        "Cancel units of a batch (they no longer stand for a recycled phone): revoke their "
        "allocations, withdraw the certificates, re-allocate the registrations."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--actor", required=True, help="username of the operator staff member")
        parser.add_argument("--batch", required=True, type=int, help="issuance batch number")
        parser.add_argument("--first", type=int, help="first unit number to cancel")
        parser.add_argument("--last", type=int, help="last unit number to cancel")
        parser.add_argument("--block", help="a block serial instead of --first/--last")
        parser.add_argument("--reason", required=True, choices=CancellationReason.values)
        parser.add_argument("--explanation", required=True, help="shown on the public records")
        parser.add_argument(
            "--dry-run", action="store_true", help="show what would be affected, change nothing"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        actor = User.objects.filter(username=options["actor"]).first()
        if actor is None:
            raise CommandError(f"no user {options['actor']!r}")
        try:
            require_operator(actor)
        except NotAllowed as exc:
            raise CommandError(str(exc)) from exc
        batch = IssuanceBatch.objects.filter(pk=options["batch"]).first()
        if batch is None:
            raise CommandError(f"no batch {options['batch']}")
        first, last = self._units(options, batch)
        preview = cancellation_preview(batch, first, last)
        self.stdout.write(
            f"units {preview.block} ({preview.units} units): {preview.units_allocated} allocated "
            f"in {len(preview.allocations)} allocations of {preview.registrations} registrations, "
            f"{preview.units_reserved} reserved, {preview.units_free} free; "
            f"{len(preview.certificates)} certificates to withdraw"
        )
        if options["dry_run"]:
            self.stdout.write("dry run: nothing changed")
            return
        try:
            result = cancel_units(
                actor=actor,
                batch=batch,
                first=first,
                last=last,
                reason=options["reason"],
                explanation=options["explanation"],
            )
        except CancellationRefused as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            f"cancelled {result.cancellation.block} (cancellation {result.cancellation.pk})"
        )
        for allocation in result.revoked:
            self.stdout.write(
                f"  revoked allocation {allocation.pk}: {allocation.block} of registration "
                f"{allocation.registration_id}"
            )
        self.stdout.write(
            f"certificates withdrawn: {', '.join(c.code for c in result.withdrawn) or 'none'}"
        )
        self.stdout.write(f"units re-allocated: {result.reallocated.units}")
        self.stdout.write(
            "new certificates: "
            + (", ".join(c.code for c in result.reallocated.certificates) or "none")
        )

    def _units(self, options: dict[str, Any], batch: IssuanceBatch) -> tuple[int, int]:
        if options["block"]:
            if options["first"] is not None or options["last"] is not None:
                raise CommandError("give --block or --first/--last, not both")
            try:
                block = serials.parse(options["block"])
            except serials.SerialError as exc:
                raise CommandError(str(exc)) from exc
            if (block.country, block.year) != (batch.origin_country, batch.vintage_year):
                raise CommandError(
                    f"the block is of {block.country} {block.year}, batch {batch.pk} of "
                    f"{batch.origin_country} {batch.vintage_year}"
                )
            return block.first, block.last
        if options["first"] is None or options["last"] is None:
            raise CommandError("give --first and --last, or --block")
        if options["last"] < options["first"]:
            raise CommandError("--last is before --first")
        return options["first"], options["last"]
