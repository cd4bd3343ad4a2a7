from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from oneforone.accounts import apikeys
from oneforone.accounts.models import ApiKey, Membership, Organisation, Role, User
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


@transaction.atomic
def create_api_key(*, actor: User, organisation: Organisation, name: str) -> tuple[ApiKey, str]:
    """Create a key and return it with its secret, which is never retrievable again."""
    require_admin(actor, organisation)
    raw, prefix, secret_hash = apikeys.new_key()
    key = ApiKey.objects.create(
        organisation=organisation,
        name=name,
        prefix=prefix,
        secret_hash=secret_hash,
        created_by=actor,
    )
    audit.record(
        actor=actor,
        code="accounts.api_key.created",
        obj=key,
        organisation=organisation,
        data={"name": name, "prefix": prefix},
    )
    return key, raw


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
