"""Every change to webhooks: endpoints, secrets, test events, redeliveries, and `emit`, which the
business actions call inside their own transaction."""

from __future__ import annotations

import datetime as dt
import functools
import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from django.conf import settings
from django.core.mail import send_mail
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext

from oneforone.accounts.models import Membership, Organisation, OrganisationKind, Role, User
from oneforone.accounts.permissions import require_admin, require_member
from oneforone.accounts.queries import system_user
from oneforone.core import audit
from oneforone.webhooks import crypto, delivery
from oneforone.webhooks.models import (
    SUBSCRIBABLE,
    Delivery,
    DeliveryState,
    Endpoint,
    Event,
    EventType,
)

SECRET_OVERLAP = dt.timedelta(hours=24)
MAX_ENDPOINTS = 10


class EndpointRefused(Exception):
    """The endpoint cannot be saved or used this way; the message says what to change."""


# Events ------------------------------------------------------------------------------------------


def emit(*, organisation: Organisation | int, event_type: str, data: Mapping[str, Any]) -> int:
    """Record one event for a partner's subscribed endpoints; see `emit_many`."""
    organisation_id = organisation if isinstance(organisation, int) else organisation.pk
    return emit_many(event_type=event_type, events=[(organisation_id, data)])


def listening(event_type: str, organisation_ids: Iterable[int]) -> dict[int, list[int]]:
    """The enabled endpoints subscribed to `event_type`, by organisation id (one query).

    Callers with many events ask this first and build no payloads when nobody listens."""
    listeners: dict[int, list[int]] = {}
    for endpoint_id, organisation_id in Endpoint.objects.filter(
        organisation_id__in=set(organisation_ids), enabled=True, events__contains=[event_type]
    ).values_list("pk", "organisation_id"):
        listeners.setdefault(organisation_id, []).append(endpoint_id)
    return listeners


def emit_many(
    *,
    event_type: str,
    events: Sequence[tuple[int, Mapping[str, Any]]],
    listeners: dict[int, list[int]] | None = None,
) -> int:
    """Record events (organisation id, data) in the caller's transaction and queue their delivery
    for after its commit; returns the number of deliveries queued.

    An outbox: the event and its pending deliveries commit or roll back with the change they
    report, and a delivery lost between commit and sending is picked up by the sweep. One query
    when no endpoint listens (none with `listeners` from `listening`); otherwise one statement
    inserts the events and their deliveries, whatever their number.
    """
    if event_type not in EventType.values:
        raise ValueError(f"unknown webhook event type {event_type!r}")
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("emit must run inside the transaction of the change it reports")
    if not events:
        return 0
    if listeners is None:
        listeners = listening(event_type, {organisation_id for organisation_id, _ in events})
    if not listeners:
        return 0
    chosen = [(org, data) for org, data in events if org in listeners]
    if not chosen:
        return 0
    with connection.cursor() as cursor:
        cursor.execute(
            _INSERT_EVENTS_AND_DELIVERIES,
            {
                "type": event_type,
                "now": timezone.now(),
                "organisations": [org for org, _ in chosen],
                "data": [json.dumps(data, cls=DjangoJSONEncoder) for _, data in chosen],
            },
        )
        ids = [row[0] for row in cursor.fetchall()]
    transaction.on_commit(lambda: delivery.schedule(ids))
    return len(ids)


# Events and their deliveries in one statement, the listeners read again inside it. Event ids
# follow the order given; uuids come from PostgreSQL.
_INSERT_EVENTS_AND_DELIVERIES = f"""
    WITH new_events AS (
        INSERT INTO {Event._meta.db_table} (uuid, organisation_id, type, data, created_at)
        SELECT gen_random_uuid(), e.organisation_id, %(type)s, e.data::jsonb, %(now)s
        FROM unnest(%(organisations)s::bigint[], %(data)s::text[]) WITH ORDINALITY
             AS e(organisation_id, data, position)
        ORDER BY e.position
        RETURNING id, organisation_id
    )
    INSERT INTO {Delivery._meta.db_table}
        (uuid, event_id, endpoint_id, manual, state, attempts, created_at, next_attempt_at)
    SELECT gen_random_uuid(), n.id, ep.id, false, '{DeliveryState.PENDING}', 0, %(now)s, %(now)s
    FROM new_events n
    JOIN {Endpoint._meta.db_table} ep ON ep.organisation_id = n.organisation_id
     AND ep.enabled AND ep.events @> ARRAY[%(type)s]::varchar[]
    ORDER BY n.id, ep.id
    RETURNING id
"""


# Endpoints ---------------------------------------------------------------------------------------


def _checked_events(events: Iterable[str]) -> list[str]:
    chosen = sorted(set(events))
    unknown = [e for e in chosen if e not in SUBSCRIBABLE]
    if unknown:
        raise EndpointRefused(
            gettext("unknown event '%(event)s'; choose from %(events)s")
            % {"event": unknown[0], "events": ", ".join(SUBSCRIBABLE)}
        )
    if not chosen:
        raise EndpointRefused(gettext("choose at least one event to receive"))
    return chosen


def _checked_url(url: str) -> str:
    url = url.strip()
    try:
        delivery.check_destination(url, resolve=False)
    except delivery.UnsafeUrl as exc:
        raise EndpointRefused(str(exc)) from exc
    if len(url) > 500:
        raise EndpointRefused(gettext("the URL is longer than 500 characters"))
    return url


@transaction.atomic
def create_endpoint(
    *,
    actor: User,
    organisation: Organisation,
    url: str,
    events: Iterable[str],
    description: str = "",
) -> tuple[Endpoint, str]:
    """A new endpoint and its signing secret, which is returned here and never shown again."""
    require_admin(actor, organisation)
    if organisation.kind != OrganisationKind.PARTNER:
        raise EndpointRefused(gettext("%(name)s is not a partner") % {"name": organisation})
    if Endpoint.objects.filter(organisation=organisation).count() >= MAX_ENDPOINTS:
        raise EndpointRefused(
            gettext("%(name)s has %(count)s endpoints already; delete one you no longer use")
            % {"name": organisation, "count": MAX_ENDPOINTS}
        )
    secret = crypto.new_secret()
    endpoint = Endpoint.objects.create(
        organisation=organisation,
        url=_checked_url(url),
        description=description.strip()[:200],
        events=_checked_events(events),
        secret_encrypted=crypto.encrypt(secret),
        secret_hint=secret[-4:],
        created_by=actor,
        created_at=timezone.now(),
    )
    audit.record(
        actor=actor,
        code="webhooks.endpoint.created",
        obj=endpoint,
        organisation=organisation,
        data={"url": endpoint.url, "events": endpoint.events},
    )
    return endpoint, secret


@transaction.atomic
def update_endpoint(
    *, actor: User, endpoint: Endpoint, url: str, events: Iterable[str], description: str
) -> Endpoint:
    require_admin(actor, endpoint.organisation)
    endpoint = Endpoint.objects.select_for_update(no_key=True).get(pk=endpoint.pk)
    before = {"url": endpoint.url, "events": endpoint.events}
    endpoint.url = _checked_url(url)
    endpoint.events = _checked_events(events)
    endpoint.description = description.strip()[:200]
    endpoint.save(update_fields=["url", "events", "description"])
    audit.record(
        actor=actor,
        code="webhooks.endpoint.updated",
        obj=endpoint,
        organisation=endpoint.organisation,
        data={"before": before, "after": {"url": endpoint.url, "events": endpoint.events}},
    )
    return endpoint


@transaction.atomic
def rotate_secret(*, actor: User, endpoint: Endpoint) -> tuple[Endpoint, str]:
    """A new signing secret, returned once; for SECRET_OVERLAP deliveries carry a signature
    with the old secret too, so the receiver can switch without rejecting any."""
    require_admin(actor, endpoint.organisation)
    endpoint = Endpoint.objects.select_for_update(no_key=True).get(pk=endpoint.pk)
    secret = crypto.new_secret()
    endpoint.previous_secret_encrypted = endpoint.secret_encrypted
    endpoint.previous_secret_expires_at = timezone.now() + SECRET_OVERLAP
    endpoint.secret_encrypted = crypto.encrypt(secret)
    endpoint.secret_hint = secret[-4:]
    endpoint.save(
        update_fields=[
            "previous_secret_encrypted",
            "previous_secret_expires_at",
            "secret_encrypted",
            "secret_hint",
        ]
    )
    audit.record(
        actor=actor,
        code="webhooks.endpoint.secret_rotated",
        obj=endpoint,
        organisation=endpoint.organisation,
        data={"old_secret_valid_until": endpoint.previous_secret_expires_at},
    )
    return endpoint, secret


@transaction.atomic
def disable_endpoint(*, actor: User, endpoint: Endpoint, reason: str = "") -> Endpoint:
    """No new events are sent; pending deliveries wait and resume when it is enabled again."""
    require_admin(actor, endpoint.organisation)
    return _disable(actor, endpoint, reason.strip() or f"disabled by {actor.username}")


def _disable(actor: User, endpoint: Endpoint, reason: str) -> Endpoint:
    endpoint = Endpoint.objects.select_for_update(no_key=True).get(pk=endpoint.pk)
    if not endpoint.enabled:
        raise EndpointRefused(gettext("the endpoint is disabled already"))
    endpoint.enabled = False
    endpoint.disabled_at = timezone.now()
    endpoint.disabled_reason = reason[:300]
    endpoint.save(update_fields=["enabled", "disabled_at", "disabled_reason"])
    audit.record(
        actor=actor,
        code="webhooks.endpoint.disabled",
        obj=endpoint,
        organisation=endpoint.organisation,
        data={"reason": endpoint.disabled_reason},
    )
    return endpoint


@transaction.atomic
def enable_endpoint(*, actor: User, endpoint: Endpoint) -> Endpoint:
    """Events are sent again; deliveries left pending are attempted at once."""
    require_admin(actor, endpoint.organisation)
    endpoint = Endpoint.objects.select_for_update(no_key=True).get(pk=endpoint.pk)
    if endpoint.enabled:
        raise EndpointRefused(gettext("the endpoint is enabled already"))
    now = timezone.now()
    endpoint.enabled = True
    endpoint.disabled_at = None
    endpoint.disabled_reason = ""
    endpoint.consecutive_failures = 0
    endpoint.failing_since = None
    endpoint.save(
        update_fields=[
            "enabled",
            "disabled_at",
            "disabled_reason",
            "consecutive_failures",
            "failing_since",
        ]
    )
    resumed = list(
        Delivery.objects.filter(endpoint=endpoint, state=DeliveryState.PENDING).values_list(
            "pk", flat=True
        )
    )
    Delivery.objects.filter(pk__in=resumed).update(next_attempt_at=now)
    audit.record(
        actor=actor,
        code="webhooks.endpoint.enabled",
        obj=endpoint,
        organisation=endpoint.organisation,
        data={"deliveries_resumed": len(resumed)},
    )
    transaction.on_commit(lambda: delivery.schedule(resumed))
    return endpoint


@transaction.atomic
def delete_endpoint(*, actor: User, endpoint: Endpoint) -> None:
    """The endpoint goes, with its delivery log."""
    require_admin(actor, endpoint.organisation)
    audit.record(
        actor=actor,
        code="webhooks.endpoint.deleted",
        obj=endpoint,
        organisation=endpoint.organisation,
        data={"url": endpoint.url, "events": endpoint.events},
    )
    endpoint.delete()


# Manual deliveries -------------------------------------------------------------------------------


@transaction.atomic
def send_test_event(*, actor: User, endpoint: Endpoint) -> Delivery:
    """A `ping` event to this endpoint only, attempted once (also when it is disabled, to check a
    fixed receiver before enabling it)."""
    require_member(actor, endpoint.organisation)
    now = timezone.now()
    event = Event.objects.create(
        organisation=endpoint.organisation,
        type=EventType.PING,
        data={
            "message": "A test event sent from the oneforone partner portal.",
            "endpoint": endpoint.url,
            "sent_by": actor.username,
        },
        created_at=now,
    )
    test = Delivery.objects.create(
        event=event, endpoint=endpoint, manual=True, created_at=now, next_attempt_at=now
    )
    audit.record(
        actor=actor,
        code="webhooks.test_event.sent",
        obj=endpoint,
        organisation=endpoint.organisation,
        data={"delivery": str(test.uuid)},
    )
    transaction.on_commit(lambda: delivery.schedule([test.pk]))
    return test


@transaction.atomic
def redeliver(*, actor: User, original: Delivery) -> Delivery:
    """Send a logged delivery's event to its endpoint again, once, as a new delivery."""
    endpoint = original.endpoint
    require_member(actor, endpoint.organisation)
    now = timezone.now()
    again = Delivery.objects.create(
        event=original.event,
        endpoint=endpoint,
        manual=True,
        redelivery_of=original,
        created_at=now,
        next_attempt_at=now,
    )
    audit.record(
        actor=actor,
        code="webhooks.delivery.redelivered",
        obj=again,
        organisation=endpoint.organisation,
        data={"original": str(original.uuid), "event": str(original.event.uuid)},
    )
    transaction.on_commit(lambda: delivery.schedule([again.pk]))
    return again


# Failing endpoints -------------------------------------------------------------------------------


@transaction.atomic
def disable_failing_endpoint(*, endpoint: Endpoint, last_error: str, now: dt.datetime) -> Endpoint:
    """The sender gives up on an endpoint that keeps failing, and tells the partner's admins."""
    failures = endpoint.consecutive_failures
    since = endpoint.failing_since or now
    endpoint = _disable(
        system_user(),
        endpoint,
        f"disabled automatically after {failures} failed attempts since "
        f"{since:%Y-%m-%d %H:%M} UTC; last: {last_error}",
    )
    page = settings.PUBLIC_BASE_URL.rstrip("/") + reverse("partner-webhook", args=[endpoint.pk])
    figures = {
        "url": endpoint.url,
        "organisation": endpoint.organisation.name,
        "failures": failures,
        "since": f"{since:%Y-%m-%d %H:%M}",
        "error": last_error,
        "page": page,
    }
    # One e-mail per language, each in the language its readers chose.
    for language, recipients in _admin_addresses(endpoint.organisation).items():
        subject, message = _disabled_mail(language, figures)
        transaction.on_commit(
            functools.partial(send_mail, subject, message, settings.DEFAULT_FROM_EMAIL, recipients)
        )
    return endpoint


def _disabled_mail(language: str, figures: dict[str, object]) -> tuple[str, str]:
    with translation.override(language):
        subject = gettext("oneforone: webhook endpoint disabled (%(url)s)") % figures
        message = (
            gettext(
                "Your webhook endpoint %(url)s for %(organisation)s has been disabled: "
                "%(failures)s delivery attempts in a row failed since %(since)s UTC.\n\n"
                "Last failure: %(error)s\n\n"
                "No events are sent to it now. Deliveries that were still pending are kept and "
                "resume when you enable the endpoint again; events that happen while it is "
                "disabled are not sent. Fix the receiver, use 'Send test event' to check it, then "
                "enable it:\n%(page)s\n"
            )
            % figures
        )
    return subject, message


def _admin_addresses(organisation: Organisation) -> dict[str, list[str]]:
    """The addresses to tell, by the language of their e-mails."""
    members = Membership.objects.filter(organisation=organisation).exclude(user__email="")
    admins = members.filter(role=Role.ADMIN)
    chosen = admins if admins.exists() else members.exclude(role=Role.VIEWER)
    by_language: dict[str, set[str]] = {}
    for membership in chosen.select_related("user"):
        user = membership.user
        by_language.setdefault(user.email_language, set()).add(user.email)
    return {language: sorted(addresses) for language, addresses in sorted(by_language.items())}
