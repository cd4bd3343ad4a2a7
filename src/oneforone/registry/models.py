from __future__ import annotations

import re

from django.conf import settings
from django.contrib.postgres.constraints import ExclusionConstraint
from django.contrib.postgres.fields import ArrayField, BigIntegerRangeField, RangeOperators
from django.db import models
from django.utils.translation import gettext, gettext_noop
from django.utils.translation import gettext_lazy as _

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
        return self.block_of(self.units.lower, self.units.upper)

    def block_of(self, lower: int, upper: int) -> str:
        """The serial notation of units [lower, upper) of this batch."""
        return serials.format_block(self.origin_country, self.vintage_year, lower, upper - 1)


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


class ActiveAllocations(models.Manager["Allocation"]):
    def get_queryset(self) -> models.QuerySet[Allocation]:
        return super().get_queryset().filter(revoked_at__isnull=True)


class Allocation(models.Model):
    """A range of a batch's units given to one registration.

    Rows are never deleted and never changed, except that a revocation stamps `revoked_at` once
    (the database refuses any other change). Active ranges never overlap anywhere; a revoked range
    is history, and its units may be cancelled or go back to supply. `objects` sees active
    allocations only, `history` sees every row.
    """

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
    parent = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
        help_text="the revoked allocation this range was split from",
    )
    reservation = models.ForeignKey(
        "Reservation",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="allocations",
        help_text="the reserved block the units were drawn from",
    )
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = ActiveAllocations()
    history = models.Manager()  # noqa: DJ012 - the managers decide which rows are seen

    class Meta:
        base_manager_name = "history"
        ordering = ["registration", "units"]
        constraints = [
            ExclusionConstraint(
                name="allocation_units_never_twice",
                expressions=[("units", RangeOperators.OVERLAPS)],
                condition=models.Q(revoked_at__isnull=True),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.block} -> registration {self.registration_id}"

    @property
    def block(self) -> str:
        return self.batch.block_of(self.units.lower, self.units.upper)


class Certificate(models.Model):
    """An immutable snapshot of a fully compensated registration, public at /verify/<code>.

    A correction never edits a certificate: the old version gets a `CertificateWithdrawal` and the
    registration, once compensated again, a new version that `supersedes` it.
    """

    code = models.CharField(max_length=20, unique=True)
    registration = models.ForeignKey(
        "partners.Registration", on_delete=models.PROTECT, related_name="certificates"
    )
    version = models.PositiveIntegerField(default=1)
    supersedes = models.OneToOneField(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="superseded_by",
    )
    issued_at = models.DateTimeField()
    snapshot = models.JSONField()
    snapshot_sha256 = models.CharField(max_length=64)

    class Meta:
        ordering = ["-issued_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["registration", "version"], name="certificate_version_once"
            ),
            models.CheckConstraint(
                condition=models.Q(version=1, supersedes__isnull=True)
                | models.Q(version__gt=1, supersedes__isnull=False),
                name="certificate_version_chain",
            ),
        ]

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


class Reservation(models.Model):
    """Units of one batch set aside for a partner's quota (a tender, say) before allocation.

    Only allocations to that partner may draw on the block. Releasing stamps `released_at` once;
    the unallocated rest goes back to supply.
    """

    partner = models.ForeignKey(
        "accounts.Organisation", on_delete=models.PROTECT, related_name="reservations"
    )
    label = models.CharField(
        max_length=100, help_text="the quota it serves, e.g. a tender reference"
    )
    batch = models.ForeignKey(IssuanceBatch, on_delete=models.PROTECT, related_name="reservations")
    units = BigIntegerRangeField()
    quantity = range_length("units")
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    reserved_at = models.DateTimeField()
    reserved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    released_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["reserved_at", "units"]
        constraints = [
            ExclusionConstraint(
                name="reservation_units_never_twice",
                expressions=[("units", RangeOperators.OVERLAPS)],
                condition=models.Q(released_at__isnull=True),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.block} reserved for {self.label}"

    @property
    def block(self) -> str:
        return self.batch.block_of(self.units.lower, self.units.upper)


class CancellationReason(models.TextChoices):
    COUNT_CORRECTED = "count_corrected", _("The recycler corrected its count")
    FRAUD = "fraud", _("Fraud was found")
    OTHER = "other", _("Other")


class Cancellation(models.Model):
    """Units of a batch that no longer stand for a recycled phone; never allocated again."""

    batch = models.ForeignKey(IssuanceBatch, on_delete=models.PROTECT, related_name="cancellations")
    units = BigIntegerRangeField()
    quantity = range_length("units")
    reason = models.CharField(max_length=20, choices=CancellationReason.choices)
    explanation = models.TextField()
    cancelled_at = models.DateTimeField()
    cancelled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["cancelled_at", "units"]
        constraints = [
            ExclusionConstraint(
                name="cancellation_units_once", expressions=[("units", RangeOperators.OVERLAPS)]
            ),
            models.CheckConstraint(
                condition=~models.Q(explanation=""), name="cancellation_explained"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.block} cancelled ({self.reason})"

    @property
    def block(self) -> str:
        return self.batch.block_of(self.units.lower, self.units.upper)


class Revocation(models.Model):
    """Why an allocation was revoked: its units were cancelled, or its device claim withdrawn."""

    allocation = models.OneToOneField(
        Allocation, on_delete=models.PROTECT, related_name="revocation"
    )
    cancellation = models.ForeignKey(
        Cancellation, null=True, blank=True, on_delete=models.PROTECT, related_name="revocations"
    )
    reason = models.TextField()
    revoked_at = models.DateTimeField()
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    def __str__(self) -> str:
        return f"revocation of allocation {self.allocation_id}"


# The reasons the service writes when it withdraws a certificate, stored in English (they are also
# in the ledger's hashed data); `CertificateWithdrawal.reason_shown` words them for the reader,
# keeping the part a person typed (a reason, an explanation) as it was written.
WITHDRAWN_CLAIM_TRANSFERRED = gettext_noop(
    "a device claim was transferred to the registration; a new version covers it"
)
# Why units were revoked when the operator settled a double claim (`registry.receivers`).
CLAIM_WITHDRAWN_AFTER_REVIEW = gettext_noop(
    "a device claim was withdrawn after the operator reviewed a double claim"
)
WITHDRAWN_REGISTRATION_CHANGED = gettext_noop("the registration changed: %(reason)s")
WITHDRAWN_UNITS_CANCELLED = gettext_noop("units %(block)s were cancelled: %(explanation)s")
_WITHDRAWAL_REASONS = (
    (re.compile(r"the registration changed: (?P<reason>.*)", re.S), WITHDRAWN_REGISTRATION_CHANGED),
    (
        re.compile(r"units (?P<block>\S+) were cancelled: (?P<explanation>.*)", re.S),
        WITHDRAWN_UNITS_CANCELLED,
    ),
)


def service_reason(text: str) -> str:
    """A stored reason in the reader's language if the service wrote it, else as typed."""
    if text in (WITHDRAWN_CLAIM_TRANSFERRED, CLAIM_WITHDRAWN_AFTER_REVIEW):
        return gettext(text)
    return text


class CertificateWithdrawal(models.Model):
    """A certificate that no longer holds, and why; a later version supersedes it."""

    certificate = models.OneToOneField(
        Certificate, on_delete=models.PROTECT, related_name="withdrawal"
    )
    reason = models.TextField()
    withdrawn_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"withdrawal of {self.certificate_id}"

    @property
    def reason_shown(self) -> str:
        """The reason in the reader's language where the service wrote it; text a person typed
        into it stays as typed."""
        for pattern, sentence in _WITHDRAWAL_REASONS:
            if match := pattern.fullmatch(self.reason):
                parts = {key: service_reason(value) for key, value in match.groupdict().items()}
                return gettext(sentence) % parts
        return service_reason(self.reason)


class AllocationPreference(models.Model):
    """How a partner wants its registrations compensated; absent means oldest supply first."""

    partner = models.OneToOneField(
        "accounts.Organisation", on_delete=models.PROTECT, related_name="allocation_preference"
    )
    origin_countries = ArrayField(models.CharField(max_length=2), default=list, blank=True)
    vintage_years = ArrayField(models.PositiveSmallIntegerField(), default=list, blank=True)
    strict = models.BooleanField(
        default=False, help_text="wait for matching supply instead of falling back to any supply"
    )
    allow_partial = models.BooleanField(
        default=True, help_text="allocate part of a registration when supply does not cover it all"
    )
    updated_at = models.DateTimeField()
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    def __str__(self) -> str:
        return f"allocation preference of {self.partner_id}"

    def matches(self, country: str, vintage: int) -> bool:
        return (not self.origin_countries or country in self.origin_countries) and (
            not self.vintage_years or vintage in self.vintage_years
        )


class LedgerEntry(models.Model):
    """One posting on one account of the unit ledger; append-only and hash-chained per account.

    Every movement of units posts two entries that sum to zero (from one account to another);
    certificate events post a zero entry on the registration's account. Accounts: `supply`,
    `batch:<id>` (available units), `reservation:<id>`, `registration:<id>` (allocated units),
    `cancelled:<batch id>`.
    """

    account = models.CharField(max_length=40)
    sequence = models.PositiveBigIntegerField()
    kind = models.CharField(max_length=30)
    delta = models.BigIntegerField()
    batch = models.ForeignKey(
        IssuanceBatch, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    units = BigIntegerRangeField(null=True, blank=True)
    reference = models.CharField(max_length=60, blank=True)
    data = models.JSONField(default=dict)
    recorded_at = models.DateTimeField()
    prev_hash = models.CharField(max_length=64)
    entry_hash = models.CharField(max_length=64, unique=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["account", "sequence"], name="ledger_sequence_once"),
            models.CheckConstraint(
                condition=models.Q(sequence__gte=1), name="ledger_sequence_from_1"
            ),
        ]
        indexes = [
            models.Index(fields=["recorded_at", "id"], name="ledger_by_time"),
            models.Index(fields=["reference"], name="ledger_by_reference"),
        ]

    def __str__(self) -> str:
        return f"{self.account}#{self.sequence} {self.kind} {self.delta:+d}"


class LedgerRoot(models.Model):
    """The Merkle root of one UTC day's ledger entries, published once the day is over."""

    day = models.DateField(unique=True)
    entries = models.PositiveIntegerField()
    first_entry = models.BigIntegerField()
    last_entry = models.BigIntegerField()
    root = models.CharField(max_length=64)
    published_at = models.DateTimeField()

    class Meta:
        ordering = ["-day"]

    def __str__(self) -> str:
        return f"ledger root {self.day}: {self.root[:16]}"
