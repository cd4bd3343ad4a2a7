"""Helpers for the modules that build event payloads."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.urls import reverse

_MARKER = "9182736450"


def public_url(name: str) -> Callable[[object], str]:
    """The absolute URL of route `name` for one argument, reversed once rather than per event."""
    template = settings.PUBLIC_BASE_URL.rstrip("/") + reverse(name, args=[_MARKER])
    before, _, after = template.partition(_MARKER)
    return lambda value: f"{before}{value}{after}"
