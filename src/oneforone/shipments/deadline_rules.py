"""The deadline rules shipped with oneforone (DOMAIN.md section 2), seeded by migration 0004 and
put back by `ensure_deadline_rules` after a flush. Operators add route-specific rules in the back
office; the most specific rule valid on the anchor date wins.

Legal sources name the regulation and the article whose title covers the obligation, as listed in
the regulation's table of contents; the paragraphs and the periods themselves were not checked
against the article text ("not verified", see docs/shipments.md, "Deadlines")."""

from __future__ import annotations

from typing import NamedTuple

WSR = "Regulation (EU) 2024/1157 on shipments of waste"
UNVERIFIED = "article by its title; paragraph and period not verified"


def article(number: int, title: str, subject: str) -> str:
    """A legal source naming the article of the regulation whose title covers `subject`."""
    return f"{WSR}, Art. {number} ({title}): {subject} [{UNVERIFIED}]"


FOLLOWING_CONSENT = "Requirements following consent to a shipment"


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
        article(16, FOLLOWING_CONSENT, "prior information on the actual start of the shipment"),
        "quantity, carrier and container may follow until departure",
    ),
    RuleEntry(
        "receipt_confirmation",
        3,
        "working_days",
        "after",
        "facility",
        article(16, FOLLOWING_CONSENT, "confirmation of receipt by the facility"),
        "3 working days as for imports from OECD countries; assumed for GH/NG/CM origins [I]",
    ),
    RuleEntry(
        "receipt_confirmation",
        2,
        "working_days",
        "after",
        "facility",
        article(
            15,
            "Additional provisions regarding interim recovery and interim disposal",
            "confirmation of receipt by an interim facility",
        ),
        "interim recovery (R12/R13)",
        operations="R12 R13",
    ),
    RuleEntry(
        "completion_certificate",
        30,
        "calendar_days",
        "after",
        "facility",
        article(16, FOLLOWING_CONSENT, "certificate of completed recovery"),
        "within 30 days of completing the recovery",
    ),
    RuleEntry(
        "completion_certificate_outer",
        365,
        "calendar_days",
        "after",
        "facility",
        article(16, FOLLOWING_CONSENT, "certificate of completed recovery"),
        "no later than one year after receipt of the waste",
    ),
    RuleEntry(
        "change_answer",
        5,
        "working_days",
        "after",
        "export",
        article(17, "Changes after consent", "significant changes after consent"),
        "authorities answer a significant change; shipments affected wait",
    ),
    RuleEntry(
        "take_back",
        90,
        "calendar_days",
        "after",
        "export",
        article(
            22,
            "Take-back when a consented shipment cannot be completed as intended",
            "take-back",
        ),
        "90 days from the refusal at the facility [I]",
    ),
    RuleEntry(
        "consent_expiry",
        30,
        "calendar_days",
        "before",
        "export",
        article(
            9,
            "Consent by the competent authorities and time periods for shipment, recovery or "
            "disposal",
            "validity of consent",
        ),
        "warning: file a new notification before the consent expires",
    ),
    RuleEntry(
        "guarantee_expiry",
        30,
        "calendar_days",
        "before",
        "export",
        article(7, "Financial guarantee or equivalent insurance", "validity of the guarantee"),
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
