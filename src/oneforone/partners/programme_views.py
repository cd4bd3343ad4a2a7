"""The partner portal's programme pages: what each programme covers and how far it has come."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from oneforone.accounts.decorators import member_of_kind
from oneforone.accounts.models import Membership, OrganisationKind, Role
from oneforone.accounts.permissions import NotAllowed
from oneforone.partners import actions
from oneforone.partners.forms import ProgrammeChangeForm, ProgrammeForm
from oneforone.partners.models import Programme
from oneforone.partners.queries import ProgrammeFigures, programme_figures, programmes_of

partner_page = member_of_kind(OrganisationKind.PARTNER, write=True)


def _require_admin_to_change(request: HttpRequest, membership: Membership) -> None:
    if request.method == "POST" and membership.role != Role.ADMIN:
        raise PermissionDenied(_("Only administrators of your organisation manage programmes."))


def _programme(membership: Membership, pk: int) -> Programme:
    programme = programmes_of(membership.organisation).filter(pk=pk).first()
    if programme is None:
        raise Http404(_("No such programme of yours"))
    return programme


@partner_page
def programme_list(request: HttpRequest, membership: Membership) -> HttpResponse:
    programmes = list(programmes_of(membership.organisation))
    figures = programme_figures(p.pk for p in programmes)
    rows = [(p, figures.get(p.pk, ProgrammeFigures())) for p in programmes]
    return render(
        request,
        "partners/programmes.html",
        {"rows": rows, "can_manage": membership.role == Role.ADMIN},
    )


@partner_page
def programme_new(request: HttpRequest, membership: Membership) -> HttpResponse:
    _require_admin_to_change(request, membership)
    form = ProgrammeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            programme = actions.create_programme(
                actor=request.user,  # type: ignore[arg-type]
                partner=membership.organisation,
                terms=form.terms(),
                is_default=form.cleaned_data["is_default"],
            )
        except (actions.ProgrammeRefused, NotAllowed) as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, _("Programme %(code)s created.") % {"code": programme.code})
            return redirect("partner-programme", pk=programme.pk)
    return render(request, "partners/programme_form.html", {"form": form})


@partner_page
def programme_detail(request: HttpRequest, membership: Membership, pk: int) -> HttpResponse:
    programme = _programme(membership, pk)
    _require_admin_to_change(request, membership)
    form = ProgrammeChangeForm(
        request.POST or None,
        initial={
            "name": programme.name,
            "ends_on": programme.ends_on,
            "claim_wording": programme.claim_wording,
        },
    )
    if request.method == "POST":
        try:
            if "make_default" in request.POST:
                actions.set_default_programme(actor=request.user, programme=programme)  # type: ignore[arg-type]
                messages.success(
                    request,
                    _("%(code)s is now your default programme.") % {"code": programme.code},
                )
                return redirect("partner-programme", pk=programme.pk)
            if form.is_valid():
                actions.change_programme(
                    actor=request.user,  # type: ignore[arg-type]
                    programme=programme,
                    name=form.cleaned_data["name"],
                    ends_on=form.cleaned_data["ends_on"],
                    claim_wording=form.cleaned_data["claim_wording"],
                )
                messages.success(request, _("Programme changed."))
                return redirect("partner-programme", pk=programme.pk)
        except (actions.ProgrammeRefused, NotAllowed) as exc:
            form.add_error(None, str(exc))
    figures = programme_figures([programme.pk]).get(programme.pk, ProgrammeFigures())
    return render(
        request,
        "partners/programme_detail.html",
        {
            "programme": programme,
            "figures": figures,
            "quota_share": round(100 * figures.devices / programme.quota)
            if programme.quota
            else None,
            "form": form,
            "can_manage": membership.role == Role.ADMIN,
            "recent": programme.registrations.select_related("category").order_by("-created_at")[
                :10
            ],
        },
    )
