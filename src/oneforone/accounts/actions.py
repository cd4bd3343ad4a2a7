from __future__ import annotations

import datetime as dt
import hashlib
import secrets

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from oneforone.accounts import apikeys
from oneforone.accounts.models import (
    ApiKey,
    ApiKeyScope,
    Invitation,
    Membership,
    Organisation,
    Role,
    User,
)
from oneforone.accounts.permissions import NotAllowed, require_admin
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


# Team members: invitations, roles, leaving ------------------------------------------------------

INVITATION_VALID_FOR = dt.timedelta(days=7)


class InvitationInvalid(Exception):
    """The invitation cannot be used; the message says why and what to do instead."""


class LastAdministrator(NotAllowed):
    """The change would leave an organisation without an administrator."""


def invitation_token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@transaction.atomic
def invite_member(
    *, actor: User, organisation: Organisation, email: str, role: str
) -> tuple[Invitation, str]:
    """Invite an address to join with a role; e-mail the single-use link after commit.

    An earlier open invitation of the same address is revoked: the newest link is the one."""
    require_admin(actor, organisation)
    email = email.strip()
    if role not in Role.values:
        raise ValueError(f"unknown role {role!r}")
    if Membership.objects.filter(organisation=organisation, user__email__iexact=email).exists():
        raise NotAllowed(f"{email} already belongs to a member of {organisation.name}")
    now = timezone.now()
    Invitation.objects.filter(
        organisation=organisation,
        email__iexact=email,
        accepted_at__isnull=True,
        revoked_at__isnull=True,
    ).update(revoked_at=now)
    token = secrets.token_urlsafe(32)
    invitation = Invitation.objects.create(
        organisation=organisation,
        email=email,
        role=role,
        token_hash=invitation_token_hash(token),
        invited_by=actor,
        created_at=now,
        expires_at=now + INVITATION_VALID_FOR,
    )
    audit.record(
        actor=actor,
        code="accounts.invitation.created",
        obj=invitation,
        organisation=organisation,
        data={"email": email, "role": role, "expires_at": invitation.expires_at},
    )
    link = settings.PUBLIC_BASE_URL.rstrip("/") + reverse("accept-invitation", args=[token])
    inviter = actor.get_full_name() or actor.username
    transaction.on_commit(
        lambda: send_mail(
            subject=f"Join {organisation.name} on oneforone",
            message=(
                f"{inviter} invites you to join {organisation.name} on oneforone as "
                f"{Role(role).label.lower()}.\n\n"
                f"Accept the invitation here (the link works once, until "
                f"{invitation.expires_at:%Y-%m-%d %H:%M} UTC):\n{link}\n\n"
                "If you did not expect this e-mail, ignore it: nothing happens without you."
            ),
            from_email=None,
            recipient_list=[email],
        )
    )
    return invitation, token


@transaction.atomic
def accept_invitation(
    *, actor: User | None, token: str, username: str = "", password: str = ""
) -> Membership:
    """Join the invitation's organisation: as the signed-in `actor`, or (actor None) as a new
    person with the username and password given, who is then the actor of the event."""
    invitation = (
        Invitation.objects.select_for_update()
        .select_related("organisation")
        .filter(token_hash=invitation_token_hash(token))
        .first()
    )
    if invitation is None:
        raise InvitationInvalid(
            "This invitation link is not valid; check that the whole link was copied."
        )
    organisation = invitation.organisation
    if invitation.accepted_at is not None:
        raise InvitationInvalid("This invitation was already used; sign in instead.")
    if invitation.revoked_at is not None or invitation.expires_at <= timezone.now():
        raise InvitationInvalid(
            f"This invitation has {'been withdrawn' if invitation.revoked_at else 'expired'}; "
            f"ask an administrator of {organisation.name} to invite you again."
        )
    if actor is None:
        actor = _new_person(username, password, invitation.email)
    else:
        elsewhere = actor.memberships.select_related("organisation").first()
        if elsewhere is not None:
            raise InvitationInvalid(
                f"You already act for {elsewhere.organisation.name}; sign out and accept the "
                "invitation with a new account."
            )
    membership = Membership.objects.create(
        user=actor, organisation=organisation, role=invitation.role
    )
    invitation.accepted_at = timezone.now()
    invitation.accepted_by = actor
    invitation.save(update_fields=["accepted_at", "accepted_by"])
    audit.record(
        actor=actor,
        code="accounts.invitation.accepted",
        obj=membership,
        organisation=organisation,
        data={"invitation": invitation.pk, "username": actor.username, "role": invitation.role},
    )
    return membership


def _new_person(username: str, password: str, email: str) -> User:
    username = username.strip()
    if not username:
        raise InvitationInvalid("Choose a username.")
    if User.objects.filter(username__iexact=username).exists():
        raise InvitationInvalid(f"The username {username!r} is taken; choose another.")
    user = User(username=username, email=email)
    try:
        validate_password(password, user)
    except ValidationError as exc:
        raise InvitationInvalid(" ".join(exc.messages)) from exc
    user.set_password(password)
    user.save()
    return user


def _lock_team(actor: User, organisation: Organisation) -> None:
    """Serialise the team changes of one organisation, then check the actor is (still) an admin:
    two admins demoting each other at once are decided one after the other."""
    Organisation.objects.select_for_update().filter(pk=organisation.pk).first()
    require_admin(actor, organisation)


def _keep_an_administrator(membership: Membership) -> None:
    others = (
        Membership.objects.filter(organisation_id=membership.organisation_id, role=Role.ADMIN)
        .exclude(pk=membership.pk)
        .exists()
    )
    if membership.role == Role.ADMIN and not others:
        raise LastAdministrator(
            f"{membership.user.username} is the last administrator of "
            f"{membership.organisation.name}; make someone else an administrator first"
        )


def _still_member(membership: Membership) -> Membership:
    current = (
        Membership.objects.select_related("user", "organisation").filter(pk=membership.pk).first()
    )
    if current is None:
        raise NotAllowed(f"{membership.user.username} was removed from the team meanwhile")
    return current


@transaction.atomic
def change_role(*, actor: User, membership: Membership, role: str) -> Membership:
    if role not in Role.values:
        raise ValueError(f"unknown role {role!r}")
    _lock_team(actor, membership.organisation)
    membership = _still_member(membership)
    previous = membership.role
    if previous == role:
        return membership
    if role != Role.ADMIN:
        _keep_an_administrator(membership)
    membership.role = role
    membership.save(update_fields=["role"])
    audit.record(
        actor=actor,
        code="accounts.membership.role_changed",
        obj=membership,
        organisation=membership.organisation,
        data={"username": membership.user.username, "from": previous, "to": role},
    )
    return membership


@transaction.atomic
def remove_member(*, actor: User, membership: Membership) -> None:
    """The person no longer acts for the organisation; their account and history stay."""
    _lock_team(actor, membership.organisation)
    membership = _still_member(membership)
    _keep_an_administrator(membership)
    audit.record(
        actor=actor,
        code="accounts.membership.removed",
        obj=membership,
        organisation=membership.organisation,
        data={"username": membership.user.username, "role": membership.role},
    )
    membership.delete()


@transaction.atomic
def revoke_invitation(*, actor: User, invitation: Invitation) -> Invitation:
    require_admin(actor, invitation.organisation)
    invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
    if invitation.accepted_at is not None:
        raise NotAllowed(f"{invitation.email} already accepted; remove the member instead")
    if invitation.revoked_at is None:
        invitation.revoked_at = timezone.now()
        invitation.save(update_fields=["revoked_at"])
        audit.record(
            actor=actor,
            code="accounts.invitation.revoked",
            obj=invitation,
            organisation=invitation.organisation,
            data={"email": invitation.email},
        )
    return invitation
