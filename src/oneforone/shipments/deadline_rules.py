"""The deadline rules shipped with oneforone (DOMAIN.md section 2), seeded by migration 0004 and
put back by `ensure_deadline_rules` after a flush. Operators add route-specific rules in the back
office; the most specific rule valid on the anchor date wins.

Legal sources name the regulation; the article numbers are not given because they could not be
checked against the official text here (see docs/shipments.md, "Deadlines")."""

from __future__ import annotations

from typing import NamedTuple

WSR = "Regulation (EU) 2024/1157 on shipments of waste"


class RuleEntry(NamedTuple):
    kind: str
    period: int
    unit: str
    direction: str
    calendar: str
    legal_source: str
    note: str = ""
    export_country: str = ""
    import_country: str = ""
    operations: str = ""


DEFAULT_RULES: tuple[RuleEntry, ...] = (
    RuleEntry(
        "pre_shipment_information",
        2,
        "working_days",
        "before",
        "export",
        f"{WSR} (prior information on the actual start of the shipment)",
        "quantity, carrier and container may follow until departure",
    ),
    RuleEntry(
        "receipt_confirmation",
        3,
        "working_days",
        "after",
        "facility",
        f"{WSR} (confirmation of receipt by the facility)",
        "3 working days as for imports from OECD countries; assumed for GH/NG/CM origins [I]",
    ),
    RuleEntry(
        "receipt_confirmation",
        2,
        "working_days",
        "after",
        "facility",
        f"{WSR} (confirmation of receipt by an interim facility)",
        "interim recovery (R12/R13)",
        operations="R12 R13",
    ),
    RuleEntry(
        "completion_certificate",
        30,
        "calendar_days",
        "after",
        "facility",
        f"{WSR} (certificate of completed recovery)",
        "within 30 days of completing the recovery",
    ),
    RuleEntry(
        "completion_certificate_outer",
        365,
        "calendar_days",
        "after",
        "facility",
        f"{WSR} (certificate of completed recovery)",
        "no later than one year after receipt of the waste",
    ),
    RuleEntry(
        "change_answer",
        5,
        "working_days",
        "after",
        "export",
        f"{WSR} (significant changes after consent)",
        "authorities answer a significant change; shipments affected wait",
    ),
    RuleEntry(
        "take_back",
        90,
        "calendar_days",
        "after",
        "export",
        f"{WSR} (take-back when a shipment cannot be completed as intended)",
        "90 days from the refusal at the facility [I]",
    ),
    RuleEntry(
        "consent_expiry",
        30,
        "calendar_days",
        "before",
        "export",
        f"{WSR} (validity of consent)",
        "warning: file a new notification before the consent expires",
    ),
    RuleEntry(
        "guarantee_expiry",
        30,
        "calendar_days",
        "before",
        "export",
        f"{WSR} (financial guarantee or equivalent insurance)",
        "warning: extend or replace the guarantee before it expires",
    ),
)


def rule_rows() -> list[dict[str, object]]:
    return [entry._asdict() for entry in DEFAULT_RULES]


def ensure_deadline_rules() -> int:
    """Insert the shipped rules the table lacks; returns how many. Idempotent."""
    from oneforone.shipments.deadline_models import DeadlineRule

    present = set(
        DeadlineRule.objects.filter(valid_from__isnull=True).values_list(
            "kind", "export_country", "import_country", "operations"
        )
    )
    missing = [
        DeadlineRule(**row)
        for row in rule_rows()
        if (row["kind"], row["export_country"], row["import_country"], row["operations"])
        not in present
    ]
    DeadlineRule.objects.bulk_create(missing)
    return len(missing)
