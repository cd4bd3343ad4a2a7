from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from oneforone.webhooks.delivery import deliver_due


class Command(BaseCommand):
    help = (
        "Send every webhook delivery that is due: retries, and deliveries whose task was lost. "
        "Run it every minute from cron, or with --loop beside the worker."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--loop", type=int, metavar="SECONDS", help="keep running, sweeping every SECONDS"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        while True:
            attempted = deliver_due()
            self.stdout.write(f"{attempted} webhook deliveries attempted")
            if not options["loop"]:
                return
            time.sleep(options["loop"])
