from __future__ import annotations

from django.conf import settings
from django.db import models


class ConsignmentState(models.TextChoices):
    DRAFT = "draft", "Being packed at the hub"
    DISPATCHED = "dispatched", "Dispatched by the hub"
    IN_TRANSIT = "in_transit", "In the carrier's custody"
    RECEIVED = "received", "Received and counted by the recycler"
    TREATED = "treated", "Treatment completed"


# The only moves the database accepts (see the trigger in migration 0002).
TRANSITIONS: dict[str, str] = {
    ConsignmentState.DRAFT: ConsignmentState.DISPATCHED,
    ConsignmentState.DISPATCHED: ConsignmentState.IN_TRANSIT,
    ConsignmentState.IN_TRANSIT: ConsignmentState.RECEIVED,
    ConsignmentState.RECEIVED: ConsignmentState.TREATED,
}


class Consignment(models.Model):
    """Sealed lots travelling from a hub to a recycler through signed custody steps."""

    reference = models.CharField(max_length=40, unique=True)
    origin_hub = models.ForeignKey(
        "collection.Hub", on_delete=models.PROTECT, related_name="consignments"
    )
    carrier = models.ForeignKey("accounts.Organisation", on_delete=models.PROTECT, related_name="+")
    recycler = models.ForeignKey(
        "accounts.Organisation", on_delete=models.PROTECT, related_name="+"
    )
    state = models.CharField(
        max_length=12, choices=ConsignmentState.choices, default=ConsignmentState.DRAFT
    )
    phones_dispatched = models.PositiveIntegerField(null=True, blank=True)
    net_weight_kg_dispatched = models.DecimalField(
        max_digits=12, decimal_places=3, null=True, blank=True
    )
    container_number = models.CharField(max_length=20, blank=True)
    created_at = models.DateTimeField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(state__in=ConsignmentState.values),
                name="consignment_state_known",
            ),
            models.CheckConstraint(
                condition=models.Q(state=ConsignmentState.DRAFT)
                | models.Q(phones_dispatched__gte=1, net_weight_kg_dispatched__gt=0),
                name="consignment_dispatched_has_figures",
            ),
        ]

    def __str__(self) -> str:
        return self.reference


class CustodyStep(models.TextChoices):
    DISPATCH = "dispatch", "Hub dispatch"
    PICKUP = "pickup", "Carrier pick-up"
    RECEPTION = "reception", "Recycler reception"
    TREATMENT = "treatment", "Treatment completion"


class CustodySignature(models.Model):
    """A party's signature over the consignment's fields at one step; append-only, hash-chained."""

    consignment = models.ForeignKey(
        Consignment, on_delete=models.PROTECT, related_name="signatures"
    )
    step = models.CharField(max_length=10, choices=CustodyStep.choices)
    organisation = models.ForeignKey(
        "accounts.Organisation", on_delete=models.PROTECT, related_name="+"
    )
    signed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    signed_at = models.DateTimeField()
    sealed_fields = models.JSONField()
    previous_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64)

    class Meta:
        ordering = ["signed_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["consignment", "step"], name="custody_step_once"),
        ]

    def __str__(self) -> str:
        return f"{self.consignment} {self.step} by {self.organisation}"
