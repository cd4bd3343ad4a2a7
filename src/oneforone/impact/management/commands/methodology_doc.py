"""`oneforone methodology-doc [--check]`: write docs/methodology.md from the methodology data."""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from oneforone.impact.document import methodology_markdown

DOC = Path(__file__).resolve().parents[5] / "docs" / "methodology.md"


class Command(BaseCommand):
    help = "Generate docs/methodology.md from the published methodology versions."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--check", action="store_true", help="fail if the file differs from the generated one"
        )
        parser.add_argument("--output", default=str(DOC), help="where to write (default: docs/)")

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(options["output"])
        text = methodology_markdown()
        if options["check"]:
            current = path.read_text() if path.exists() else ""
            if current != text:
                diff = "".join(
                    difflib.unified_diff(
                        current.splitlines(keepends=True),
                        text.splitlines(keepends=True),
                        str(path),
                        "generated",
                        n=1,
                    )
                )
                raise CommandError(
                    f"{path} is not the generated document: run `oneforone methodology-doc`\n"
                    f"{diff[:4000]}"
                )
            self.stdout.write(f"{path} is up to date")
            return
        path.write_text(text)
        self.stdout.write(f"wrote {path}")
