from __future__ import annotations

import hashlib

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from oneforone.accounts.queries import system_user
from oneforone.core.ledger import canonical_json
from oneforone.core.qr import qr_svg
from oneforone.impact.cards import certificate_cards
from oneforone.registry import actions, public_queries
from oneforone.registry.certificate_pdf import render_pdf, verification_url
from oneforone.registry.models import Certificate
from oneforone.registry.public_views import public_download, public_page


@public_page
def verify_search(request: HttpRequest) -> HttpResponse:
    code = request.GET.get("code", "").strip().upper()
    if code:
        if (
            public_queries.CERTIFICATE_CODE.match(code)
            and Certificate.objects.filter(code=code).exists()
        ):
            return redirect("verify", code=code)
        messages.error(
            request,
            _(
                "No certificate “%(code)s”. Codes look like C-7K3M9Q2XPA; check the "
                "characters (there is no 0, 1, I or O in a code)."
            )
            % {"code": code},
        )
    return render(request, "registry/verify_search.html", {"code": code})


def _certificate(code: str) -> Certificate:
    return get_object_or_404(
        Certificate.objects.select_related("document", "withdrawal", "supersedes", "superseded_by"),
        code=code,
    )


@public_page
def verify(request: HttpRequest, code: str) -> HttpResponse:
    certificate = _certificate(code)
    url = verification_url(certificate)
    entry = public_queries.certificate_entry(certificate)
    proof = public_queries.entry_json(entry) if entry else None
    return render(
        request,
        "registry/verify.html",
        {
            "certificate": certificate,
            "facts": certificate.snapshot,
            "qr": qr_svg(url),
            "url": url,
            "document": getattr(certificate, "document", None),
            "withdrawal": getattr(certificate, "withdrawal", None),
            "superseded_by": getattr(certificate, "superseded_by", None),
            "entry": entry,
            "proof": proof,
            "proof_ok": proof is not None
            and public_queries.proof_checks(proof["entry_hash"], proof["proof"]),
            "canonical": canonical_json(proof["fields"]) if proof and proof["fields"] else "",
            "methodology": certificate_cards(certificate, request.GET.get("version")),
        },
    )


@public_page
def verify_json(request: HttpRequest, code: str) -> JsonResponse:
    """Everything a verifier needs: see docs/public-registry.md and docs/verify_certificate.py."""
    document = public_queries.certificate_json(
        _certificate(code), base_url=settings.PUBLIC_BASE_URL.rstrip("/")
    )
    return JsonResponse(document, json_dumps_params={"indent": 2})


@public_download
def verify_pdf(request: HttpRequest, code: str) -> HttpResponse:
    """The certificate for a reader: in the language of the request, with its impact figures
    under a published methodology version (`?version=N`, default the latest). `?copy=sealed`
    answers the copy rendered once at issue, whose SHA-256 the verification page shows."""
    certificate = get_object_or_404(
        Certificate.objects.select_related("registration__partner", "withdrawal"), code=code
    )
    if request.GET.get("copy") == "sealed":
        document = actions.render_certificate_document(actor=system_user(), certificate=certificate)
        pdf, filename = bytes(document.pdf), f"oneforone-{certificate.code}.pdf"
    else:
        pdf = render_pdf(
            certificate,
            impact=certificate_cards(certificate, request.GET.get("version")),
            withdrawal=getattr(certificate, "withdrawal", None),
        )
        filename = f"oneforone-{certificate.code}-{get_language()}.pdf"
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{filename}"'
    response["X-Content-SHA256"] = hashlib.sha256(pdf).hexdigest()
    return response
