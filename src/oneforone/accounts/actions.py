from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone

from oneforone.accounts import apikeys
from oneforone.accounts.models import (
    ApiKey,
    ApiKeyScope,
    Membership,
    Organisation,
    Role,
    User,
)
from oneforone.accounts.permissions import require_admin
from oneforone.core import audit


@transaction.atomic
def create_organisation(
    *, actor: User, name: str, slug: str, kind: str, country: str
) -> Organisation:
    org = Organisation.objects.create(name=name, slug=slug, kind=kind, country=country)
    audit.record(
        actor=actor,
        code="accounts.organisation.created",
        obj=org,
        organisation=org,
        data={"name": name, "kind": kind, "country": country},
    )
    return org


@transaction.atomic
def add_member(
    *,
    actor: User,
    organisation: Organisation,
    username: str,
    password: str,
    role: str = Role.MEMBER,
    email: str = "",
    is_staff: bool = False,
    is_superuser: bool = False,
) -> Membership:
    user = User.objects.create_user(
        username=username,
        password=password,
        email=email,
        is_staff=is_staff,
        is_superuser=is_superuser,
    )
    membership = Membership.objects.create(user=user, organisation=organisation, role=role)
    audit.record(
        actor=actor,
        code="accounts.membership.created",
        obj=membership,
        organisation=organisation,
        data={"username": username, "role": role},
    )
    return membership


DEFAULT_ROTATION_OVERLAP = dt.timedelta(hours=24)
MAX_ROTATION_OVERLAP = dt.timedelta(days=30)


class ApiKeyRefused(Exception):
    """The key cannot be created or changed this way; the message says why."""


@transaction.atomic
def create_api_key(
    *, actor: User, organisation: Organisation, name: str, scope: str = ApiKeyScope.WRITE
) -> tuple[ApiKey, str]:
    """Create a key and return it with its secret, which is never retrievable again."""
    require_admin(actor, organisation)
    if scope not in ApiKeyScope.values:
        raise ApiKeyRefused(f"unknown scope {scope!r}; use one of {', '.join(ApiKeyScope.values)}")
    name = name.strip()[:100] or "API key"
    key, raw = _new_key(actor=actor, organisation=organisation, name=name, scope=scope)
    audit.record(
        actor=actor,
        code="accounts.api_key.created",
        obj=key,
        organisation=organisation,
        data={"name": name, "prefix": key.prefix, "scope": scope},
    )
    return key, raw


def _new_key(
    *,
    actor: User,
    organisation: Organisation,
    name: str,
    scope: str,
    rotated_from: ApiKey | None = None,
) -> tuple[ApiKey, str]:
    raw, prefix, secret_hash = apikeys.new_key()
    key = ApiKey.objects.create(
        organisation=organisation,
        name=name,
        prefix=prefix,
        secret_hash=secret_hash,
        created_by=actor,
        scope=scope,
        rotated_from=rotated_from,
    )
    return key, raw


@transaction.atomic
def rotate_api_key(
    *, actor: User, key: ApiKey, overlap: dt.timedelta = DEFAULT_ROTATION_OVERLAP
) -> tuple[ApiKey, str]:
    """Replace a key by a new one with the same name and scope; the old key keeps working for
    `overlap` (so the integrator can deploy the new one), then expires. Returns the new key and
    its secret, shown once."""
    require_admin(actor, key.organisation)
    if not dt.timedelta(0) <= overlap <= MAX_ROTATION_OVERLAP:
        raise ApiKeyRefused(
            f"the overlap must be between 0 and {MAX_ROTATION_OVERLAP.days} days, not {overlap}"
        )
    key = ApiKey.objects.select_for_update().get(pk=key.pk)
    now = timezone.now()
    if key.revoked_at is not None:
        raise ApiKeyRefused(f"key {key.display_prefix} was revoked; create a new key instead")
    if key.expires_at is not None and key.expires_at <= now:
        raise ApiKeyRefused(f"key {key.display_prefix} has expired; create a new key instead")
    if ApiKey.objects.filter(rotated_from=key).exists():
        raise ApiKeyRefused(f"key {key.display_prefix} was already rotated; rotate its successor")
    expires_at = now + overlap
    if key.expires_at is None or expires_at < key.expires_at:
        key.expires_at = expires_at
        key.save(update_fields=["expires_at"])
    new, raw = _new_key(
        actor=actor,
        organisation=key.organisation,
        name=key.name,
        scope=key.scope,
        rotated_from=key,
    )
    audit.record(
        actor=actor,
        code="accounts.api_key.rotated",
        obj=new,
        organisation=key.organisation,
        data={
            "old_prefix": key.prefix,
            "prefix": new.prefix,
            "scope": new.scope,
            "old_expires_at": key.expires_at.isoformat(),
        },
    )
    return new, raw


@transaction.atomic
def revoke_api_key(*, actor: User, key: ApiKey) -> ApiKey:
    require_admin(actor, key.organisation)
    key = ApiKey.objects.select_for_update().get(pk=key.pk)
    if key.revoked_at is None:
        key.revoked_at = timezone.now()
        key.save(update_fields=["revoked_at"])
        audit.record(
            actor=actor,
            code="accounts.api_key.revoked",
            obj=key,
            organisation=key.organisation,
            data={"prefix": key.prefix},
        )
    return key
