from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy

from oneforone.recycling.reconciliation import describe_flag
from oneforone.shipments.models import Stream


class FacilityDecision(models.TextChoices):
    """The facility's decision on a received shipment (block 19 of the movement document)."""

    ACCEPTED = "accepted", gettext_lazy("Accepted")
    PARTIALLY_REFUSED = "partially_refused", gettext_lazy("Partially refused")
    REFUSED = "refused", gettext_lazy("Refused")


class Reception(models.Model):
    """The recycler's count and weighing of a consignment on arrival: phones are counted and
    weighed; batteries are weighed and their packages counted (no phones, never units)."""

    consignment = models.OneToOneField(
        "shipments.Consignment", on_delete=models.PROTECT, related_name="reception"
    )
    stream = models.CharField(
        max_length=20,
        choices=Stream.choices,
        default=Stream.PHONES,
        help_text=gettext_lazy("the consignment's stream (a trigger keeps them equal)"),
    )
    counted_phones = models.PositiveIntegerField(
        null=True, blank=True, help_text=gettext_lazy("phones only; empty for batteries")
    )
    packages = models.PositiveIntegerField(
        null=True, blank=True, help_text=gettext_lazy("packages received; required for batteries")
    )
    net_weight_kg = models.DecimalField(max_digits=12, decimal_places=3)
    received_at = models.DateTimeField()
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    flags = models.JSONField(
        default=list,
        blank=True,
        help_text=gettext_lazy("reconciliation findings, e.g. count or weight out of tolerance"),
    )
    decision = models.CharField(
        max_length=20, choices=FacilityDecision.choices, default=FacilityDecision.ACCEPTED
    )
    refused_phones = models.PositiveIntegerField(default=0)
    refused_weight_kg = models.DecimalField(max_digits=12, decimal_places=3, default=0)
    refusal_reason = models.TextField(blank=True)

    class Meta:
        constraints = [
            # Phones are counted (at least one); batteries are received by weight and packages,
            # with no phone count and no refused phones.
            models.CheckConstraint(
                # Explicit NOT NULLs: a comparison with NULL is unknown, which a CHECK accepts.
                condition=models.Q(
                    stream=Stream.PHONES, counted_phones__isnull=False, counted_phones__gte=1
                )
                | models.Q(
                    stream=Stream.BATTERIES,
                    counted_phones__isnull=True,
                    refused_phones=0,
                    packages__isnull=False,
                    packages__gte=1,
                ),
                name="reception_counts_per_stream",
            ),
            models.CheckConstraint(
                condition=models.Q(net_weight_kg__gt=0), name="reception_weight_positive"
            ),
            models.CheckConstraint(
                condition=models.Q(
                    decision=FacilityDecision.ACCEPTED, refused_phones=0, refused_weight_kg=0
                )
                | (
                    models.Q(decision=FacilityDecision.PARTIALLY_REFUSED, refused_weight_kg__gt=0)
                    & ~models.Q(refusal_reason="")
                )
                | (models.Q(decision=FacilityDecision.REFUSED) & ~models.Q(refusal_reason="")),
                name="reception_refusal_explained",
            ),
        ]

    def __str__(self) -> str:
        if self.counted_phones is None:
            return f"reception of {self.consignment}: {self.net_weight_kg} kg"
        return f"reception of {self.consignment}: {self.counted_phones} phones"

    @property
    def is_flagged(self) -> bool:
        return bool(self.flags)

    @property
    def flag_texts(self) -> list[str]:
        """The reconciliation findings worded in the active language."""
        return [describe_flag(flag) for flag in self.flags]


class TreatmentCompletion(models.Model):
    """The recycler's statement that a received consignment has been treated."""

    consignment = models.OneToOneField(
        "shipments.Consignment", on_delete=models.PROTECT, related_name="treatment"
    )
    reception = models.OneToOneField(Reception, on_delete=models.PROTECT, related_name="treatment")
    operation = models.CharField(
        max_length=3, default="R4", help_text=gettext_lazy("Basel/EU recovery operation")
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


class AssayMetal(models.TextChoices):
    """The metals a lot assay may report; the methodology says which it uses."""

    AU = "Au", gettext_lazy("Gold")
    AG = "Ag", gettext_lazy("Silver")
    PD = "Pd", gettext_lazy("Palladium")
    CU = "Cu", gettext_lazy("Copper")
    CO = "Co", gettext_lazy("Cobalt")


class LotAssay(models.Model):
    """A laboratory's grade of one metal in a sample of a treated (or received) consignment.

    Append-only: a corrected result is a new assay. The impact methodology uses the
    sample-mass-weighted mean grade of a consignment's assays of a metal instead of a literature
    grade."""

    consignment = models.ForeignKey(
        "shipments.Consignment", on_delete=models.PROTECT, related_name="assays"
    )
    metal = models.CharField(max_length=2, choices=AssayMetal.choices)
    grade_g_per_t = models.DecimalField(
        max_digits=14,
        decimal_places=4,
        help_text=gettext_lazy("grams of the metal per tonne of material"),
    )
    sample_mass_kg = models.DecimalField(max_digits=12, decimal_places=3)
    laboratory = models.CharField(max_length=200)
    assayed_on = models.DateField()
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField()

    class Meta:
        ordering = ["consignment", "metal", "assayed_on", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(metal__in=AssayMetal.values), name="lot_assay_metal_known"
            ),
            models.CheckConstraint(
                condition=models.Q(grade_g_per_t__gte=0, grade_g_per_t__lte=1_000_000),
                name="lot_assay_grade_in_range",
            ),
            models.CheckConstraint(
                condition=models.Q(sample_mass_kg__gt=0), name="lot_assay_sample_positive"
            ),
            models.CheckConstraint(
                condition=~models.Q(laboratory=""), name="lot_assay_laboratory_named"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.metal} {self.grade_g_per_t} g/t in {self.consignment} ({self.laboratory})"
