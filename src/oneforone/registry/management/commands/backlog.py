from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from oneforone.accounts.models import Organisation, OrganisationKind
from oneforone.registry.queries import PartnerBacklog, backlog


def _since(row: PartnerBacklog) -> str:
    if row.oldest_waiting is None:
        return "-"
    return f"{row.oldest_waiting:%Y-%m-%d} ({row.oldest_waiting_days} d)"


class Command(BaseCommand):
    help = "Units owed, allocated and waiting per partner, reserved units, oldest waiting registration."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--partner", help="slug of one partner")

    def handle(self, *args: Any, **options: Any) -> None:
        partner = None
        if options["partner"]:
            partner = Organisation.objects.filter(
                slug=options["partner"], kind=OrganisationKind.PARTNER
            ).first()
            if partner is None:
                raise CommandError(f"no partner with slug {options['partner']!r}")
        result = backlog(partner)
        rows = result.partners if partner else [*result.partners, result.total]
        name_w = max([len("partner"), *(len(r.name) for r in rows)])
        header = (
            f"{'partner':<{name_w}}  {'registrations':>13}  {'units owed':>12}  "
            f"{'allocated':>12}  {'waiting':>12}  {'reserved':>10}  oldest waiting"
        )
        self.stdout.write(header)
        self.stdout.write("-" * len(header))
        for i, row in enumerate(rows):
            if not partner and i == len(rows) - 1:
                self.stdout.write("-" * len(header))
            waiting = f"{row.registrations_waiting:,}/{row.registrations:,}"
            self.stdout.write(
                f"{row.name:<{name_w}}  {waiting:>13}  {row.units_owed:>12,}  "
                f"{row.units_allocated:>12,}  {row.units_waiting:>12,}  "
                f"{row.units_reserved:>10,}  {_since(row)}"
            )
        quotas = result.total.quotas if not partner else rows[0].quotas if rows else ()
        if quotas:
            self.stdout.write("")
            label_w = max(len(f"{q.partner_name} / {q.label}") for q in quotas)
            self.stdout.write(
                f"{'reserved quota':<{label_w}}  {'reserved':>10}  {'allocated':>10}  {'left':>10}"
            )
            for q in quotas:
                self.stdout.write(
                    f"{q.partner_name + ' / ' + q.label:<{label_w}}  {q.units_reserved:>10,}  "
                    f"{q.units_allocated:>10,}  {q.units_remaining:>10,}"
                )
