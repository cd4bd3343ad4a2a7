"""Idempotency-Key for POST requests: a retry returns the first answer instead of acting twice.

A client sends ``Idempotency-Key: <up to 255 printable characters>`` with a POST. Before the
endpoint runs, the key is claimed in its own short statement::

    INSERT ... ON CONFLICT (scope, key) DO UPDATE ... WHERE <the old claim expired or was lost>

so of two requests with the same key exactly one runs, whatever the timing. Then:

* the claim is ours: the endpoint runs; an answer below 500 is stored (status, a few headers,
  body) and the claim is complete; a 5xx, an exception, a 401 or a 429 releases the key, so
  a retry runs again;
* the key is complete with the same fingerprint (method, path, body): the stored answer is
  replayed with ``Idempotent-Replayed: true``;
* the key is still running with the same fingerprint: 409 ``idempotency_key_in_use`` with
  ``Retry-After``;
* the key was used with another method, path or body: 422 ``idempotency_key_reused``.

``scope`` separates clients: the API key's id, or the client address when there is no key.
A record lives 24 hours (``IDEMPOTENCY_TTL``). A claim that is still running after
``IDEMPOTENCY_LEASE`` was lost (a worker killed in the middle): a retry may take it over.
Expired records are purged one batch in ``PURGE_ONE_IN`` claims, and by the
``purge_idempotency_keys`` command.

Apply it with :func:`idempotent` as a view decorator; the API applies it to every operation, so
every POST endpoint gets it without asking.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import logging
import re
import secrets
from collections.abc import Callable
from datetime import datetime, timedelta

from django.db import DatabaseError, connection, transaction
from django.http import HttpRequest, HttpResponse
from django.http.multipartparser import MultiPartParserError
from django.http.response import HttpResponseBase
from django.utils import timezone
from django.utils.translation import gettext

from oneforone.core.apitools import error_item, error_response

logger = logging.getLogger(__name__)

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
KEY_PATTERN = r"^[\x21-\x7e]{1,255}$"
IDEMPOTENCY_TTL = timedelta(hours=24)
IDEMPOTENCY_LEASE = timedelta(minutes=10)
RETRY_IN_USE_SECONDS = 1
PURGE_ONE_IN = 1000
PURGE_BATCH = 10_000
# Answers that say nothing happened and may differ on a retry: never stored.
NOT_STORED = frozenset({401, 429})
KEPT_HEADERS = ("Content-Type", "Location", "Content-Disposition")
_KEY = re.compile(KEY_PATTERN)

_CLAIM = """
INSERT INTO core_idempotencyrecord
    (scope, key, fingerprint, method, path, state, headers, created_at, lease_until, expires_at)
VALUES (%(scope)s, %(key)s, %(fingerprint)s, %(method)s, %(path)s, 'running', '{}',
        %(now)s, %(lease_until)s, %(expires_at)s)
ON CONFLICT (scope, key) DO UPDATE SET
    fingerprint = EXCLUDED.fingerprint, method = EXCLUDED.method, path = EXCLUDED.path,
    state = 'running', status_code = NULL, headers = '{}', body = NULL,
    created_at = EXCLUDED.created_at, lease_until = EXCLUDED.lease_until,
    expires_at = EXCLUDED.expires_at
WHERE core_idempotencyrecord.expires_at <= %(now)s
   OR (core_idempotencyrecord.state = 'running'
       AND core_idempotencyrecord.lease_until <= %(now)s
       AND core_idempotencyrecord.fingerprint = EXCLUDED.fingerprint)
RETURNING id
"""
_EXISTING = """
SELECT state, fingerprint, status_code, headers, body FROM core_idempotencyrecord
WHERE scope = %s AND key = %s
"""
_COMPLETE = """
UPDATE core_idempotencyrecord SET state = 'complete', status_code = %s, headers = %s, body = %s
WHERE id = %s AND state = 'running'
"""
_RELEASE = "DELETE FROM core_idempotencyrecord WHERE id = %s AND state = 'running'"
_PURGE = """
DELETE FROM core_idempotencyrecord WHERE id IN (
    SELECT id FROM core_idempotencyrecord WHERE expires_at <= %s
    ORDER BY expires_at LIMIT %s FOR UPDATE SKIP LOCKED
)
"""


def fingerprint(request: HttpRequest) -> str:
    """SHA-256 of method, path with query and body; JSON bodies compared by content, not
    spacing; multipart bodies by their fields and files' contents (without reading the whole
    upload into memory)."""
    digest = hashlib.sha256()
    digest.update(f"{request.method}\n{request.get_full_path()}\n".encode())
    content_type = request.content_type or ""
    if content_type.startswith("multipart/form-data"):
        for name, values in sorted(request.POST.lists()):
            digest.update(json.dumps([name, values]).encode())
        for name, files in sorted(request.FILES.lists()):
            for upload in files:
                digest.update(json.dumps([name, upload.name, upload.size]).encode())
                for chunk in upload.chunks():
                    digest.update(chunk)
                upload.seek(0)
    else:
        body = request.body
        with contextlib.suppress(ValueError):  # not JSON: compared byte for byte
            body = json.dumps(json.loads(body), sort_keys=True, separators=(",", ":")).encode()
        digest.update(body)
    return digest.hexdigest()


def idempotent[**P](
    scope_of: Callable[[HttpRequest], str],
) -> Callable[[Callable[P, HttpResponseBase]], Callable[P, HttpResponseBase]]:
    """A view decorator: POSTs with an Idempotency-Key run once per (scope, key)."""

    def decorate(view: Callable[P, HttpResponseBase]) -> Callable[P, HttpResponseBase]:
        @functools.wraps(view)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> HttpResponseBase:
            request = args[0]
            assert isinstance(request, HttpRequest)
            key = request.headers.get(HEADER)
            if request.method != "POST" or key is None:
                return view(*args, **kwargs)
            if not _KEY.match(key):
                return error_response(
                    400,
                    "invalid_idempotency_key",
                    gettext(
                        "%(header)s must be 1 to 255 printable characters without spaces, "
                        "e.g. a UUID"
                    )
                    % {"header": HEADER},
                    [error_item("invalid_idempotency_key", gettext("not a valid key"), HEADER)],
                )
            try:
                print_ = fingerprint(request)
            except MultiPartParserError as exc:
                return error_response(
                    400,
                    "malformed_body",
                    gettext("the multipart body cannot be read: %(error)s") % {"error": exc},
                )
            claim = _claim(scope_of(request), key, request, print_)
            if isinstance(claim, HttpResponseBase):
                return claim
            try:
                response = view(*args, **kwargs)
            except BaseException:
                _release(claim)
                raise
            if response.status_code >= 500 or response.status_code in NOT_STORED:
                _release(claim)
            elif response.streaming:
                _release(claim)  # nothing to replay: the next try runs again
            else:
                _complete(claim, response)
            return response

        wrapper.idempotent = True  # type: ignore[attr-defined]  # a test checks every POST has it
        return wrapper

    return decorate


def _claim(scope: str, key: str, request: HttpRequest, print_: str) -> int | HttpResponseBase:
    """Our record's id if we run the request; else the answer to give instead."""
    for _ in range(3):
        now = timezone.now()
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                _CLAIM,
                {
                    "scope": scope,
                    "key": key,
                    "fingerprint": print_,
                    "method": request.method,
                    "path": request.path[:2000],
                    "now": now,
                    "lease_until": now + IDEMPOTENCY_LEASE,
                    "expires_at": now + IDEMPOTENCY_TTL,
                },
            )
            row = cursor.fetchone()
            if row is not None:
                if secrets.randbelow(PURGE_ONE_IN) == 0:
                    _purge_one_batch_quietly(now)
                return int(row[0])
            cursor.execute(_EXISTING, [scope, key])
            existing = cursor.fetchone()
        if existing is None:
            continue  # released between our two statements: claim again
        state, stored_print, status, headers, body = existing
        if stored_print != print_:
            return error_response(
                422,
                "idempotency_key_reused",
                gettext(
                    "this %(header)s was used for another request (another method, path or "
                    "body); use a new key for a new request"
                )
                % {"header": HEADER},
                [error_item("idempotency_key_reused", gettext("used for another request"), HEADER)],
            )
        if state == "running":
            return error_response(
                409,
                "idempotency_key_in_use",
                gettext(
                    "a request with this %(header)s is still running; retry after it finishes "
                    "to get its answer"
                )
                % {"header": HEADER},
                headers={"Retry-After": str(RETRY_IN_USE_SECONDS)},
            )
        # Django reads jsonb as text (its JSONField decodes it), so raw SQL gets a string.
        headers = json.loads(headers) if isinstance(headers, str) else headers
        return _replay(status, headers, bytes(body or b""))
    return error_response(
        409,
        "idempotency_key_in_use",
        gettext("requests with this %(header)s keep racing; retry in a moment")
        % {"header": HEADER},
        headers={"Retry-After": str(RETRY_IN_USE_SECONDS)},
    )


def _replay(status: int, headers: dict[str, str], body: bytes) -> HttpResponse:
    response = HttpResponse(body, status=status)
    for name, value in headers.items():
        response[name] = value
    response[REPLAYED_HEADER] = "true"
    return response


def _complete(record_id: int, response: HttpResponseBase) -> None:
    headers = {name: response[name] for name in KEPT_HEADERS if response.has_header(name)}
    body = response.content  # type: ignore[attr-defined]
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(_COMPLETE, [response.status_code, json.dumps(headers), body, record_id])


def _release(record_id: int) -> None:
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(_RELEASE, [record_id])
    except DatabaseError:
        # The lease runs out instead: a retry after IDEMPOTENCY_LEASE takes the key over.
        logger.exception("could not release idempotency record %s", record_id)


def purge_expired(before: datetime | None = None) -> int:
    """Delete the records that expired at or before ``before`` (now); returns how many."""
    before = before or timezone.now()
    deleted = 0
    while True:
        with connection.cursor() as cursor:
            cursor.execute(_PURGE, [before, PURGE_BATCH])
            batch = cursor.rowcount
        deleted += batch
        if batch < PURGE_BATCH:
            return deleted


def _purge_one_batch_quietly(now: datetime) -> None:
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(_PURGE, [now, PURGE_BATCH])
    except DatabaseError:
        logger.exception("idempotency purge failed; a later claim will retry")
