from __future__ import annotations

from django.conf import settings
from django.db import models


class BadgeSetting(models.Model):
    """Whether a partner publishes its count of devices compensated as a public badge; no row
    means not published (the default)."""

    partner = models.OneToOneField(
        "accounts.Organisation", on_delete=models.CASCADE, related_name="badge_setting"
    )
    published = models.BooleanField(default=False)
    updated_at = models.DateTimeField()
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    def __str__(self) -> str:
        return f"badge of {self.partner_id}: {'published' if self.published else 'hidden'}"
