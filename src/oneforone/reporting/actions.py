"""State changes of the reporting app: a partner's choice to publish its badge."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from oneforone.accounts.models import Organisation, OrganisationKind, User
from oneforone.accounts.permissions import require_admin
from oneforone.core import audit
from oneforone.reporting.models import BadgeSetting


@transaction.atomic
def set_badge_published(*, actor: User, partner: Organisation, published: bool) -> BadgeSetting:
    """A partner's administrator publishes (or withdraws) the public badge with its count of
    devices compensated; nothing else about the partner is shown there."""
    if partner.kind != OrganisationKind.PARTNER:
        raise ValueError("only partners have a badge")
    require_admin(actor, partner)
    setting, _ = BadgeSetting.objects.select_for_update().update_or_create(
        partner=partner,
        defaults={"published": published, "updated_at": timezone.now(), "updated_by": actor},
    )
    audit.record(
        actor=actor,
        code="reporting.badge.published" if published else "reporting.badge.withdrawn",
        obj=setting,
        organisation=partner,
        data={"published": published},
    )
    return setting
