from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import F


class DeviceCategory(models.Model):
    """How many units one device of a category owes; versioned by valid_from, never edited."""

    code = models.SlugField(max_length=30)
    name = models.CharField(max_length=100)
    units_per_device = models.PositiveIntegerField()
    valid_from = models.DateField()
    source = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["code", "-valid_from"]
        constraints = [
            models.UniqueConstraint(fields=["code", "valid_from"], name="category_version_once"),
            models.CheckConstraint(
                condition=models.Q(units_per_device__gte=1), name="category_units_positive"
            ),
        ]

    def __str__(self) -> str:
        return (
            f"{self.name} ({self.units_per_device} unit{'s' if self.units_per_device > 1 else ''})"
        )


class Channel(models.TextChoices):
    API = "api", "API"
    CSV = "csv", "CSV upload"
    FORM = "form", "Form"
    DEMO = "demo", "Demo data"


class Registration(models.Model):
    """Devices a partner sold, bought or leased, owing units to be compensated."""

    partner = models.ForeignKey(
        "accounts.Organisation", on_delete=models.PROTECT, related_name="registrations"
    )
    reference = models.CharField(max_length=100, help_text="the partner's own reference")
    category = models.ForeignKey(DeviceCategory, on_delete=models.PROTECT, related_name="+")
    quantity = models.PositiveIntegerField()
    units_per_device = models.PositiveIntegerField(help_text="copied from the category version")
    units_owed = models.GeneratedField(
        expression=F("quantity") * F("units_per_device"),
        output_field=models.BigIntegerField(),
        db_persist=True,
    )
    channel = models.CharField(max_length=10, choices=Channel.choices)
    created_at = models.DateTimeField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["created_at", "id"], name="registration_fifo")]
        constraints = [
            models.UniqueConstraint(
                fields=["partner", "reference"], name="registration_reference_once"
            ),
            models.CheckConstraint(
                condition=models.Q(quantity__gte=1), name="registration_quantity_positive"
            ),
            models.CheckConstraint(
                condition=models.Q(units_per_device__gte=1), name="registration_units_positive"
            ),
            models.CheckConstraint(
                condition=~models.Q(reference=""), name="registration_reference_set"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.reference} ({self.quantity} × {self.category.code})"

    def current_certificate(self) -> Any:
        """The certificate in force (the latest version, unless withdrawn), or None.

        Prefetch `certificates__withdrawal` when listing registrations."""
        versions = sorted(self.certificates.all(), key=lambda c: c.version)
        if versions and not hasattr(versions[-1], "withdrawal"):
            return versions[-1]
        return None
