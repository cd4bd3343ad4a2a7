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
