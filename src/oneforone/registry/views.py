from __future__ import annotations

import re

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from oneforone.accounts.decorators import member_of_kind
from oneforone.accounts.models import Membership, Organisation, OrganisationKind
from oneforone.accounts.queries import system_user
from oneforone.core.qr import qr_svg
from oneforone.impact import queries as impact
from oneforone.registry import actions
from oneforone.registry.certificate_pdf import verification_url
from oneforone.registry.models import Certificate

_CODE = re.compile(r"^C-[2-9A-HJ-NP-Z]{10}$")


def verify_search(request: HttpRequest) -> HttpResponse:
    code = request.GET.get("code", "").strip().upper()
    if code:
        if _CODE.match(code) and Certificate.objects.filter(code=code).exists():
            return redirect("verify", code=code)
        messages.error(
            request,
            f"No certificate {code!r}. Codes look like C-7K3M9Q2XPA; check the "
            "characters (there is no 0, 1, I or O in a code).",
        )
    return render(request, "registry/verify_search.html", {"code": code})


def verify(request: HttpRequest, code: str) -> HttpResponse:
    certificate = get_object_or_404(Certificate.objects.select_related("document"), code=code)
    url = verification_url(certificate)
    return render(
        request,
        "registry/verify.html",
        {
            "certificate": certificate,
            "facts": certificate.snapshot,
            "qr": qr_svg(url),
            "url": url,
            "document": getattr(certificate, "document", None),
        },
    )


def verify_pdf(request: HttpRequest, code: str) -> HttpResponse:
    certificate = get_object_or_404(
        Certificate.objects.select_related("registration__partner"), code=code
    )
    document = actions.render_certificate_document(actor=system_user(), certificate=certificate)
    response = HttpResponse(bytes(document.pdf), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="oneforone-{certificate.code}.pdf"'
    response["X-Content-SHA256"] = document.sha256
    return response


operator_page = member_of_kind(OrganisationKind.OPERATOR, write=True)


@operator_page
def allocation(request: HttpRequest, membership: Membership) -> HttpResponse:
    partners = Organisation.objects.filter(kind=OrganisationKind.PARTNER)
    backlog = [(p, impact.registry_totals(p)) for p in partners]
    return render(
        request,
        "registry/allocation.html",
        {
            "pipeline": impact.pipeline(),
            "totals": impact.registry_totals(),
            "backlog": backlog,
        },
    )


@require_POST
@operator_page
def run_allocation(request: HttpRequest, membership: Membership) -> HttpResponse:
    partner = None
    if partner_id := request.POST.get("partner"):
        partner = Organisation.objects.filter(pk=partner_id, kind=OrganisationKind.PARTNER).first()
        if partner is None:
            raise Http404("No such partner")
    result = actions.allocate(actor=request.user, partner=partner)  # type: ignore[arg-type]
    if result.allocations:
        messages.success(
            request,
            f"Allocated {result.units:,} units to "
            f"{len({a.registration_id for a in result.allocations}):,} "
            f"registrations; {len(result.certificates):,} certificates issued.",
        )
    else:
        messages.warning(
            request, "Nothing to allocate: no open registrations or no available units."
        )
    return redirect("operator-allocation")
