from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from oneforone.registry import ledger


class Command(BaseCommand):
    help = (
        "Recompute the unit ledger from its entries: every account's hash chain and sequence, "
        "every event's balance, an entry for every certificate issued or withdrawn, every "
        "balance against the registry's tables, every published daily Merkle root. "
        "Exits non-zero naming the first broken entry."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--all", action="store_true", help="list every problem, not only the first"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        report = ledger.verify(stop_at_first=not options["all"])
        if not report.ok:
            for problem in report.problems[1:]:
                self.stderr.write(problem)
            raise CommandError(report.problems[0])
        self.stdout.write(
            f"ledger intact: {report.entries} entries on {report.accounts} accounts, "
            f"balances match the registry, {report.roots} published daily roots recomputed"
        )
