"""Team pages, the same for every kind of organisation: members, roles, invitations."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import login
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext
from django.views.decorators.http import require_POST

from oneforone.accounts import actions, queries
from oneforone.accounts.decorators import member_of_kind
from oneforone.accounts.forms import InviteForm, NewAccountForm, RoleForm
from oneforone.accounts.models import Membership, OrganisationKind, Role
from oneforone.accounts.permissions import NotAllowed

team_page = member_of_kind(*OrganisationKind.values)


def _admin_only(membership: Membership) -> None:
    if membership.role != Role.ADMIN:
        raise PermissionDenied(gettext("Only an administrator changes the team."))


@team_page
def team(request: HttpRequest, membership: Membership) -> HttpResponse:
    return _team_page(request, membership, InviteForm())


def _team_page(
    request: HttpRequest, membership: Membership, invite_form: InviteForm, status: int = 200
) -> HttpResponse:
    organisation = membership.organisation
    is_admin = membership.role == Role.ADMIN
    return render(
        request,
        "accounts/team.html",
        {
            "members": queries.members_of(organisation),
            "invitations": queries.pending_invitations_of(organisation) if is_admin else [],
            "is_admin": is_admin,
            "me": membership,
            "invite_form": invite_form,
            "roles": Role.choices,
        },
        status=status,
    )


@require_POST
@team_page
def invite(request: HttpRequest, membership: Membership) -> HttpResponse:
    _admin_only(membership)
    form = InviteForm(request.POST)
    if form.is_valid():
        try:
            invitation, _ = actions.invite_member(
                actor=request.user,  # type: ignore[arg-type]
                organisation=membership.organisation,
                email=form.cleaned_data["email"],
                role=form.cleaned_data["role"],
                language=request.LANGUAGE_CODE,
            )
        except NotAllowed as exc:
            form.add_error("email", f"{exc}.")
        except IntegrityError:
            form.add_error(
                "email", gettext("This address was invited at the same moment; look below.")
            )
        else:
            messages.success(
                request,
                gettext("Invitation sent to %(email)s; the link works once, for %(days)s days.")
                % {"email": invitation.email, "days": actions.INVITATION_VALID_FOR.days},
            )
            return redirect("team")
    return _team_page(request, membership, form, status=400)


def _nothing_changed(problem: Exception) -> str:
    return gettext("Nothing changed: %(problem)s.") % {"problem": problem}


def _member(membership: Membership, pk: int) -> Membership:
    member = queries.members_of(membership.organisation).filter(pk=pk).first()
    if member is None:
        raise Http404(gettext("No such member of your organisation"))
    return member


@require_POST
@team_page
def change_role(request: HttpRequest, membership: Membership, pk: int) -> HttpResponse:
    _admin_only(membership)
    member = _member(membership, pk)
    form = RoleForm(request.POST)
    if not form.is_valid():
        messages.error(request, gettext("Choose one of the roles listed."))
        return redirect("team")
    try:
        actions.change_role(
            actor=request.user,  # type: ignore[arg-type]
            membership=member,
            role=form.cleaned_data["role"],
        )
    except NotAllowed as exc:
        messages.error(request, _nothing_changed(exc))
    else:
        messages.success(
            request,
            gettext("%(username)s is now %(role)s.")
            % {
                "username": member.user.username,
                "role": str(Role(form.cleaned_data["role"]).label).lower(),
            },
        )
    return redirect("team")


@require_POST
@team_page
def remove_member(request: HttpRequest, membership: Membership, pk: int) -> HttpResponse:
    _admin_only(membership)
    member = _member(membership, pk)
    try:
        actions.remove_member(actor=request.user, membership=member)  # type: ignore[arg-type]
    except NotAllowed as exc:
        messages.error(request, _nothing_changed(exc))
        return redirect("team")
    if member.pk == membership.pk:
        messages.success(
            request, gettext("You left %(name)s.") % {"name": membership.organisation.name}
        )
        return redirect("dashboard")
    messages.success(
        request,
        gettext("%(username)s no longer acts for your organisation.")
        % {"username": member.user.username},
    )
    return redirect("team")


@require_POST
@team_page
def revoke_invitation(request: HttpRequest, membership: Membership, pk: int) -> HttpResponse:
    _admin_only(membership)
    invitation = queries.pending_invitations_of(membership.organisation).filter(pk=pk).first()
    if invitation is None:
        raise Http404(gettext("No such pending invitation of your organisation"))
    try:
        actions.revoke_invitation(actor=request.user, invitation=invitation)  # type: ignore[arg-type]
    except NotAllowed as exc:
        messages.error(request, _nothing_changed(exc))
    else:
        messages.success(
            request,
            gettext("The invitation of %(email)s was withdrawn.") % {"email": invitation.email},
        )
    return redirect("team")


def accept_invitation(request: HttpRequest, token: str) -> HttpResponse:
    """Reached from the e-mailed link, signed in or not."""
    invitation = queries.invitation_for(token)
    if invitation is None:
        return render(
            request,
            "accounts/invitation.html",
            {
                "problem": gettext(
                    "This invitation link is not valid; check that the whole link was copied."
                )
            },
            status=404,
        )
    if not invitation.is_open:
        problem = (
            gettext("This invitation was already used; sign in instead.")
            if invitation.accepted_at
            else actions.closed_invitation_problem(invitation)
        )
        return render(
            request,
            "accounts/invitation.html",
            {"invitation": invitation, "problem": problem},
            status=410,
        )
    signed_in = request.user.is_authenticated
    form = NewAccountForm(None if signed_in else request.POST or None)
    error = ""
    if request.method == "POST" and (signed_in or form.is_valid()):
        try:
            membership = actions.accept_invitation(
                actor=request.user if signed_in else None,  # type: ignore[arg-type]
                token=token,
                username="" if signed_in else form.cleaned_data["username"],
                password="" if signed_in else form.cleaned_data["password"],
                language=request.LANGUAGE_CODE,
            )
        except actions.InvitationInvalid as exc:
            error = str(exc)
        except IntegrityError:
            error = gettext("That username was taken at the same moment; choose another.")
        else:
            if not signed_in:
                login(request, membership.user, backend="django.contrib.auth.backends.ModelBackend")
            messages.success(
                request,
                gettext("Welcome to %(name)s: you are %(role)s.")
                % {
                    "name": membership.organisation.name,
                    "role": str(Role(membership.role).label).lower(),
                },
            )
            return redirect("dashboard")
    return render(
        request,
        "accounts/invitation.html",
        {"invitation": invitation, "form": form, "signed_in": signed_in, "error": error},
        status=400 if error or form.errors else 200,
    )
