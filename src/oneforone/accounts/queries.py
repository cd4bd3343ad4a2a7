from __future__ import annotations

from django.utils import timezone

from oneforone.accounts import apikeys
from oneforone.accounts.models import ApiKey, Membership, User

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


def api_key_for(raw_key: str) -> ApiKey | None:
    prefix = apikeys.split_prefix(raw_key)
    if prefix is None:
        return None
    key = (
        ApiKey.objects.select_related("organisation", "created_by")
        .filter(prefix=prefix, revoked_at__isnull=True)
        .first()
    )
    if key is None or not apikeys.matches(raw_key, key.secret_hash):
        return None
    # last_used_at is operational metadata, not history: a plain update, no audit event.
    ApiKey.objects.filter(pk=key.pk).update(last_used_at=timezone.now())
    return key
