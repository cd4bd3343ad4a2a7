from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from oneforone.accounts.queries import membership_of


def membership(request: HttpRequest) -> dict[str, Any]:
    member = membership_of(request.user) if hasattr(request, "user") else None  # type: ignore[arg-type]
    return {"membership": member, "organisation": member.organisation if member else None}
