from __future__ import annotations

from django.conf import settings
from django.db import models


class Reception(models.Model):
    """The recycler's count and weighing of a consignment on arrival."""

    consignment = models.OneToOneField(
        "shipments.Consignment", on_delete=models.PROTECT, related_name="reception"
    )
    counted_phones = models.PositiveIntegerField()
    net_weight_kg = models.DecimalField(max_digits=12, decimal_places=3)
    received_at = models.DateTimeField()
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    flags = models.JSONField(
        default=list,
        blank=True,
        help_text="reconciliation findings, e.g. count or weight out of tolerance",
    )

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(counted_phones__gte=1), name="reception_count_positive"
            ),
            models.CheckConstraint(
                condition=models.Q(net_weight_kg__gt=0), name="reception_weight_positive"
            ),
        ]

    def __str__(self) -> str:
        return f"reception of {self.consignment}: {self.counted_phones} phones"

    @property
    def is_flagged(self) -> bool:
        return bool(self.flags)


class TreatmentCompletion(models.Model):
    """The recycler's statement that a received consignment has been treated."""

    consignment = models.OneToOneField(
        "shipments.Consignment", on_delete=models.PROTECT, related_name="treatment"
    )
    reception = models.OneToOneField(Reception, on_delete=models.PROTECT, related_name="treatment")
    operation = models.CharField(
        max_length=3, default="R4", help_text="Basel/EU recovery operation"
    )
    completed_on = models.DateField()
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(operation__regex=r"^R([1-9]|1[0-3])$"),
                name="treatment_operation_r_code",
            ),
        ]

    def __str__(self) -> str:
        return f"treatment of {self.consignment} ({self.operation}, {self.completed_on})"
