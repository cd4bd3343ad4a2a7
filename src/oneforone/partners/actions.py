from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from oneforone.accounts.models import Organisation, OrganisationKind, User
from oneforone.core import audit
from oneforone.partners.models import Channel, Registration
from oneforone.partners.queries import current_categories
from oneforone.partners.schemas import RegistrationRow


@dataclass(frozen=True)
class RegistrationProblem:
    line: int
    message: str
    field: str


class RegistrationRejected(Exception):
    """Nothing was written; `problems` says which rows are wrong and why."""

    def __init__(self, problems: list[RegistrationProblem]) -> None:
        super().__init__("; ".join(f"line {p.line}: {p.message}" for p in problems[:5]))
        self.problems = problems


@transaction.atomic
def register_devices(
    *,
    actor: User,
    partner: Organisation,
    rows: Sequence[tuple[int, RegistrationRow]],
    channel: str,
) -> list[Registration]:
    """Register devices owed compensation, all rows or none.

    `rows` pairs each row with its line (CSV line or position in the API batch) for error reports.
    """
    if partner.kind != OrganisationKind.PARTNER:
        raise RegistrationRejected([RegistrationProblem(0, f"{partner} is not a partner", "")])
    if channel not in Channel.values:
        raise ValueError(f"unknown channel {channel}")
    categories = current_categories()
    problems = check_rows(partner, rows)
    if problems:
        raise RegistrationRejected(problems)
    now = timezone.now()
    registrations = Registration.objects.bulk_create(
        Registration(
            partner=partner,
            reference=row.reference,
            category=categories[row.category],
            quantity=row.quantity,
            units_per_device=categories[row.category].units_per_device,
            channel=channel,
            created_at=now,
            created_by=actor,
        )
        for _, row in rows
    )
    audit.record(
        actor=actor,
        code="partners.registrations.created",
        obj=registrations[0] if len(registrations) == 1 else partner,
        organisation=partner,
        data={
            "channel": channel,
            "registrations": len(registrations),
            "devices": sum(r.quantity for r in registrations),
            "first_id": registrations[0].pk,
            "last_id": registrations[-1].pk,
        },
    )
    return registrations


def check_rows(
    partner: Organisation, rows: Sequence[tuple[int, RegistrationRow]]
) -> list[RegistrationProblem]:
    """What would make these rows fail, by line; reads only, so an import can report every
    problem of a file at once."""
    category_codes = set(current_categories())
    problems: list[RegistrationProblem] = []
    if not rows:
        return [RegistrationProblem(0, "no registrations given", "")]
    seen: dict[str, int] = {}
    for line, row in rows:
        if row.category not in category_codes:
            problems.append(
                RegistrationProblem(
                    line,
                    f"unknown category {row.category!r}; use one of {', '.join(sorted(category_codes))}",
                    "category",
                )
            )
        if row.reference in seen:
            problems.append(
                RegistrationProblem(
                    line,
                    f"reference {row.reference!r} repeats line {seen[row.reference]}",
                    "reference",
                )
            )
        seen.setdefault(row.reference, line)
    existing = set(
        Registration.objects.filter(partner=partner, reference__in=list(seen)).values_list(
            "reference", flat=True
        )
    )
    problems.extend(
        RegistrationProblem(line, f"reference {row.reference!r} is already registered", "reference")
        for line, row in rows
        if row.reference in existing
    )
    return sorted(problems, key=lambda p: p.line)
