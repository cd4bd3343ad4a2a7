"""The public methodology pages: the published versions, one version's factors and rules."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from oneforone.impact import queries
from oneforone.impact.models import MethodologyVersion


def versions(request: HttpRequest) -> HttpResponse:
    return render(request, "impact/versions.html", {"versions": queries.methodology_versions()})


def version(request: HttpRequest, number: int) -> HttpResponse:
    try:
        found = queries.resolve_version(number)
    except MethodologyVersion.DoesNotExist as exc:
        raise Http404(str(exc)) from exc
    return render(
        request,
        "impact/version.html",
        {
            "version": found,
            "factors": found.factors.all(),
            "rules": found.rules.all(),
            "latest": queries.resolve_version(None),
        },
    )
