"""`oneforone compute-impact --version N [--again]`: the figures of every batch under a version."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from oneforone.impact.models import MethodologyVersion
from oneforone.impact.tasks import compute_version


class Command(BaseCommand):
    help = (
        "Compute the impact figures of every issuance batch that has none under a published "
        "methodology version (with --again: every batch, appending a new computation)."
    )

    def create_parser(self, prog_name: str, subcommand: str, **kwargs: Any) -> CommandParser:
        # `--version N` is the methodology version here, not Django's own --version.
        return super().create_parser(prog_name, subcommand, conflict_handler="resolve", **kwargs)

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--version", type=int, required=True, help="the version number")
        parser.add_argument("--again", action="store_true", help="recompute every batch")

    def handle(self, *args: Any, **options: Any) -> None:
        number = options["version"]
        version = MethodologyVersion.objects.filter(number=number).first()
        if version is None:
            raise CommandError(f"no methodology version {number}: see /methodology/")
        if not version.is_published:
            raise CommandError(
                f"version {version.label} is a draft: publish it first (figures are stored only "
                "under a published version)"
            )
        self.stdout.write(f"computing impact under {version.label} (version {number})")

        def progress(done: int, total: int) -> None:
            if done == total or done % 100 == 0:
                self.stdout.write(f"  {done}/{total} batches")

        count = compute_version(number, reason="command", again=options["again"], progress=progress)
        self.stdout.write(self.style.SUCCESS(f"{count} batches computed under {version.label}"))
