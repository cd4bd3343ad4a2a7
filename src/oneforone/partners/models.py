from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Now
from django.utils.translation import gettext, gettext_noop
from django.utils.translation import gettext_lazy as _

from oneforone.partners.identifiers import DeviceKind


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


class ActivationMode(models.TextChoices):
    """How a partner activates compensation: what the devices of a programme are.

    Consumer products: devices sold to consumers. B2B service: devices sold or leased to business
    customers. Public tender: devices bought under a public contract (with its authority,
    reference and quota). Internal initiative: the partner's own fleet."""

    CONSUMER_PRODUCTS = "consumer_products", _("Consumer products")
    B2B_SERVICE = "b2b_service", _("B2B service")
    PUBLIC_TENDER = "public_tender", _("Public tender")
    INTERNAL = "internal", _("Internal initiative")


class Programme(models.Model):
    """A partner's programme: what it compensates, at what price, for how long, and the claim it
    may make. Registrations belong to a programme."""

    partner = models.ForeignKey(
        "accounts.Organisation", on_delete=models.PROTECT, related_name="programmes"
    )
    code = models.SlugField(max_length=40, help_text="short name used in CSV files and the API")
    name = models.CharField(max_length=150)
    activation_mode = models.CharField(max_length=20, choices=ActivationMode.choices)
    price_per_unit = models.DecimalField(max_digits=12, decimal_places=4)
    currency = models.CharField(max_length=3, help_text="ISO 4217")
    starts_on = models.DateField()
    ends_on = models.DateField(null=True, blank=True, help_text="empty: open-ended")
    claim_wording = models.TextField(
        help_text="the claim the partner may publish for this programme, as agreed"
    )
    contracting_authority = models.CharField(max_length=200, blank=True)
    tender_reference = models.CharField(max_length=100, blank=True)
    quota = models.PositiveIntegerField(
        null=True, blank=True, help_text="tenders: devices the contract covers at most"
    )
    is_default = models.BooleanField(
        default=False, help_text="used for registrations that name no programme"
    )
    created_at = models.DateTimeField(db_default=Now())
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["partner", "-starts_on", "code"]
        constraints = [
            models.UniqueConstraint(fields=["partner", "code"], name="programme_code_once"),
            models.UniqueConstraint(
                fields=["partner"], condition=Q(is_default=True), name="programme_one_default"
            ),
            models.CheckConstraint(
                condition=Q(activation_mode__in=ActivationMode.values),
                name="programme_activation_mode_known",
            ),
            models.CheckConstraint(
                condition=Q(price_per_unit__gte=0), name="programme_price_not_negative"
            ),
            models.CheckConstraint(
                condition=Q(currency__regex=r"^[A-Z]{3}$"), name="programme_currency_iso"
            ),
            models.CheckConstraint(
                condition=Q(ends_on__isnull=True) | Q(ends_on__gte=F("starts_on")),
                name="programme_ends_after_start",
            ),
            # A tender names its authority, reference and quota; other modes have none of them.
            models.CheckConstraint(
                condition=(
                    Q(activation_mode="public_tender", quota__gte=1)
                    & ~Q(contracting_authority="")
                    & ~Q(tender_reference="")
                )
                | (
                    ~Q(activation_mode="public_tender")
                    & Q(quota__isnull=True, contracting_authority="", tender_reference="")
                ),
                name="programme_tender_fields",
            ),
            models.CheckConstraint(
                condition=~Q(claim_wording=""), name="programme_claim_wording_set"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"

    @property
    def is_tender(self) -> bool:
        return self.activation_mode == ActivationMode.PUBLIC_TENDER

    def runs_on(self, day: Any) -> bool:
        return self.starts_on <= day and (self.ends_on is None or day <= self.ends_on)


class Channel(models.TextChoices):
    API = "api", "API"
    CSV = "csv", _("CSV upload")
    FORM = "form", _("Form")
    DEMO = "demo", _("Demo data")


class Registration(models.Model):
    """Devices a partner sold, bought or leased, owing units to be compensated."""

    partner = models.ForeignKey(
        "accounts.Organisation", on_delete=models.PROTECT, related_name="registrations"
    )
    reference = models.CharField(max_length=100, help_text="the partner's own reference")
    programme = models.ForeignKey(Programme, on_delete=models.PROTECT, related_name="registrations")
    category = models.ForeignKey(DeviceCategory, on_delete=models.PROTECT, related_name="+")
    product_model = models.CharField(
        max_length=100,
        blank=True,
        db_default="",
        help_text="the product model of the devices, for evidence per model (empty: not given)",
    )
    quantity = models.PositiveIntegerField()
    devices_excluded = models.PositiveIntegerField(
        default=0,
        help_text="listed devices that do not count: already claimed elsewhere, declined, withdrawn",
    )
    units_per_device = models.PositiveIntegerField(help_text="copied from the category version")
    # The registry's allocation trigger reads this column: units are owed for counted devices only,
    # and none once the registration is cancelled.
    units_owed = models.GeneratedField(
        expression=models.Case(
            models.When(
                cancelled_at__isnull=True,
                then=(F("quantity") - F("devices_excluded")) * F("units_per_device"),
            ),
            default=models.Value(0),
        ),
        output_field=models.BigIntegerField(),
        db_persist=True,
    )
    channel = models.CharField(max_length=10, choices=Channel.choices)
    created_at = models.DateTimeField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    cancelled_at = models.DateTimeField(null=True, blank=True)
    cancelled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    cancel_reason = models.TextField(blank=True)

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
            models.CheckConstraint(
                condition=models.Q(devices_excluded__lte=F("quantity")),
                name="registration_excluded_within_quantity",
            ),
            models.CheckConstraint(
                condition=Q(cancelled_at__isnull=True, cancelled_by__isnull=True, cancel_reason="")
                | (
                    Q(cancelled_at__isnull=False, cancelled_by__isnull=False) & ~Q(cancel_reason="")
                ),
                name="registration_cancelled_with_reason",
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


class DeviceStatus(models.TextChoices):
    CLAIMED = "claimed", _("claimed")  # the one claim on this identifier that counts
    HELD = (
        "held",
        _("held"),
    )  # a second claim of an identifier claimed elsewhere; operator to review
    DECLINED = "declined", _("declined")  # the operator kept the other claim
    WITHDRAWN = "withdrawn", _("withdrawn")  # the operator moved the claim away or rejected it
    CANCELLED = (
        "cancelled",
        _("cancelled"),
    )  # the partner cancelled the registration before allocation


class Device(models.Model):
    """One device listed in a registration, known only by the keyed hash of its identifier.

    At most one device per identifier is `claimed` (a partial unique index), across all partners:
    one device, one claim (DESIGN invariant 3). Every other device of a registration is excluded
    from what it owes (Registration.devices_excluded).
    """

    # No index of its own: device_position_once (registration, position) serves every lookup by
    # registration, and a bulk import would maintain a second one of a million entries.
    registration = models.ForeignKey(
        Registration, on_delete=models.PROTECT, related_name="devices", db_index=False
    )
    position = models.PositiveIntegerField(help_text="1-based, in the order the partner listed it")
    kind = models.CharField(max_length=6, choices=DeviceKind.choices)
    identifier_hash = models.CharField(max_length=64)
    status = models.CharField(
        max_length=10, choices=DeviceStatus.choices, default=DeviceStatus.CLAIMED
    )

    class Meta:
        ordering = ["registration", "position"]
        # Claimed devices are found by identifier through device_claimed_once; this index holds
        # only the others (held, declined, ...), few, so that a bulk claim of a million devices
        # maintains one random-key index on the hash, not two.
        indexes = [
            models.Index(
                fields=["identifier_hash"],
                condition=~Q(status="claimed"),
                name="device_identifier_unclaimed",
            )
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["registration", "position"], name="device_position_once"
            ),
            models.UniqueConstraint(
                fields=["identifier_hash"],
                condition=Q(status="claimed"),
                name="device_claimed_once",
            ),
            models.CheckConstraint(condition=Q(position__gte=1), name="device_position_positive"),
            models.CheckConstraint(
                condition=Q(kind__in=DeviceKind.values), name="device_kind_known"
            ),
            models.CheckConstraint(
                condition=Q(status__in=DeviceStatus.values), name="device_status_known"
            ),
            # A hash and nothing else: a clear IMEI or serial cannot be stored here by mistake.
            models.CheckConstraint(
                condition=Q(identifier_hash__regex=r"^[0-9a-f]{64}$"), name="device_hash_only"
            ),
        ]

    def __str__(self) -> str:
        return f"device {self.position} of registration {self.registration_id} ({self.status})"


class ConflictStatus(models.TextChoices):
    OPEN = "open", _("open")
    KEPT_FIRST = "kept_first", _("first claim kept")
    TRANSFERRED = "transferred", _("claim transferred")
    REJECTED = "rejected", _("both claims rejected")
    CANCELLED = (
        "cancelled",
        _("registration cancelled"),
    )  # the held claim's registration was cancelled


# The reason the service itself gives when a held claim's registration is cancelled. Stored in
# English as every reason is; `Conflict.reason_shown` gives it in the reader's language.
REASON_REGISTRATION_CANCELLED = gettext_noop(
    "the registration holding this claim was cancelled by the partner"
)


class Conflict(models.Model):
    """A second claim of an identifier already claimed: held until the operator decides."""

    identifier_hash = models.CharField(max_length=64)
    first_device = models.ForeignKey(
        Device,
        on_delete=models.PROTECT,
        related_name="conflicts_as_first",
        help_text="the claimed device the second claim competes with",
    )
    second_device = models.OneToOneField(
        Device, on_delete=models.PROTECT, related_name="conflict", help_text="the held claim"
    )
    raised_at = models.DateTimeField()
    status = models.CharField(
        max_length=12, choices=ConflictStatus.choices, default=ConflictStatus.OPEN
    )
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    reason = models.TextField(blank=True)

    class Meta:
        ordering = ["raised_at", "id"]
        indexes = [
            models.Index(fields=["status", "raised_at"], name="conflict_queue"),
            models.Index(fields=["identifier_hash"], name="conflict_identifier"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(
                        status="open",
                        resolved_at__isnull=True,
                        resolved_by__isnull=True,
                        reason="",
                    )
                    | (
                        Q(
                            status__in=["kept_first", "transferred", "rejected", "cancelled"],
                            resolved_at__isnull=False,
                            resolved_by__isnull=False,
                        )
                        & ~Q(reason="")
                    )
                ),
                name="conflict_resolved_iff_closed",
            ),
            models.CheckConstraint(
                condition=~Q(first_device=F("second_device")), name="conflict_two_devices"
            ),
        ]

    def __str__(self) -> str:
        return f"conflict {self.pk} ({self.status})"

    @property
    def reason_shown(self) -> str:
        """The reason as a page shows it: the service's own reason in the reader's language,
        a person's as they wrote it."""
        if self.reason == REASON_REGISTRATION_CANCELLED:
            return gettext(REASON_REGISTRATION_CANCELLED)
        return self.reason


# Bulk uploads --------------------------------------------------------------------------------------


class UploadFormat(models.TextChoices):
    CSV = "csv", "CSV"
    XLSX = "xlsx", _("Excel (XLSX)")


class UploadMode(models.TextChoices):
    ALL_OR_NOTHING = "all_or_nothing", _("All or nothing")
    ACCEPT_VALID = "accept_valid", _("Accept the valid rows")


class UploadStatus(models.TextChoices):
    QUEUED = "queued", _("queued")
    VALIDATING = "validating", _("validating")
    IMPORTING = "importing", _("importing")
    DONE = "done", _("done")
    FAILED = "failed", _("failed")  # the import broke (not the file): it may be retried
    REJECTED = (
        "rejected",
        _("rejected"),
    )  # all or nothing, and some lines are wrong: nothing recorded


UPLOAD_FINISHED = [UploadStatus.DONE, UploadStatus.FAILED, UploadStatus.REJECTED]


class Upload(models.Model):
    """A file of registrations, imported in the background; one per file and partner.

    `(partner, sha256)` is unique: the same bytes uploaded again are recognised, and the earlier
    upload is shown instead of importing twice (a failed one may be retried, as the same row).
    `registrations_done` is the resume checkpoint: the number of the file's registrations (in the
    order of their first line) already committed, written in the same transaction as their rows.
    """

    partner = models.ForeignKey(
        "accounts.Organisation", on_delete=models.PROTECT, related_name="uploads"
    )
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    file = models.FileField(upload_to="uploads/%Y/%m/", max_length=200)
    original_name = models.CharField(max_length=200)
    format = models.CharField(max_length=4, choices=UploadFormat.choices)
    size = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64)
    mode = models.CharField(max_length=14, choices=UploadMode.choices)
    status = models.CharField(
        max_length=10, choices=UploadStatus.choices, default=UploadStatus.QUEUED
    )
    rows_total = models.PositiveIntegerField(null=True, blank=True, help_text="known once read")
    rows_validated = models.PositiveIntegerField(default=0)
    rows_accepted = models.PositiveIntegerField(default=0)
    rows_rejected = models.PositiveIntegerField(default=0)
    rows_conflicts = models.PositiveIntegerField(default=0)
    registrations_total = models.PositiveIntegerField(null=True, blank=True)
    registrations_done = models.PositiveIntegerField(default=0)
    attempts = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField()
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    failure = models.TextField(blank=True)
    report = models.FileField(upload_to="upload-reports/%Y/%m/", max_length=200, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["partner", "sha256"], name="upload_file_once"),
            models.CheckConstraint(
                condition=Q(sha256__regex=r"^[0-9a-f]{64}$"), name="upload_sha256_hex"
            ),
            models.CheckConstraint(
                condition=Q(format__in=UploadFormat.values), name="upload_format_known"
            ),
            models.CheckConstraint(
                condition=Q(mode__in=UploadMode.values), name="upload_mode_known"
            ),
            models.CheckConstraint(
                condition=Q(status__in=UploadStatus.values), name="upload_status_known"
            ),
            # Finished exactly when in a final state; a failure message exactly when it went wrong.
            models.CheckConstraint(
                condition=Q(status__in=UPLOAD_FINISHED, finished_at__isnull=False)
                | (~Q(status__in=UPLOAD_FINISHED) & Q(finished_at__isnull=True)),
                name="upload_finished_iff_final",
            ),
            models.CheckConstraint(
                condition=Q(status__in=[UploadStatus.FAILED, UploadStatus.REJECTED])
                & ~Q(failure="")
                | ~Q(status__in=[UploadStatus.FAILED, UploadStatus.REJECTED]) & Q(failure=""),
                name="upload_failure_iff_failed",
            ),
            models.CheckConstraint(
                condition=Q(status=UploadStatus.QUEUED) | Q(started_at__isnull=False),
                name="upload_started_unless_queued",
            ),
            # Every line has one outcome; a done upload has all of them.
            models.CheckConstraint(
                condition=Q(rows_total__isnull=True)
                | Q(
                    rows_validated__lte=F("rows_total"),
                    rows_accepted__lte=F("rows_total") - F("rows_rejected") - F("rows_conflicts"),
                ),
                name="upload_counts_within_total",
            ),
            models.CheckConstraint(
                condition=~Q(status=UploadStatus.DONE)
                | Q(rows_accepted=F("rows_total") - F("rows_rejected") - F("rows_conflicts")),
                name="upload_done_counts_every_line",
            ),
            models.CheckConstraint(
                condition=Q(registrations_total__isnull=True)
                | Q(registrations_done__lte=F("registrations_total")),
                name="upload_checkpoint_within_total",
            ),
            # Nothing is written in all-or-nothing mode before the one transaction commits.
            models.CheckConstraint(
                condition=~Q(mode=UploadMode.ALL_OR_NOTHING)
                | Q(registrations_done=0)
                | Q(status=UploadStatus.DONE),
                name="upload_all_or_nothing_atomic",
            ),
        ]

    def __str__(self) -> str:
        return f"upload {self.pk} ({self.original_name}, {self.status})"

    @property
    def finished(self) -> bool:
        return self.status in UPLOAD_FINISHED


class LineOutcome(models.TextChoices):
    ACCEPTED = "accepted", _("accepted")
    REJECTED = "rejected", _("rejected")
    CONFLICT = "conflict", _("conflict")


class UploadLine(models.Model):
    """The outcome of one line of an upload that was not simply accepted.

    Accepted lines are not stored (the report lists them from the file): at a million lines that
    would double what an import writes. Rejections and conflicts are committed together with the
    registrations they concern, so the report is consistent after a resume too.
    """

    upload = models.ForeignKey(Upload, on_delete=models.CASCADE, related_name="lines")
    line = models.PositiveIntegerField()
    outcome = models.CharField(max_length=8, choices=LineOutcome.choices)
    reason = models.TextField()

    class Meta:
        ordering = ["upload", "line"]
        constraints = [
            models.UniqueConstraint(fields=["upload", "line"], name="upload_line_once"),
            models.CheckConstraint(
                condition=Q(outcome__in=[LineOutcome.REJECTED, LineOutcome.CONFLICT]),
                name="upload_line_not_accepted",
            ),
            models.CheckConstraint(condition=Q(line__gte=1), name="upload_line_positive"),
        ]

    def __str__(self) -> str:
        return f"line {self.line} of upload {self.upload_id}: {self.outcome}"
