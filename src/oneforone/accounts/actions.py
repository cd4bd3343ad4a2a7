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
from django.utils import timezone, translation
from django.utils.translation import gettext

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
        raise ApiKeyRefused(
            gettext("unknown scope %(scope)s; use one of %(scopes)s")
            % {"scope": repr(scope), "scopes": ", ".join(ApiKeyScope.values)}
        )
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
            gettext("the overlap must be between 0 and %(days)s days, not %(overlap)s")
            % {"days": MAX_ROTATION_OVERLAP.days, "overlap": overlap}
        )
    key = ApiKey.objects.select_for_update().get(pk=key.pk)
    now = timezone.now()
    if key.revoked_at is not None:
        raise ApiKeyRefused(
            gettext("key %(prefix)s was revoked; create a new key instead")
            % {"prefix": key.display_prefix}
        )
    if key.expires_at is not None and key.expires_at <= now:
        raise ApiKeyRefused(
            gettext("key %(prefix)s has expired; create a new key instead")
            % {"prefix": key.display_prefix}
        )
    if ApiKey.objects.filter(rotated_from=key).exists():
        raise ApiKeyRefused(
            gettext("key %(prefix)s was already rotated; rotate its successor")
            % {"prefix": key.display_prefix}
        )
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
    *, actor: User, organisation: Organisation, email: str, role: str, language: str = ""
) -> tuple[Invitation, str]:
    """Invite an address to join with a role; e-mail the single-use link after commit.

    The e-mail is written in `language` (the inviting page's; the site's default when none is
    given). An earlier open invitation of the same address is revoked: the newest
    link is the one."""
    require_admin(actor, organisation)
    email = email.strip()
    if role not in Role.values:
        raise ValueError(f"unknown role {role!r}")
    if Membership.objects.filter(organisation=organisation, user__email__iexact=email).exists():
        raise NotAllowed(
            gettext("%(email)s already belongs to a member of %(organisation)s")
            % {"email": email, "organisation": organisation.name}
        )
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
        language=supported_language(language),
    )
    audit.record(
        actor=actor,
        code="accounts.invitation.created",
        obj=invitation,
        organisation=organisation,
        data={
            "email": email,
            "role": role,
            "expires_at": invitation.expires_at,
            "language": invitation.language,
        },
    )
    link = settings.PUBLIC_BASE_URL.rstrip("/") + reverse("accept-invitation", args=[token])
    subject, message = _invitation_mail(invitation, actor.get_full_name() or actor.username, link)
    transaction.on_commit(
        lambda: send_mail(subject=subject, message=message, from_email=None, recipient_list=[email])
    )
    return invitation, token


def supported_language(code: str | None) -> str:
    """One of the site's languages for a language code such as "fr-be"; the default otherwise."""
    base = (code or "").lower().split("-")[0]
    return base if base in dict(settings.LANGUAGES) else settings.LANGUAGE_CODE


def _invitation_mail(invitation: Invitation, inviter: str, link: str) -> tuple[str, str]:
    """The invitation's subject and text, in the invitation's language."""
    with translation.override(invitation.language):
        figures = {
            "inviter": inviter,
            "organisation": invitation.organisation.name,
            "role": str(Role(invitation.role).label).lower(),
            "until": f"{invitation.expires_at:%Y-%m-%d %H:%M}",
            "link": link,
        }
        subject = gettext("Join %(organisation)s on oneforone") % figures
        message = (
            gettext(
                "%(inviter)s invites you to join %(organisation)s on oneforone as %(role)s.\n\n"
                "Accept the invitation here (the link works once, until %(until)s UTC):\n"
                "%(link)s\n\n"
                "If you did not expect this e-mail, ignore it: nothing happens without you."
            )
            % figures
        )
    return subject, message


@transaction.atomic
def set_language(*, actor: User, language: str) -> User:
    """The language of the e-mails to this person (their own choice, e.g. the page's language
    when they sign in); nothing is recorded when it does not change what they receive."""
    language = supported_language(language)
    user = User.objects.select_for_update().get(pk=actor.pk)
    if user.email_language != language:
        previous = user.language
        user.language = language
        user.save(update_fields=["language"])
        audit.record(
            actor=actor,
            code="accounts.user.language_changed",
            obj=user,
            data={"from": previous, "to": language},
        )
    actor.language = language
    return user


@transaction.atomic
def accept_invitation(
    *,
    actor: User | None,
    token: str,
    username: str = "",
    password: str = "",
    language: str = "",
) -> Membership:
    """Join the invitation's organisation: as the signed-in `actor`, or (actor None) as a new
    person with the username and password given, who is then the actor of the event; a new
    person's e-mails are in `language`, the one they read the acceptance page in."""
    invitation = (
        Invitation.objects.select_for_update()
        .select_related("organisation")
        .filter(token_hash=invitation_token_hash(token))
        .first()
    )
    if invitation is None:
        raise InvitationInvalid(
            gettext("This invitation link is not valid; check that the whole link was copied.")
        )
    organisation = invitation.organisation
    if invitation.accepted_at is not None:
        raise InvitationInvalid(gettext("This invitation was already used; sign in instead."))
    if invitation.revoked_at is not None or invitation.expires_at <= timezone.now():
        raise InvitationInvalid(closed_invitation_problem(invitation))
    if actor is None:
        actor = _new_person(
            username, password, invitation.email, language=supported_language(language)
        )
    else:
        elsewhere = actor.memberships.select_related("organisation").first()
        if elsewhere is not None:
            raise InvitationInvalid(
                gettext(
                    "You already act for %(name)s; sign out and accept the invitation with a new "
                    "account."
                )
                % {"name": elsewhere.organisation.name}
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


def closed_invitation_problem(invitation: Invitation) -> str:
    """Why a withdrawn or expired invitation cannot be accepted, and what to do."""
    problem = (
        gettext(
            "This invitation has been withdrawn; ask an administrator of %(name)s to invite you again."
        )
        if invitation.revoked_at
        else gettext(
            "This invitation has expired; ask an administrator of %(name)s to invite you again."
        )
    )
    return problem % {"name": invitation.organisation.name}


def _new_person(username: str, password: str, email: str, *, language: str) -> User:
    username = username.strip()
    if not username:
        raise InvitationInvalid(gettext("Choose a username."))
    if User.objects.filter(username__iexact=username).exists():
        raise InvitationInvalid(
            gettext("The username “%(username)s” is taken; choose another.")
            % {"username": username}
        )
    user = User(username=username, email=email, language=language)
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
            gettext(
                "%(username)s is the last administrator of %(organisation)s; make someone else "
                "an administrator first"
            )
            % {"username": membership.user.username, "organisation": membership.organisation.name}
        )


def _still_member(membership: Membership) -> Membership:
    current = (
        Membership.objects.select_related("user", "organisation").filter(pk=membership.pk).first()
    )
    if current is None:
        raise NotAllowed(
            gettext("%(username)s was removed from the team meanwhile")
            % {"username": membership.user.username}
        )
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
        raise NotAllowed(
            gettext("%(email)s already accepted; remove the member instead")
            % {"email": invitation.email}
        )
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
