"""View guards: the signed-in person must act for an organisation of the right kind."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.http.response import HttpResponseBase
from django.utils.translation import gettext

from oneforone.accounts.queries import membership_of

View = Callable[..., HttpResponseBase]  # streamed responses (CSV) included


def member_of_kind(*kinds: str, write: bool = False) -> Callable[[View], View]:
    """Pass the membership to the view; 403 for people of other kinds of organisation."""

    def decorate(view: View) -> View:
        @login_required
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            membership = membership_of(request.user)  # type: ignore[arg-type]
            if membership is None or membership.organisation.kind not in kinds:
                raise PermissionDenied(gettext("This page is for another kind of organisation."))
            if write and request.method == "POST" and not membership.can_write:
                raise PermissionDenied(gettext("Your role is read-only; ask an administrator."))
            return view(request, membership, *args, **kwargs)

        return wrapper

    return decorate
