from __future__ import annotations

from django.conf import settings
from django.db import models


class AuditEvent(models.Model):
    """One row per action, chained by SHA-256 to the previous row; the database refuses edits."""

    occurred_at = models.DateTimeField()
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    organisation = models.ForeignKey(
        "accounts.Organisation", null=True, on_delete=models.PROTECT, related_name="+"
    )
    code = models.CharField(
        max_length=100, help_text="namespaced, e.g. registry.allocation.created"
    )
    object_type = models.CharField(max_length=100)
    object_id = models.CharField(max_length=64)
    data = models.JSONField(default=dict)
    previous_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64, unique=True)

    class Meta:
        indexes = [models.Index(fields=["object_type", "object_id"])]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(code__regex=r"^[a-z_]+(\.[a-z_]+)+$"),
                name="audit_code_namespaced",
            )
        ]

    def __str__(self) -> str:
        return f"{self.occurred_at:%Y-%m-%d %H:%M} {self.code} {self.object_type}#{self.object_id}"


class RateLimitHit(models.Model):
    """Requests counted in one fixed window of one bucket; see oneforone.core.ratelimit."""

    bucket = models.TextField(help_text='scope and client, e.g. "verify-device:203.0.113.7"')
    window_start = models.DateTimeField()
    window_end = models.DateTimeField(help_text="when the row can be purged")
    hits = models.PositiveIntegerField(default=1)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["bucket", "window_start"], name="rate_limit_one_row_per_window"
            ),
        ]
        indexes = [models.Index(fields=["window_end"], name="rate_limit_by_end")]

    def __str__(self) -> str:
        return f"{self.bucket} {self.window_start:%Y-%m-%d %H:%M:%S}: {self.hits}"


class IdempotencyState(models.TextChoices):
    RUNNING = "running", "running"
    COMPLETE = "complete", "complete"


class IdempotencyRecord(models.Model):
    """One POST under an Idempotency-Key: claimed before it runs, then its stored response.

    See oneforone.core.idempotency."""

    scope = models.CharField(max_length=100, help_text='who sent it, e.g. "key:42" or "ip:…"')
    key = models.CharField(max_length=255, help_text="the client's Idempotency-Key")
    fingerprint = models.CharField(max_length=64, help_text="SHA-256 of method, path and body")
    method = models.CharField(max_length=10)
    path = models.TextField()
    state = models.CharField(max_length=10, choices=IdempotencyState.choices)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    headers = models.JSONField(default=dict)
    body = models.BinaryField(null=True, blank=True)
    created_at = models.DateTimeField()
    lease_until = models.DateTimeField(
        help_text="a running claim older than this was lost (a crashed worker): it may be retaken"
    )
    expires_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["scope", "key"], name="idempotency_key_once"),
            models.CheckConstraint(
                condition=models.Q(state="running", status_code__isnull=True)
                | models.Q(state="complete", status_code__isnull=False),
                name="idempotency_complete_has_response",
            ),
        ]
        indexes = [models.Index(fields=["expires_at"], name="idempotency_by_expiry")]

    def __str__(self) -> str:
        return f"{self.scope} {self.key} ({self.state})"
