"""Pages the core serves for the whole site."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import REASON_NO_CSRF_COOKIE
from django.shortcuts import render
from django.utils.http import url_has_allowed_host_and_scheme


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """A form refused by the CSRF check, in the site's frame and the reader's language.

    Django's own page is English and written for developers. People meet this after leaving a
    form open across a sign-out or a new deployment, or with cookies blocked; the page says
    which, and what to do. Django's reason stays in the log, not on the page."""
    return render(
        request,
        "403_csrf.html",
        {"no_cookie": reason == REASON_NO_CSRF_COOKIE, "back": _form_page(request)},
        status=403,
    )


def _form_page(request: HttpRequest) -> str:
    """The page the form was on (its address may only take a POST), if it is on this site."""
    referer = request.headers.get("referer", "")
    if referer and url_has_allowed_host_and_scheme(
        referer, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return referer
    return request.get_full_path()
