"""Sending deliveries: the request, its signature, the log, and the retry schedule.

A delivery is attempted at once after the event's transaction commits. A failed attempt (no
answer within the timeout, or an answer other than 2xx) is retried after RETRY_DELAYS, each
stretched or shrunk by up to JITTER so that many failed deliveries do not come back at the same
second. After MAX_ATTEMPTS the delivery has failed for good; it can still be redelivered from the
log. An endpoint whose automatic attempts have failed DISABLE_AFTER_FAILURES times in a row, over at
least DISABLE_AFTER_SPAN, is disabled and its partner's administrators get an e-mail.

Recording an attempt is the delivery log, not a business change: it writes no audit event (every
retry would otherwise take the audit chain's lock). Disabling an endpoint is an action and does.
"""

from __future__ import annotations

import datetime as dt
import http.client
import ipaddress
import json
import random
import socket
import time
import urllib.error
import urllib.request
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext

from oneforone.webhooks import crypto, signing
from oneforone.webhooks.models import Attempt, Delivery, DeliveryState, Endpoint, Event

RETRY_DELAYS = [
    dt.timedelta(minutes=1),
    dt.timedelta(minutes=5),
    dt.timedelta(minutes=30),
    dt.timedelta(hours=2),
    dt.timedelta(hours=5),
    dt.timedelta(hours=10),
    dt.timedelta(hours=10),
]
MAX_ATTEMPTS = len(RETRY_DELAYS) + 1  # 8 attempts over about 28 hours
JITTER = 0.1
DISABLE_AFTER_FAILURES = MAX_ATTEMPTS
DISABLE_AFTER_SPAN = dt.timedelta(hours=24)
TIMEOUT_SECONDS = 10
LEASE = dt.timedelta(seconds=TIMEOUT_SECONDS * 3)
EXCERPT_CHARS = 2000
USER_AGENT = "oneforone-webhooks/1"


def retry_delay(attempts: int) -> dt.timedelta:
    """The wait after the `attempts`-th failed attempt, with jitter."""
    base = RETRY_DELAYS[min(attempts, len(RETRY_DELAYS)) - 1]
    return base * (1 + random.uniform(-JITTER, JITTER))  # noqa: S311 - spreading load, not secrecy


def body_of(event: Event) -> bytes:
    """What every delivery of an event posts: the same bytes each time."""
    document = {
        "id": str(event.uuid),
        "type": event.type,
        "created_at": event.created_at.isoformat(),
        "data": event.data,
    }
    return json.dumps(
        document, cls=DjangoJSONEncoder, sort_keys=True, separators=(",", ":")
    ).encode()


def headers_for(delivery: Delivery, body: bytes, timestamp: int) -> dict[str, str]:
    endpoint = delivery.endpoint
    signature = signing.signature_header(crypto.decrypt(endpoint.secret_encrypted), body, timestamp)
    if endpoint.previous_secret_encrypted and (
        endpoint.previous_secret_expires_at and endpoint.previous_secret_expires_at > timezone.now()
    ):
        previous = crypto.decrypt(endpoint.previous_secret_encrypted)
        signature += f",v1={signing.sign(previous, body, timestamp)}"
    return {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        signing.EVENT_HEADER: delivery.event.type,
        signing.DELIVERY_HEADER: str(delivery.uuid),
        signing.SIGNATURE_HEADER: signature,
    }


class UnsafeUrl(Exception):
    pass


def check_destination(url: str, *, resolve: bool = True) -> None:
    """Refuse URLs that point into the operator's own network, unless settings allow it."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UnsafeUrl(gettext("use an http:// or https:// URL with a host name"))
    if settings.WEBHOOK_ALLOW_PRIVATE_URLS:
        return
    if parts.scheme != "https":
        raise UnsafeUrl(gettext("use an https:// URL"))
    host = parts.hostname
    try:
        addresses = [ipaddress.ip_address(host)]
    except ValueError:
        if host == "localhost" or host.endswith(".localhost"):
            raise UnsafeUrl(
                gettext("%(host)s is not reachable from the internet") % {"host": host}
            ) from None
        if not resolve:
            return
        try:
            infos = socket.getaddrinfo(host, parts.port or 443, proto=socket.IPPROTO_TCP)
        except OSError as exc:
            raise UnsafeUrl(
                gettext("cannot resolve %(host)s: %(problem)s") % {"host": host, "problem": exc}
            ) from exc
        addresses = [ipaddress.ip_address(info[4][0]) for info in infos]
    for address in addresses:
        if not address.is_global:
            raise UnsafeUrl(
                gettext("%(host)s points at a private or reserved address (%(address)s)")
                % {"host": host, "address": address}
            )


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None  # a 3xx is an answer like any other non-2xx: the receiver must fix its URL


_opener = urllib.request.build_opener(_NoRedirects)


@dataclass(frozen=True)
class Answer:
    status: int | None
    excerpt: str
    error: str
    duration_ms: int

    @property
    def succeeded(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


def post(url: str, body: bytes, headers: dict[str, str]) -> Answer:
    started = time.monotonic()
    status: int | None = None
    excerpt = error = ""
    try:
        check_destination(url)
        request = urllib.request.Request(url, data=body, headers=headers, method="POST")  # noqa: S310 - scheme checked above
        with _opener.open(request, timeout=TIMEOUT_SECONDS) as response:
            status = response.status
            excerpt = response.read(EXCERPT_CHARS * 4).decode("utf-8", "replace")
    except urllib.error.HTTPError as exc:
        status = exc.code
        excerpt = exc.read(EXCERPT_CHARS * 4).decode("utf-8", "replace") if exc.fp else ""
        if not 200 <= status < 300:
            error = f"HTTP {status} {exc.reason}"
    except UnsafeUrl as exc:
        error = f"not sent: {exc}"
    except (OSError, ValueError, http.client.HTTPException) as exc:
        reason = getattr(exc, "reason", exc)
        error = f"{type(reason).__name__}: {reason}"[:500]
    return Answer(
        status=status,
        excerpt=excerpt[:EXCERPT_CHARS],
        error=error[:500],
        duration_ms=int((time.monotonic() - started) * 1000),
    )


def _lease(delivery_id: int, now: dt.datetime) -> bool:
    """Take the delivery for one attempt if it is due and nobody else holds it."""
    sendable = Delivery.objects.filter(
        Q(endpoint__enabled=True) | Q(manual=True), pk=delivery_id
    ).exists()
    # Only the delivery's own columns in this UPDATE: Django would turn a condition on the
    # endpoint into a subquery, which PostgreSQL does not re-check once a concurrent sender's
    # lease commits, and both would send.
    return sendable and bool(
        Delivery.objects.filter(
            Q(leased_until__isnull=True) | Q(leased_until__lte=now),
            pk=delivery_id,
            state=DeliveryState.PENDING,
            next_attempt_at__lte=now,
        ).update(leased_until=now + LEASE)
    )


def deliver(delivery_id: int, *, now: dt.datetime | None = None) -> Attempt | None:
    """Make the delivery's next attempt if it is due; None if it is not (or another worker has it)."""
    now = now or timezone.now()
    if not _lease(delivery_id, now):
        return None
    delivery = Delivery.objects.select_related("event", "endpoint").filter(pk=delivery_id).first()
    if delivery is None:
        return None
    body = body_of(delivery.event)
    headers = headers_for(delivery, body, int(now.timestamp()))
    answer = post(delivery.endpoint.url, body, headers)
    try:
        return _record(delivery, headers, answer, now)
    except Endpoint.DoesNotExist:
        return None  # the endpoint was deleted, with its log, while this attempt was under way


def lock_endpoint(endpoint_id: int) -> Endpoint:
    """Lock the endpoint's counters for this transaction.

    FOR NO KEY UPDATE, not FOR UPDATE: business actions insert deliveries that reference the
    endpoint (a FOR KEY SHARE lock) while holding the audit chain's lock, which this transaction
    may want next (to disable the endpoint). A full row lock would deadlock the two."""
    return Endpoint.objects.select_for_update(no_key=True).get(pk=endpoint_id)


@transaction.atomic
def _record(
    delivery: Delivery, headers: dict[str, str], answer: Answer, now: dt.datetime
) -> Attempt:
    endpoint = lock_endpoint(delivery.endpoint_id)
    # Read again under a lock: a sender whose lease ran out may have logged an attempt meanwhile.
    current = Delivery.objects.select_for_update(no_key=True).get(pk=delivery.pk)
    delivery.attempts, delivery.state = current.attempts, current.state
    if delivery.state != DeliveryState.PENDING:
        return _log_late(delivery, headers, answer, now)
    number = delivery.attempts + 1
    attempt = Attempt.objects.create(
        delivery=delivery,
        number=number,
        requested_at=now,
        request_headers=headers,
        response_status=answer.status,
        response_excerpt=answer.excerpt,
        error=answer.error,
        duration_ms=answer.duration_ms,
        succeeded=answer.succeeded,
    )
    delivery.attempts = number
    delivery.last_status = answer.status
    delivery.leased_until = None
    if answer.succeeded:
        delivery.state = DeliveryState.SUCCEEDED
    elif delivery.manual or number >= MAX_ATTEMPTS:
        delivery.state = DeliveryState.FAILED
    if delivery.state == DeliveryState.PENDING:
        delivery.next_attempt_at = now + retry_delay(number)
    else:
        delivery.next_attempt_at = None
        delivery.finished_at = now
    delivery.save(
        update_fields=[
            "attempts",
            "last_status",
            "leased_until",
            "state",
            "next_attempt_at",
            "finished_at",
        ]
    )
    if answer.succeeded:
        if endpoint.consecutive_failures:
            Endpoint.objects.filter(pk=endpoint.pk).update(
                consecutive_failures=0, failing_since=None
            )
    elif not delivery.manual:
        endpoint.consecutive_failures += 1
        endpoint.failing_since = endpoint.failing_since or now
        Endpoint.objects.filter(pk=endpoint.pk).update(
            consecutive_failures=F("consecutive_failures") + 1,
            failing_since=endpoint.failing_since,
        )
        if endpoint.enabled and keeps_failing(endpoint, now):
            from oneforone.webhooks.actions import disable_failing_endpoint

            disable_failing_endpoint(endpoint=endpoint, last_error=_describe(answer), now=now)
    if delivery.state == DeliveryState.PENDING and delivery.next_attempt_at is not None:
        due = delivery.next_attempt_at
        transaction.on_commit(lambda: schedule([delivery.pk], run_after=due))
    return attempt


def _log_late(
    delivery: Delivery, headers: dict[str, str], answer: Answer, now: dt.datetime
) -> Attempt:
    """An attempt made after another sender finished the delivery: logged, nothing else."""
    delivery.attempts += 1
    Delivery.objects.filter(pk=delivery.pk).update(attempts=delivery.attempts)
    return Attempt.objects.create(
        delivery=delivery,
        number=delivery.attempts,
        requested_at=now,
        request_headers=headers,
        response_status=answer.status,
        response_excerpt=answer.excerpt,
        error=answer.error,
        duration_ms=answer.duration_ms,
        succeeded=answer.succeeded,
    )


def keeps_failing(endpoint: Endpoint, now: dt.datetime) -> bool:
    return (
        endpoint.consecutive_failures >= DISABLE_AFTER_FAILURES
        and endpoint.failing_since is not None
        and now - endpoint.failing_since >= DISABLE_AFTER_SPAN
    )


def _describe(answer: Answer) -> str:
    if answer.error:
        return answer.error
    return f"HTTP {answer.status}"


def due(now: dt.datetime, limit: int = 1000) -> list[int]:
    """Deliveries whose next attempt is due, oldest first."""
    return list(
        Delivery.objects.filter(
            Q(endpoint__enabled=True) | Q(manual=True),
            Q(leased_until__isnull=True) | Q(leased_until__lte=now),
            state=DeliveryState.PENDING,
            next_attempt_at__lte=now,
        )
        .order_by("next_attempt_at", "pk")
        .values_list("pk", flat=True)[:limit]
    )


def deliver_due(*, now: dt.datetime | None = None) -> int:
    """Attempt every due delivery (the sweep that cron or the worker runs); the number attempted."""
    attempted = 0
    while True:
        at = now or timezone.now()
        batch = due(at)
        made = sum(1 for delivery_id in batch if deliver(delivery_id, now=at) is not None)
        attempted += made
        if len(batch) < 1000 or not made:
            return attempted


SCHEDULE_CHUNK = 200


def schedule(delivery_ids: Iterable[int], *, run_after: dt.datetime | None = None) -> None:
    """Queue the deliveries' sending as background tasks (after the caller's commit)."""
    from oneforone.webhooks.tasks import deliver_webhooks

    ids = list(delivery_ids)
    task = deliver_webhooks
    if run_after is not None:
        if not task.get_backend().supports_defer:
            return  # the periodic sweep (`oneforone deliver-webhooks`) sends it when due
        task = task.using(run_after=run_after)
    for start in range(0, len(ids), SCHEDULE_CHUNK):
        task.enqueue(ids[start : start + SCHEDULE_CHUNK])
