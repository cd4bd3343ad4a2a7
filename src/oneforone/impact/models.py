"""A versioned methodology (factors and rules with their sources) and the impact figures computed
under it for each issuance batch, stored append-only."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class VersionStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    PUBLISHED = "published", _("Published")


class Confidence(models.TextChoices):
    """How much a factor can be trusted, best first."""

    MEASURED = "measured", _("Measured (weighed or assayed)")
    VERIFIED = "verified", _("Verified (read in the source named)")
    ESTIMATE = "estimate", _("Estimate (derived or inferred; to be confirmed)")
    LOW = "low", _("Low (a rough default, used only when nothing better is recorded)")


class MethodologyVersion(models.Model):
    """A set of factors and rules. Once published it is frozen: the database refuses any change
    to it, its factors or its rules; a change is a new version."""

    number = models.PositiveIntegerField(unique=True)
    label = models.CharField(max_length=20, unique=True, help_text='e.g. "2026.1"')
    title = models.CharField(max_length=200)
    change_notes = models.TextField(blank=True)
    status = models.CharField(
        max_length=10, choices=VersionStatus.choices, default=VersionStatus.DRAFT
    )
    created_at = models.DateTimeField()
    published_at = models.DateTimeField(null=True, blank=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
        help_text="empty for a version published by a data migration",
    )

    class Meta:
        ordering = ["number"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status=VersionStatus.DRAFT, published_at__isnull=True)
                | models.Q(status=VersionStatus.PUBLISHED, published_at__isnull=False),
                name="methodology_published_has_date",
            ),
            models.CheckConstraint(
                condition=models.Q(number__gte=1), name="methodology_number_positive"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.label} (version {self.number})"

    @property
    def is_published(self) -> bool:
        return self.status == VersionStatus.PUBLISHED


class Factor(models.Model):
    """One number of a methodology version, with its unit, source, year and confidence.

    `qualifier` narrows it: a metal (``Au``), a route (``GH-S``: the sea leg from Ghana)."""

    version = models.ForeignKey(
        MethodologyVersion, on_delete=models.PROTECT, related_name="factors"
    )
    key = models.SlugField(max_length=60)
    qualifier = models.CharField(max_length=20, blank=True)
    name = models.CharField(max_length=200)
    value = models.DecimalField(max_digits=24, decimal_places=8)
    unit = models.CharField(max_length=40)
    source = models.CharField(max_length=300)
    source_year = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="empty where the source gives no year"
    )
    confidence = models.CharField(max_length=10, choices=Confidence.choices)
    note = models.TextField(blank=True)

    class Meta:
        ordering = ["version", "key", "qualifier"]
        constraints = [
            models.UniqueConstraint(
                fields=["version", "key", "qualifier"], name="factor_once_per_version"
            ),
            models.CheckConstraint(
                condition=models.Q(value__gte=0), name="factor_value_not_negative"
            ),
            models.CheckConstraint(condition=~models.Q(source=""), name="factor_has_source"),
        ]

    def __str__(self) -> str:
        qualifier = f"[{self.qualifier}]" if self.qualifier else ""
        return f"{self.key}{qualifier} = {self.value} {self.unit}"

    @property
    def display_value(self) -> str:
        """The value without trailing zeros, never in exponent form (40, not 4E+1)."""
        return format(self.value.normalize(), "f")


class Rule(models.Model):
    """A method rule of a version: a statement for people and parameters the computation reads
    (which value beats which, the recovery chain's stages, what is not recovered)."""

    version = models.ForeignKey(MethodologyVersion, on_delete=models.PROTECT, related_name="rules")
    key = models.SlugField(max_length=60)
    position = models.PositiveSmallIntegerField()
    statement = models.TextField()
    parameters = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["version", "position"]
        constraints = [
            models.UniqueConstraint(fields=["version", "key"], name="rule_once_per_version"),
        ]

    def __str__(self) -> str:
        return f"{self.version.label}: {self.key}"


class Computation(models.Model):
    """One computation of a batch's figures under a published version. Append-only: a later
    computation (after a new assay, say) is a new row, and the latest one is the batch's figures
    under that version."""

    batch = models.ForeignKey(
        "registry.IssuanceBatch", on_delete=models.PROTECT, related_name="impact_computations"
    )
    version = models.ForeignKey(
        MethodologyVersion, on_delete=models.PROTECT, related_name="computations"
    )
    reason = models.CharField(max_length=20)
    computed_at = models.DateTimeField()
    computed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["batch", "version", "id"]
        indexes = [models.Index(fields=["version", "batch", "-id"], name="computation_latest")]

    def __str__(self) -> str:
        return f"batch {self.batch_id} under version {self.version_id} ({self.reason})"


class Figure(models.Model):
    """One figure of a batch under a version: a value (empty where it cannot be computed, e.g.
    no living-wage benchmark), its unit, and the records and factors it was computed from."""

    computation = models.ForeignKey(Computation, on_delete=models.PROTECT, related_name="figures")
    key = models.CharField(max_length=60)
    value = models.DecimalField(max_digits=28, decimal_places=10, null=True, blank=True)
    unit = models.CharField(max_length=40)
    note = models.CharField(max_length=300, blank=True)
    inputs = models.JSONField(default=dict)

    class Meta:
        ordering = ["computation", "key"]
        constraints = [
            models.UniqueConstraint(fields=["computation", "key"], name="figure_once"),
        ]

    def __str__(self) -> str:
        return f"{self.key} = {self.value} {self.unit}"
