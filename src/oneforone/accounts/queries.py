from __future__ import annotations

import datetime as dt

from django.db.models import Case, Q, QuerySet, Value, When
from django.utils import timezone

from oneforone.accounts import apikeys
from oneforone.accounts.models import ApiKey, Invitation, Membership, Organisation, Role, User

SYSTEM_USERNAME = "oneforone-system"


def membership_of(user: User) -> Membership | None:
    """The organisation a signed-in person acts for (one membership per person for now)."""
    if not user.is_authenticated:
        return None
    return user.memberships.select_related("organisation").order_by("id").first()


def system_user() -> User:
    """The actor of commands and tasks that no person started."""
    user, _ = User.objects.get_or_create(
        username=SYSTEM_USERNAME, defaults={"is_active": False, "first_name": "oneforone system"}
    )
    return user


# last_used_at is written at most this often per key: a busy integration must not turn every
# request into a write on the same row.
LAST_USED_RESOLUTION = dt.timedelta(minutes=1)


def api_key_for(raw_key: str) -> ApiKey | None:
    """The key that this secret belongs to, if it is neither revoked nor expired."""
    prefix = apikeys.split_prefix(raw_key)
    if prefix is None:
        return None
    now = timezone.now()
    key = (
        ApiKey.objects.select_related("organisation", "created_by")
        .filter(prefix=prefix, revoked_at__isnull=True)
        .filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now))
        .first()
    )
    if key is None or not apikeys.matches(raw_key, key.secret_hash):
        return None
    stale = now - LAST_USED_RESOLUTION
    if key.last_used_at is None or key.last_used_at <= stale:
        # Operational metadata, not history: a plain update, no audit event. The condition makes
        # concurrent requests write it once.
        ApiKey.objects.filter(pk=key.pk).filter(
            Q(last_used_at__isnull=True) | Q(last_used_at__lte=stale)
        ).update(last_used_at=now)
        key.last_used_at = now
    return key


# Team pages ---------------------------------------------------------------------------------------


def members_of(organisation: Organisation) -> QuerySet[Membership]:
    """The people acting for an organisation, administrators first."""
    return (
        Membership.objects.filter(organisation=organisation)
        .select_related("user")
        .annotate(
            admin_first=Case(When(role=Role.ADMIN, then=Value(0)), default=Value(1)),
        )
        .order_by("admin_first", "user__username")
    )


def pending_invitations_of(organisation: Organisation) -> QuerySet[Invitation]:
    """Invitations neither accepted nor revoked, expired ones included (they can be re-sent)."""
    return Invitation.objects.filter(
        organisation=organisation, accepted_at__isnull=True, revoked_at__isnull=True
    ).select_related("invited_by")


def invitation_for(token: str) -> Invitation | None:
    from oneforone.accounts.actions import invitation_token_hash

    return (
        Invitation.objects.select_related("organisation")
        .filter(token_hash=invitation_token_hash(token))
        .first()
    )
