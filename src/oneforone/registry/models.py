from __future__ import annotations

from django.conf import settings
from django.contrib.postgres.constraints import ExclusionConstraint
from django.contrib.postgres.fields import BigIntegerRangeField, RangeOperators
from django.db import models

from oneforone.registry import serials


def range_length(field: str) -> models.GeneratedField:
    """A stored column holding upper(range) - lower(range)."""
    return models.GeneratedField(
        expression=models.Func(
            models.F(field), function="upper", output_field=models.BigIntegerField()
        )
        - models.Func(models.F(field), function="lower", output_field=models.BigIntegerField()),
        output_field=models.BigIntegerField(),
        db_persist=True,
    )


class IssuanceBatch(models.Model):
    """Units issued for one treated consignment: one unit per counted phone, a serial range."""

    treatment = models.OneToOneField(
        "recycling.TreatmentCompletion", on_delete=models.PROTECT, related_name="batch"
    )
    consignment = models.OneToOneField(
        "shipments.Consignment", on_delete=models.PROTECT, related_name="batch"
    )
    origin_country = models.CharField(max_length=2)
    vintage_year = models.PositiveSmallIntegerField()
    units = BigIntegerRangeField(help_text="global unit numbers [first, last + 1)")
    quantity = range_length("units")
    net_weight_kg = models.DecimalField(
        max_digits=12, decimal_places=3, help_text="weighed at the recycler's reception"
    )
    collected_from = models.DateField()
    collected_until = models.DateField()
    issued_at = models.DateTimeField()
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["issued_at", "id"]
        constraints = [
            ExclusionConstraint(
                name="batch_units_disjoint", expressions=[("units", RangeOperators.OVERLAPS)]
            ),
        ]

    def __str__(self) -> str:
        return self.block

    @property
    def block(self) -> str:
        return serials.format_block(
            self.origin_country, self.vintage_year, self.units.lower, self.units.upper - 1
        )


class BatchIncome(models.Model):
    """Money paid into the collection network for the phones of a batch, per hub and currency."""

    batch = models.ForeignKey(IssuanceBatch, on_delete=models.PROTECT, related_name="incomes")
    country = models.CharField(max_length=2)
    area = models.CharField(max_length=5)
    year = models.PositiveSmallIntegerField()
    currency = models.CharField(max_length=3)
    amount = models.DecimalField(max_digits=18, decimal_places=4)
    phones = models.PositiveIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["batch", "country", "area", "year", "currency"], name="batch_income_once"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.amount} {self.currency} paid in {self.country} {self.year}"


class Allocation(models.Model):
    """A range of a batch's units given to one registration; ranges never overlap anywhere."""

    registration = models.ForeignKey(
        "partners.Registration", on_delete=models.PROTECT, related_name="allocations"
    )
    batch = models.ForeignKey(IssuanceBatch, on_delete=models.PROTECT, related_name="allocations")
    units = BigIntegerRangeField()
    quantity = range_length("units")
    allocated_at = models.DateTimeField()
    allocated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["registration", "units"]
        constraints = [
            ExclusionConstraint(
                name="allocation_units_never_twice",
                expressions=[("units", RangeOperators.OVERLAPS)],
            ),
        ]
        indexes = [models.Index(fields=["batch"], name="allocation_by_batch")]

    def __str__(self) -> str:
        return f"{self.block} -> registration {self.registration_id}"

    @property
    def block(self) -> str:
        return serials.format_block(
            self.batch.origin_country,
            self.batch.vintage_year,
            self.units.lower,
            self.units.upper - 1,
        )


class Certificate(models.Model):
    """An immutable snapshot of a fully compensated registration, public at /verify/<code>."""

    code = models.CharField(max_length=20, unique=True)
    registration = models.OneToOneField(
        "partners.Registration", on_delete=models.PROTECT, related_name="certificate"
    )
    issued_at = models.DateTimeField()
    snapshot = models.JSONField()
    snapshot_sha256 = models.CharField(max_length=64)

    class Meta:
        ordering = ["-issued_at"]

    def __str__(self) -> str:
        return self.code


class CertificateDocument(models.Model):
    """The certificate's PDF, rendered once from the snapshot, kept with its SHA-256."""

    certificate = models.OneToOneField(
        Certificate, on_delete=models.PROTECT, related_name="document"
    )
    pdf = models.BinaryField()
    sha256 = models.CharField(max_length=64)
    rendered_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"PDF of {self.certificate_id} ({self.sha256[:12]})"
