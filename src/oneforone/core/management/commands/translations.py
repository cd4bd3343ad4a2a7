"""Check the message catalogues, or compile them (see docs/translations.md)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from oneforone.core import translations


class Command(BaseCommand):
    help = (
        "Check that every language's catalogue translates every string and that the compiled "
        "files are current; with --compile, compile the .po files into .mo files first."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--compile", action="store_true", help="write the .mo files from the .po files"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        found: list[str] = []
        for catalogue in translations.catalogues():
            if options["compile"]:
                translations.compile_catalogue(catalogue)
            found.extend(translations.problems(catalogue))
            if not translations.compiled_is_current(catalogue):
                found.append(
                    f"{catalogue.name}: the compiled catalogue is stale; "
                    "run `oneforone translations --compile`"
                )
        for problem in found:
            self.stderr.write(problem)
        if found:
            raise CommandError(f"{len(found)} translation problem(s); see above")
        languages = ", ".join(c.name for c in translations.catalogues())
        self.stdout.write(f"catalogues complete: {languages}")
