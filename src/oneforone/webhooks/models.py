"""Partners' webhook endpoints, the events they subscribe to (an outbox) and the delivery log."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class EventType(models.TextChoices):
    REGISTRATION_ACCEPTED = "registration.accepted", _("Registration accepted")
    ALLOCATION_MADE = "allocation.made", _("Units allocated")
    CERTIFICATE_ISSUED = "certificate.issued", _("Certificate issued")
    CERTIFICATE_SUPERSEDED = "certificate.superseded", _("Certificate superseded by a new version")
    CONFLICT_RAISED = "conflict.raised", _("Device held: claimed before")
    PING = "ping", _("Test event")


SUBSCRIBABLE = [t for t in EventType if t != EventType.PING]


class Endpoint(models.Model):
    """A partner's URL that receives the events it subscribed to, signed with its secret."""

    organisation = models.ForeignKey(
        "accounts.Organisation", on_delete=models.CASCADE, related_name="webhook_endpoints"
    )
    url = models.URLField(max_length=500)
    description = models.CharField(max_length=200, blank=True)
    events = ArrayField(models.CharField(max_length=40), default=list)
    # Fernet token of the signing secret (see webhooks.crypto): the secret must be readable to sign.
    secret_encrypted = models.TextField()
    secret_hint = models.CharField(
        max_length=12
    )  # the secret's last characters, to tell them apart
    # After a rotation deliveries are signed with both secrets for a while (two v1 values), so the
    # receiver can switch over without rejecting anything.
    previous_secret_encrypted = models.TextField(blank=True)
    previous_secret_expires_at = models.DateTimeField(null=True, blank=True)
    enabled = models.BooleanField(default=True)
    disabled_at = models.DateTimeField(null=True, blank=True)
    disabled_reason = models.CharField(max_length=300, blank=True)
    consecutive_failures = models.PositiveIntegerField(default=0)
    failing_since = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [
            models.Index(
                fields=["organisation"], condition=Q(enabled=True), name="webhook_endpoint_enabled"
            )
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(enabled=True, disabled_at__isnull=True)
                | Q(enabled=False, disabled_at__isnull=False),
                name="webhook_endpoint_disabled_at",
            ),
            models.CheckConstraint(
                condition=Q(url__startswith="https://") | Q(url__startswith="http://"),
                name="webhook_endpoint_http_url",
            ),
        ]

    def __str__(self) -> str:
        return self.url


class Event(models.Model):
    """Something that happened to a partner, written in the same transaction as the change
    itself (an outbox): once that change commits, the event cannot be lost."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    organisation = models.ForeignKey(
        "accounts.Organisation", on_delete=models.CASCADE, related_name="webhook_events"
    )
    type = models.CharField(max_length=40, choices=EventType.choices)
    data = models.JSONField(encoder=DjangoJSONEncoder)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.type} {self.uuid}"


class DeliveryState(models.TextChoices):
    PENDING = "pending", _("Pending")
    SUCCEEDED = "succeeded", _("Delivered")
    FAILED = "failed", _("Failed: no more attempts")


class Delivery(models.Model):
    """One event sent to one endpoint, attempted until it succeeds or its attempts run out.

    Automatic deliveries retry with backoff; manual ones (a test event, a redelivery from the log)
    are attempted once and do not count towards disabling the endpoint."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="deliveries")
    endpoint = models.ForeignKey(Endpoint, on_delete=models.CASCADE, related_name="deliveries")
    manual = models.BooleanField(default=False)
    redelivery_of = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="redeliveries"
    )
    state = models.CharField(
        max_length=10, choices=DeliveryState.choices, default=DeliveryState.PENDING
    )
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    # A sender holds the delivery until then, so that two workers never send it at once.
    leased_until = models.DateTimeField(null=True, blank=True)
    last_status = models.PositiveIntegerField(null=True, blank=True)
    created_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                condition=Q(state="pending"),
                name="webhook_delivery_due",
            ),
            models.Index(fields=["endpoint", "-created_at"], name="webhook_delivery_log"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(state="pending", next_attempt_at__isnull=False)
                | (
                    ~Q(state="pending") & Q(next_attempt_at__isnull=True, finished_at__isnull=False)
                ),
                name="webhook_delivery_schedule",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.event.type} → {self.endpoint.url} ({self.state})"


class Attempt(models.Model):
    """One HTTP request of a delivery, as sent and as answered."""

    delivery = models.ForeignKey(Delivery, on_delete=models.CASCADE, related_name="attempt_log")
    number = models.PositiveIntegerField()
    requested_at = models.DateTimeField()
    request_headers = models.JSONField()
    response_status = models.PositiveIntegerField(null=True, blank=True)
    response_excerpt = models.TextField(blank=True)
    error = models.CharField(max_length=500, blank=True)
    duration_ms = models.PositiveIntegerField()
    succeeded = models.BooleanField()

    class Meta:
        ordering = ["delivery", "number"]
        constraints = [
            models.UniqueConstraint(fields=["delivery", "number"], name="webhook_attempt_once"),
        ]

    def __str__(self) -> str:
        return f"attempt {self.number} of delivery {self.delivery_id}"
