"""The public device lookup: which recycled phone compensated mine?

The identifier is sent by POST so that it stays out of addresses, browser history and access
logs; it is hashed with the registry's key and forgotten. Rate-limited per client address.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext

from oneforone.core.qr import qr_svg
from oneforone.core.ratelimit import rate_limited
from oneforone.partners.identifiers import DeviceKind, InvalidIdentifier, kind_name
from oneforone.registry.devices import DeviceAnswer, look_up

LOOKUP_LIMIT = 30
LOOKUP_WINDOW = timedelta(minutes=1)


def unit_url(serial: str) -> str:
    return settings.PUBLIC_BASE_URL.rstrip("/") + reverse("registry-unit", args=[serial])


@rate_limited("verify-device", limit=LOOKUP_LIMIT, window=LOOKUP_WINDOW)
def verify_device(request: HttpRequest) -> HttpResponse:
    context: dict[str, object] = {"kind": "auto"}
    status = 200
    if request.method == "POST":
        kind = request.POST.get("kind", "auto")
        context["kind"] = kind
        try:
            answer = look_up(request.POST.get("identifier", ""), None if kind == "auto" else kind)
        except InvalidIdentifier as problem:
            # A problem that ends a sentence itself ("a typing error?") gets no second stop.
            sentence = (
                gettext("That is not a valid %(kind)s: %(problem)s")
                if str(problem).endswith(("?", "!", "."))
                else gettext("That is not a valid %(kind)s: %(problem)s.")
            )
            context["error"] = sentence % {"kind": _kind_name(kind), "problem": problem}
            status = 400
        else:
            context["answer"] = answer
            context["qrs"] = _qr_codes(answer)
    return render(request, "registry/device.html", context, status=status)


def _kind_name(kind: str) -> str:
    """The kind the visitor chose, as the sentence names it; either when they left it open."""
    return kind_name(kind) if kind in DeviceKind.values else gettext("IMEI or serial number")


def _qr_codes(answer: DeviceAnswer) -> list[tuple[str, str, str]]:
    """(serial, public address, QR SVG) of each unit, for printing on packaging."""
    return [(u.serial, unit_url(u.serial), qr_svg(unit_url(u.serial))) for u in answer.units]
