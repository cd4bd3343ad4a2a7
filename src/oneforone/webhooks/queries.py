"""Reads for the webhook pages, scoped to one partner."""

from __future__ import annotations

import datetime as dt

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from oneforone.accounts.models import Organisation
from oneforone.webhooks.models import Attempt, Delivery, Endpoint

RECENT = dt.timedelta(days=7)


def endpoints_of(organisation: Organisation) -> QuerySet[Endpoint]:
    """The partner's endpoints with their attempts of the last RECENT days and how many succeeded."""
    since = timezone.now() - RECENT
    recent = Q(deliveries__attempt_log__requested_at__gte=since)
    return (
        Endpoint.objects.filter(organisation=organisation)
        .annotate(
            recent_attempts=Count("deliveries__attempt_log", filter=recent),
            recent_successes=Count(
                "deliveries__attempt_log",
                filter=recent & Q(deliveries__attempt_log__succeeded=True),
            ),
        )
        .order_by("created_at", "pk")
    )


def success_rate(endpoint: Endpoint) -> int | None:
    attempts: int = getattr(endpoint, "recent_attempts", 0)
    if not attempts:
        return None
    return round(100 * getattr(endpoint, "recent_successes", 0) / attempts)


def deliveries_of(endpoint: Endpoint) -> QuerySet[Delivery]:
    return (
        Delivery.objects.filter(endpoint=endpoint)
        .select_related("event")
        .order_by("-created_at", "-pk")
    )


def attempts_of(delivery: Delivery) -> QuerySet[Attempt]:
    return delivery.attempt_log.order_by("number")
