"""Who may act for which organisation; actions call these before they write."""

from __future__ import annotations

from django.utils.translation import gettext

from oneforone.accounts.models import Membership, Organisation, Role, User


class NotAllowed(Exception):
    """The actor may not do this; the message says why, for the person who tried."""


def require_member(actor: User, organisation: Organisation, *, write: bool = True) -> Membership:
    membership = Membership.objects.filter(user=actor, organisation=organisation).first()
    if membership is None:
        raise NotAllowed(
            gettext("%(username)s does not act for %(organisation)s")
            % {"username": actor.username, "organisation": organisation.name}
        )
    if write and not membership.can_write:
        raise NotAllowed(
            gettext("%(username)s may only read for %(organisation)s")
            % {"username": actor.username, "organisation": organisation.name}
        )
    return membership


def require_admin(actor: User, organisation: Organisation) -> None:
    if require_member(actor, organisation).role != Role.ADMIN:
        raise NotAllowed(
            gettext("%(username)s is not an administrator of %(organisation)s")
            % {"username": actor.username, "organisation": organisation.name}
        )


def require_operator(actor: User) -> None:
    """Operator staff: a writing member of an operator organisation."""
    if not Membership.objects.filter(
        user=actor, organisation__kind="operator", role__in=[Role.ADMIN, Role.MEMBER]
    ).exists():
        raise NotAllowed(
            gettext("%(username)s is not operator staff") % {"username": actor.username}
        )
