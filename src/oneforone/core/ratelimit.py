"""A fixed-window rate limiter on PostgreSQL: no cache server to run.

django-ratelimit refuses Django's DatabaseCache because its increments are not atomic; here each
request is one atomic statement on ``core_ratelimithit``::

    INSERT ... ON CONFLICT (bucket, window_start) DO UPDATE SET hits = hits + 1 RETURNING hits

so N parallel requests against a limit L are allowed exactly L times, in autocommit or inside
a transaction. Windows are aligned to the clock (a "minute" window runs from :00 to :59), so a
client can get up to 2 × L requests through around a window boundary; that is the price of one
row per client and window.

Usage on a page, and on a django-ninja operation through ninja's ``decorate_view``::

    from datetime import timedelta
    from ninja.decorators import decorate_view
    from oneforone.core.ratelimit import rate_limited

    @rate_limited("verify-device", limit=30, window=timedelta(minutes=1))
    def verify_device(request: HttpRequest) -> HttpResponse: ...

    @api.get("/devices/{imei}")
    @decorate_view(rate_limited("api-devices", limit=600, window=timedelta(minutes=1)))
    def get_device(request: HttpRequest, imei: str) -> DeviceOut: ...

On a class-based view: ``method_decorator(rate_limited(...), name="dispatch")``. Sync views only.

Past the limit the view is not called: the answer is 429 with a ``Retry-After`` header and a
short message: under ``/api/`` the API's error body in JSON,
``{"code": "rate_limited", "message": ..., "errors": [], "retry_after": n}``, a small HTML page
elsewhere. Requests are counted per ``scope`` and per ``key(request)``
(default: ``client_ip``), or by another ``key``, e.g. a form's e-mail field. The count happens
before the view, so before login checks and, on ninja, before authentication: refused attempts
count too, and a key function cannot use ``request.auth``. In an ``ATOMIC_REQUESTS`` transaction
a hit commits with the request, and the counter row stays locked until then.

Settings:

``RATE_LIMITS``
    ``{"verify-device": "30/minute", "login": "10/15minutes"}`` (env ``ONEFORONE_RATE_LIMITS``,
    ``verify-device=30/minute,login=10/15minutes``) overrides a scope's limit and window given
    in the code; parsed once and re-read when a test changes the setting. Units: second, minute,
    hour, day, singular or plural, with an optional count before them.
``TRUST_X_FORWARDED_FOR``
    (env ``ONEFORONE_TRUST_X_FORWARDED_FOR=1``) makes ``client_ip`` take the first
    X-Forwarded-For address instead of REMOTE_ADDR. Only turn it on behind a proxy that sets
    that header itself: otherwise any client picks its own bucket.

Cleanup: ``purge_expired`` deletes windows that ended. Rather than a scheduled command that an
operator must remember to run, one ``hit`` in ``PURGE_ONE_IN`` (1000) also purges: each hit adds
at most one row, and each purge removes up to ``PURGE_BATCH`` rows, so the table stays near the
number of live windows. The purge skips rows others hold locked, so it never waits or deadlocks,
and runs in its own savepoint: a failure is logged, never turned into a failed request.
"""

from __future__ import annotations

import functools
import hashlib
import inspect
import ipaddress
import logging
import math
import re
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings
from django.core import checks
from django.core.exceptions import ImproperlyConfigured
from django.core.signals import setting_changed
from django.db import DatabaseError, connection, transaction
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import get_language, gettext, ngettext

__all__ = [
    "RateLimitDecision",
    "client_ip",
    "hit",
    "parse_rate",
    "purge_expired",
    "rate_limited",
]

logger = logging.getLogger(__name__)

PURGE_ONE_IN = 1000
PURGE_BATCH = 10_000
# Longer keys (a custom key function's output) are hashed to keep the unique index small.
MAX_BUCKET_LENGTH = 200
_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)
_UNITS = {"second": 1, "minute": 60, "hour": 3600, "day": 86400}
_RATE = re.compile(r"^\s*(\d+)\s*/\s*(\d*)\s*(second|minute|hour|day)s?\s*$")

_UPSERT = """
INSERT INTO core_ratelimithit (bucket, window_start, window_end, hits)
VALUES (%s, %s, %s, 1)
ON CONFLICT (bucket, window_start) DO UPDATE SET hits = core_ratelimithit.hits + 1
RETURNING hits
"""
_PURGE = """
DELETE FROM core_ratelimithit WHERE id IN (
    SELECT id FROM core_ratelimithit WHERE window_end <= %s
    ORDER BY window_end LIMIT %s FOR UPDATE SKIP LOCKED
)
"""


@dataclass(frozen=True)
class RateLimitDecision:
    allowed: bool
    remaining: int
    """Requests still allowed in this window after this one."""
    retry_after_seconds: int
    """0 when allowed; else whole seconds until the window ends (at least 1)."""


def hit(bucket: str, *, limit: int, window: timedelta) -> RateLimitDecision:
    """Count one request in ``bucket``'s current window; allowed while the count is <= limit."""
    _check_limit(limit, window)
    if len(bucket) > MAX_BUCKET_LENGTH:
        bucket = f"{bucket[:100]}#{hashlib.sha256(bucket.encode()).hexdigest()}"
    now = timezone.now()
    window_start = _EPOCH + (now - _EPOCH) // window * window
    window_end = window_start + window
    with connection.cursor() as cursor:
        cursor.execute(_UPSERT, [bucket, window_start, window_end])
        (hits,) = cursor.fetchone()
    if secrets.randbelow(PURGE_ONE_IN) == 0:
        _purge_one_batch_quietly(now)
    if hits <= limit:
        return RateLimitDecision(allowed=True, remaining=limit - hits, retry_after_seconds=0)
    wait = max(1, math.ceil((window_end - now).total_seconds()))
    return RateLimitDecision(allowed=False, remaining=0, retry_after_seconds=wait)


def purge_expired(before: datetime) -> int:
    """Delete the windows that ended at or before ``before``; returns how many."""
    deleted = 0
    while (batch := _purge_batch(before)) == PURGE_BATCH:
        deleted += batch
    return deleted + batch


def _purge_batch(before: datetime) -> int:
    with connection.cursor() as cursor:
        cursor.execute(_PURGE, [before, PURGE_BATCH])
        return cursor.rowcount


def _purge_one_batch_quietly(now: datetime) -> None:
    try:
        with transaction.atomic():
            _purge_batch(now)
    except DatabaseError:
        logger.exception("rate limit purge failed; a later hit will retry")


def _check_limit(limit: int, window: timedelta) -> None:
    if limit < 0:
        raise ValueError(f"limit must be 0 or more, not {limit}")
    if window < timedelta(seconds=1):
        raise ValueError(f"window must be at least a second, not {window}")


def client_ip(request: HttpRequest) -> str:
    """REMOTE_ADDR, or the first X-Forwarded-For address if ``TRUST_X_FORWARDED_FOR``."""
    if getattr(settings, "TRUST_X_FORWARDED_FOR", False):
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        first = forwarded.split(",")[0].strip()
        try:
            return str(ipaddress.ip_address(first))
        except ValueError:
            pass  # absent or not an address: the proxy's own view is all we have
    return str(request.META.get("REMOTE_ADDR") or "unknown")


def parse_rate(rate: str) -> tuple[int, timedelta]:
    """``"30/minute"`` -> (30, 1 minute); ``"10/15minutes"`` -> (10, 15 minutes)."""
    match = _RATE.match(rate)
    if not match or match.group(2) == "0":
        raise ValueError(
            f"rate {rate!r} is not understood: expected a count per period, "
            "e.g. 30/minute, 100/hour or 10/15minutes"
        )
    count, multiple, unit = match.groups()
    return int(count), timedelta(seconds=int(multiple or 1) * _UNITS[unit])


@functools.cache
def configured_limits() -> Mapping[str, tuple[int, timedelta]]:
    """``settings.RATE_LIMITS`` parsed once (and again after a test changes it)."""
    limits: dict[str, tuple[int, timedelta]] = {}
    for scope, rate in getattr(settings, "RATE_LIMITS", {}).items():
        try:
            limits[scope] = parse_rate(rate)
        except ValueError as error:
            raise ImproperlyConfigured(f"RATE_LIMITS[{scope!r}]: {error}") from None
    return limits


def check_rate_limits(**kwargs: Any) -> list[checks.CheckMessage]:
    """System check: every ``RATE_LIMITS`` entry parses."""
    try:
        configured_limits()
    except ImproperlyConfigured as error:
        return [checks.Error(str(error), id="oneforone.E001")]
    return []


@receiver(setting_changed)
def _forget_limits(*, setting: str, **kwargs: Any) -> None:
    if setting == "RATE_LIMITS":
        configured_limits.cache_clear()


def rate_limited[**P](
    scope: str,
    *,
    limit: int,
    window: timedelta,
    key: Callable[[HttpRequest], str] = client_ip,
) -> Callable[[Callable[P, Any]], Callable[P, Any]]:
    """Refuse with 429 a ``key`` making more than ``limit`` requests per ``window`` to the view.

    ``settings.RATE_LIMITS[scope]``, if present, replaces ``limit`` and ``window``.
    """
    _check_limit(limit, window)

    def decorate(view: Callable[P, Any]) -> Callable[P, Any]:
        if inspect.iscoroutinefunction(view):
            raise TypeError(f"rate_limited({scope!r}) counts in sync views only")

        @functools.wraps(view)
        def limited(*args: P.args, **kwargs: P.kwargs) -> Any:
            request = args[0]
            if not isinstance(request, HttpRequest):
                raise TypeError(f"rate_limited({scope!r}) needs the request first, not {request!r}")
            scope_limit, scope_window = configured_limits().get(scope, (limit, window))
            decision = hit(f"{scope}:{key(request)}", limit=scope_limit, window=scope_window)
            if not decision.allowed:
                return too_many_requests(request, decision.retry_after_seconds)
            return view(*args, **kwargs)

        return limited

    return decorate


def too_many_requests(request: HttpRequest, retry_after: int) -> HttpResponse:
    """The 429 answer: JSON under /api/, a small HTML page elsewhere; Retry-After either way."""
    message = gettext("Too many requests: please try again in %(duration)s.") % {
        "duration": _duration(retry_after)
    }
    response: HttpResponse
    if request.path.startswith("/api/"):
        response = JsonResponse(
            {"code": "rate_limited", "message": message, "errors": [], "retry_after": retry_after},
            status=429,
        )
    else:
        response = HttpResponse(
            format_html(
                '<!doctype html><html lang="{}"><head><meta charset="utf-8">'
                '<meta name="viewport" content="width=device-width, initial-scale=1">'
                "<title>{}</title></head><body><h1>{}</h1><p>{}</p></body></html>",
                get_language() or settings.LANGUAGE_CODE,
                gettext("Too many requests"),
                gettext("Too many requests"),
                message,
            ),
            status=429,
            content_type="text/html; charset=utf-8",
        )
    response["Retry-After"] = str(retry_after)
    return response


def _duration(seconds: int) -> str:
    if seconds < 120:
        return ngettext("%(count)s second", "%(count)s seconds", seconds) % {"count": seconds}
    if seconds < 2 * 3600:
        minutes = math.ceil(seconds / 60)
        return ngettext("%(count)s minute", "%(count)s minutes", minutes) % {"count": minutes}
    hours = math.ceil(seconds / 3600)
    return ngettext("%(count)s hour", "%(count)s hours", hours) % {"count": hours}
