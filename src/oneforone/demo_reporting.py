"""Demo reporting: the brand partner publishes its badge, so the dashboard shows the embed
snippet and `/badge/lumen-mobile.svg` answers; the other partners keep theirs private."""

from __future__ import annotations

from oneforone.accounts.models import Organisation, User
from oneforone.reporting.actions import set_badge_published


def load(*, partner: Organisation, admin: User) -> None:
    set_badge_published(actor=admin, partner=partner, published=True)
