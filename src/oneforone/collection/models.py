from __future__ import annotations

import datetime as dt
import uuid

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.functions import RandomUUID
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy

COUNTRY_CHECK = r"^[A-Z]{2}$"
CURRENCY_CHECK = r"^[A-Z]{3}$"


class Area(models.TextChoices):
    URBAN = "urban", gettext_lazy("Urban")
    RURAL = "rural", gettext_lazy("Rural")


def list_of_working_weekdays() -> list[int]:
    return [1, 2, 3, 4, 5, 6]


class Country(models.Model):
    """A country where the service collects; hubs refer to it by its ISO 3166-1 alpha-2 code."""

    code = models.CharField(max_length=2, primary_key=True)
    name = models.CharField(max_length=100)
    currency = models.CharField(
        max_length=3, help_text=gettext_lazy("ISO 4217 currency collectors are paid in")
    )
    timezone = models.CharField(
        max_length=64, help_text=gettext_lazy("IANA time zone, e.g. Africa/Accra")
    )

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "countries"
        constraints = [
            models.CheckConstraint(condition=Q(code__regex=COUNTRY_CHECK), name="country_iso"),
            models.CheckConstraint(
                condition=Q(currency__regex=CURRENCY_CHECK), name="country_currency_iso"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Hub(models.Model):
    """A collection partner's site where collectors bring phones."""

    organisation = models.ForeignKey(
        "accounts.Organisation", on_delete=models.PROTECT, related_name="hubs"
    )
    code = models.SlugField(max_length=30, unique=True)
    name = models.CharField(max_length=200)
    country = models.CharField(max_length=2)
    city = models.CharField(max_length=100)
    area = models.CharField(max_length=5, choices=Area.choices, default=Area.URBAN)
    currency = models.CharField(
        max_length=3, help_text=gettext_lazy("ISO 4217 currency collectors are paid in")
    )
    latitude = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    longitude = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    radius_m = models.PositiveIntegerField(
        default=3000,
        db_default=3000,
        help_text=gettext_lazy("intakes recorded farther than this from the hub are flagged"),
    )
    opens_at = models.TimeField(default=dt.time(7, 0), db_default=dt.time(7, 0))
    closes_at = models.TimeField(default=dt.time(19, 0), db_default=dt.time(19, 0))
    open_weekdays = ArrayField(
        models.PositiveSmallIntegerField(),
        default=list_of_working_weekdays,
        help_text=gettext_lazy("ISO weekdays the hub buys on: 1 Monday ... 7 Sunday"),
    )

    class Meta:
        ordering = ["country", "name"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(country__regex=COUNTRY_CHECK), name="hub_country_iso"
            ),
            models.CheckConstraint(
                condition=models.Q(currency__regex=CURRENCY_CHECK), name="hub_currency_iso"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.city}, {self.country})"


class Collector(models.Model):
    """A collector known by a pseudonymous code. Who the person is lives in CollectorIdentity,
    encrypted; erasing it leaves the code, and with it every count and payment, in place."""

    hub = models.ForeignKey(Hub, on_delete=models.PROTECT, related_name="collectors")
    code = models.CharField(max_length=30, unique=True)
    client_uuid = models.UUIDField(default=uuid.uuid4, db_default=RandomUUID(), unique=True)
    active = models.BooleanField(default=True, db_default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    erased_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return self.code


class CollectorIdentity(models.Model):
    """The person behind a collector code: every personal field encrypted at rest (Fernet, keys
    in settings.PERSONAL_DATA_KEYS). Deleted as a whole when the collector is erased."""

    collector = models.OneToOneField(
        Collector, primary_key=True, on_delete=models.CASCADE, related_name="identity"
    )
    name_encrypted = models.TextField()
    phone_encrypted = models.TextField()
    mobile_money_encrypted = models.TextField(blank=True)
    consent_version = models.CharField(max_length=20)
    consent_given_on = models.DateField()
    updated_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"identity of {self.collector_id}"


class PersonalDataPurpose(models.TextChoices):
    RECORD = "record", gettext_lazy("Recorded or changed")
    VIEW = "view", gettext_lazy("Viewed")
    EXPORT = "export", gettext_lazy("Exported")
    ERASE = "erase", gettext_lazy("Erased")


class PersonalDataAccess(models.Model):
    """Every time someone reads, exports, changes or erases a collector's personal data."""

    collector = models.ForeignKey(Collector, on_delete=models.PROTECT, related_name="accesses")
    purpose = models.CharField(max_length=10, choices=PersonalDataPurpose.choices)
    reason = models.CharField(max_length=300)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    organisation = models.ForeignKey(
        "accounts.Organisation", on_delete=models.PROTECT, related_name="+"
    )
    at = models.DateTimeField()

    class Meta:
        ordering = ["-at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(purpose__in=PersonalDataPurpose.values), name="pd_access_purpose"
            ),
        ]

    def __str__(self) -> str:
        return (
            f"{self.purpose} of {self.collector_id} by {self.user_id} at {self.at:%Y-%m-%d %H:%M}"
        )


class Condition(models.TextChoices):
    WHOLE = "whole", gettext_lazy("Whole phone")
    BOARD_MISSING = "board_missing", gettext_lazy("Board missing")
    SCREEN_ONLY = "screen_only", gettext_lazy("Screen only")


class Intake(models.Model):
    """A purchase of end-of-life phones from a collector at a hub, paid per phone."""

    hub = models.ForeignKey(Hub, on_delete=models.PROTECT, related_name="intakes")
    collector = models.ForeignKey(Collector, on_delete=models.PROTECT, related_name="intakes")
    client_uuid = models.UUIDField(default=uuid.uuid4, db_default=RandomUUID(), unique=True)
    revision = models.PositiveIntegerField(
        default=1,
        db_default=1,
        help_text=gettext_lazy("the hub device's edit counter; a sync keeps the highest"),
    )
    collected_on = models.DateField(help_text=gettext_lazy("the hub's local date of collected_at"))
    collected_at = models.DateTimeField()
    phones = models.IntegerField(help_text=gettext_lazy("negative only in a reversing record"))
    net_weight_kg = models.DecimalField(max_digits=12, decimal_places=3)
    batteries_removed = models.IntegerField(default=0, db_default=0)
    battery_weight_kg = models.DecimalField(
        max_digits=12, decimal_places=3, default=0, db_default=0
    )
    condition = models.CharField(
        max_length=15,
        choices=Condition.choices,
        default=Condition.WHOLE,
        db_default=Condition.WHOLE,
    )
    latitude = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    longitude = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    gps_accuracy_m = models.PositiveIntegerField(null=True, blank=True)
    reverses = models.OneToOneField(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="reversed_by",
        help_text=gettext_lazy(
            "the intake this record cancels; its figures are the negated original's"
        ),
    )
    note = models.CharField(max_length=300, blank=True)
    price_per_phone = models.DecimalField(max_digits=12, decimal_places=4)
    currency = models.CharField(max_length=3)
    amount_paid = models.GeneratedField(
        expression=F("phones") * F("price_per_phone"),
        output_field=models.DecimalField(max_digits=18, decimal_places=4),
        db_persist=True,
    )
    lot = models.ForeignKey(
        "Lot", null=True, blank=True, on_delete=models.PROTECT, related_name="intakes"
    )
    battery_lot = models.ForeignKey(
        "Lot", null=True, blank=True, on_delete=models.PROTECT, related_name="battery_intakes"
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField()

    class Meta:
        ordering = ["-collected_on", "-id"]
        indexes = [
            models.Index(fields=["hub", "lot"], name="intake_open_per_hub"),
            models.Index(fields=["collector", "collected_on"], name="intake_per_collector"),
        ]
        constraints = [
            # A reversing record carries the negated figures of the one it cancels (a trigger
            # checks they match); every other record counts at least one phone.
            models.CheckConstraint(
                condition=(
                    Q(reverses__isnull=True, phones__gte=1, net_weight_kg__gt=0)
                    & Q(batteries_removed__gte=0, battery_weight_kg__gte=0)
                )
                | Q(reverses__isnull=False, phones__lte=-1, net_weight_kg__lt=0),
                name="intake_figures_signed",
            ),
            models.CheckConstraint(
                condition=Q(condition__in=Condition.values), name="intake_condition_known"
            ),
            models.CheckConstraint(
                condition=models.Q(price_per_phone__gte=0), name="intake_price_not_negative"
            ),
            models.CheckConstraint(
                condition=models.Q(currency__regex=CURRENCY_CHECK), name="intake_currency_iso"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.phones} phones from {self.collector_id} on {self.collected_on}"


class LotKind(models.TextChoices):
    PHONES = "phones", gettext_lazy("Phones")
    BATTERIES = "batteries", gettext_lazy("Batteries")


class Lot(models.Model):
    """A sealed bag or box of intakes; its count and weight are the sums of its intakes.

    Phones and the batteries taken out of them travel in separate lots. The figures are sealed
    with the lot; a later correction is a reversing intake packed into it, so the lot's current
    figures are the sums of its intakes, and the difference to the sealed ones is explained."""

    hub = models.ForeignKey(Hub, on_delete=models.PROTECT, related_name="lots")
    seal_number = models.CharField(max_length=40, unique=True)
    kind = models.CharField(
        max_length=10, choices=LotKind.choices, default=LotKind.PHONES, db_default=LotKind.PHONES
    )
    phones = models.PositiveIntegerField()
    batteries = models.PositiveIntegerField(default=0, db_default=0)
    net_weight_kg = models.DecimalField(max_digits=12, decimal_places=3)
    sealed_at = models.DateTimeField()
    sealed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    consignment = models.ForeignKey(
        "shipments.Consignment",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="lots",
    )

    class Meta:
        ordering = ["-sealed_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind=LotKind.PHONES, phones__gte=1, batteries=0)
                | Q(kind=LotKind.BATTERIES, phones=0, batteries__gte=1),
                name="lot_counts_its_kind",
            ),
        ]

    def __str__(self) -> str:
        return f"lot {self.seal_number}"


class LivingWageBenchmark(models.Model):
    """A monthly living wage for a country, area and year, with the source it was read from."""

    country = models.CharField(max_length=2)
    area = models.CharField(max_length=5, choices=Area.choices)
    year = models.PositiveSmallIntegerField()
    monthly_amount = models.DecimalField(max_digits=14, decimal_places=2)
    currency = models.CharField(max_length=3)
    source = models.CharField(max_length=300)
    source_url = models.URLField(blank=True)

    class Meta:
        ordering = ["country", "area", "-year"]
        constraints = [
            models.UniqueConstraint(fields=["country", "area", "year"], name="benchmark_once"),
            models.CheckConstraint(
                condition=models.Q(monthly_amount__gt=0), name="benchmark_positive"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.country} {self.area} {self.year}: {self.monthly_amount} {self.currency}"


# --- intake evidence and offline sync -----------------------------------------------------------


class Photo(models.Model):
    """A photo taken at intake, stored under its SHA-256 (content-addressed, uploaded once)."""

    sha256 = models.CharField(max_length=64, primary_key=True)
    file = models.FileField(upload_to="intake-photos/")
    content_type = models.CharField(max_length=50)
    size = models.PositiveIntegerField()
    uploaded_at = models.DateTimeField()
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(sha256__regex=r"^[0-9a-f]{64}$"), name="photo_sha256"
            )
        ]

    def __str__(self) -> str:
        return f"photo {self.sha256[:12]}"


class IntakePhoto(models.Model):
    """A photo an intake refers to by hash; the bytes may arrive after the record (offline)."""

    intake = models.ForeignKey(Intake, on_delete=models.PROTECT, related_name="photos")
    sha256 = models.CharField(max_length=64)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["intake", "sha256"], name="intake_photo_once"),
            models.CheckConstraint(
                condition=Q(sha256__regex=r"^[0-9a-f]{64}$"), name="intake_photo_sha256"
            ),
        ]

    def __str__(self) -> str:
        return f"photo {self.sha256[:12]} of intake {self.intake_id}"


class IntakeImei(models.Model):
    """An IMEI read from a collected phone (where readable); the same IMEI twice is a signal."""

    intake = models.ForeignKey(Intake, on_delete=models.PROTECT, related_name="imeis")
    imei = models.CharField(max_length=15, db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["intake", "imei"], name="intake_imei_once"),
            models.CheckConstraint(
                condition=Q(imei__regex=r"^[0-9]{15}$"), name="intake_imei_digits"
            ),
        ]

    def __str__(self) -> str:
        return f"IMEI {self.imei} in intake {self.intake_id}"


class SyncBatch(models.Model):
    """A batch of records a hub device sent; sending it again returns the stored result."""

    batch_uuid = models.UUIDField(unique=True)
    device_id = models.CharField(max_length=100)
    hub = models.ForeignKey(Hub, on_delete=models.PROTECT, related_name="sync_batches")
    received_at = models.DateTimeField()
    received_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    records = models.PositiveIntegerField()
    body_sha256 = models.CharField(max_length=64)
    result = models.JSONField(
        help_text=gettext_lazy("per record: uuid, outcome, message; no personal data")
    )

    class Meta:
        ordering = ["-received_at"]

    def __str__(self) -> str:
        return f"sync batch {self.batch_uuid} from {self.device_id}"


# --- money ---------------------------------------------------------------------------------------


class PaymentKind(models.TextChoices):
    PURCHASE = "purchase", gettext_lazy("Phones bought from a collector")
    STORAGE_FEE = "storage_fee", gettext_lazy("Handling fee: storage")
    RECORD_KEEPING_FEE = "record_keeping_fee", gettext_lazy("Handling fee: record keeping")


class PaymentMethod(models.TextChoices):
    CASH = "cash", gettext_lazy("Cash")
    MOBILE_MONEY = "mobile_money", gettext_lazy("Mobile money")
    BANK_TRANSFER = "bank_transfer", gettext_lazy("Bank transfer")


class Payment(models.Model):
    """One payment to a collector (for phones) or to a collection partner (handling fees).

    Append-only; a correction is a reversal: a new row with the negated amount that names the
    payment it cancels."""

    client_uuid = models.UUIDField(default=uuid.uuid4, db_default=RandomUUID(), unique=True)
    kind = models.CharField(max_length=20, choices=PaymentKind.choices)
    payer = models.ForeignKey("accounts.Organisation", on_delete=models.PROTECT, related_name="+")
    collector = models.ForeignKey(
        Collector, null=True, blank=True, on_delete=models.PROTECT, related_name="payments"
    )
    payee_organisation = models.ForeignKey(
        "accounts.Organisation",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="payments_received",
    )
    hub = models.ForeignKey(Hub, on_delete=models.PROTECT, related_name="payments")
    intake = models.ForeignKey(
        Intake, null=True, blank=True, on_delete=models.PROTECT, related_name="payments"
    )
    period = models.DateField(
        null=True, blank=True, help_text=gettext_lazy("a handling fee's month (its first day)")
    )
    amount = models.DecimalField(max_digits=18, decimal_places=4)
    currency = models.CharField(max_length=3)
    method = models.CharField(max_length=15, choices=PaymentMethod.choices)
    reference = models.CharField(
        max_length=100,
        blank=True,
        help_text=gettext_lazy("the mobile-money or bank transaction reference"),
    )
    paid_at = models.DateTimeField()
    paid_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField()
    reverses = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="reversed_by"
    )
    reason = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-paid_at", "-id"]
        indexes = [models.Index(fields=["collector", "paid_at"], name="payment_per_collector")]
        constraints = [
            models.CheckConstraint(condition=Q(kind__in=PaymentKind.values), name="payment_kind"),
            models.CheckConstraint(
                condition=Q(method__in=PaymentMethod.values), name="payment_method"
            ),
            models.CheckConstraint(
                condition=Q(currency__regex=CURRENCY_CHECK), name="payment_currency_iso"
            ),
            models.CheckConstraint(
                condition=Q(kind=PaymentKind.PURCHASE, collector__isnull=False)
                & Q(payee_organisation__isnull=True, period__isnull=True)
                | ~Q(kind=PaymentKind.PURCHASE)
                & Q(collector__isnull=True, payee_organisation__isnull=False, intake__isnull=True)
                & Q(period__isnull=False),
                name="payment_payee_fits_kind",
            ),
            models.CheckConstraint(
                condition=Q(reverses__isnull=True, amount__gt=0)
                | Q(reverses__isnull=False, amount__lt=0) & ~Q(reason=""),
                name="payment_sign_and_reason",
            ),
            models.CheckConstraint(
                condition=~Q(method=PaymentMethod.CASH) & ~Q(reference="")
                | Q(method=PaymentMethod.CASH),
                name="payment_reference_unless_cash",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.amount} {self.currency}"


class HandlingFeeRate(models.Model):
    """What the operator pays a collection partner per phone collected, for storage or for
    record keeping, in a period."""

    organisation = models.ForeignKey(
        "accounts.Organisation", on_delete=models.PROTECT, related_name="handling_fee_rates"
    )
    kind = models.CharField(max_length=20, choices=PaymentKind.choices)
    per_phone = models.DecimalField(max_digits=12, decimal_places=4)
    currency = models.CharField(max_length=3)
    valid_from = models.DateField()
    valid_until = models.DateField(
        null=True, blank=True, help_text=gettext_lazy("last day; open if empty")
    )

    class Meta:
        ordering = ["organisation", "kind", "-valid_from"]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=[PaymentKind.STORAGE_FEE, PaymentKind.RECORD_KEEPING_FEE]),
                name="fee_rate_kind",
            ),
            models.CheckConstraint(condition=Q(per_phone__gt=0), name="fee_rate_positive"),
            models.CheckConstraint(
                condition=Q(valid_until__isnull=True) | Q(valid_until__gte=F("valid_from")),
                name="fee_rate_period",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.per_phone} {self.currency} a phone"


class PriceCap(models.Model):
    """The most a hub may pay a collector per phone in a country and period, set below the
    second-hand value of a working phone so that only dead phones are bought; and the least,
    so that collectors are paid fairly. Periods of one country do not overlap (a trigger)."""

    country = models.ForeignKey(Country, on_delete=models.PROTECT, related_name="price_caps")
    valid_from = models.DateField()
    valid_until = models.DateField(
        null=True, blank=True, help_text=gettext_lazy("last day; open if empty")
    )
    max_per_phone = models.DecimalField(max_digits=12, decimal_places=4)
    min_per_phone = models.DecimalField(max_digits=12, decimal_places=4, default=0)
    currency = models.CharField(max_length=3)
    second_hand_value = models.DecimalField(
        max_digits=12,
        decimal_places=4,
        help_text=gettext_lazy(
            "what a working basic phone sells for second-hand; the cap stays below it"
        ),
    )
    source = models.CharField(max_length=300)
    set_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    set_at = models.DateTimeField()

    class Meta:
        ordering = ["country", "-valid_from"]
        constraints = [
            models.CheckConstraint(
                condition=Q(max_per_phone__lt=F("second_hand_value")),
                name="price_cap_below_second_hand_value",
            ),
            models.CheckConstraint(
                condition=Q(min_per_phone__gte=0, min_per_phone__lte=F("max_per_phone")),
                name="price_cap_floor_below_cap",
            ),
            models.CheckConstraint(
                condition=Q(valid_until__isnull=True) | Q(valid_until__gte=F("valid_from")),
                name="price_cap_period",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.country_id} from {self.valid_from}: at most {self.max_per_phone} {self.currency}"


class ExchangeRate(models.Model):
    """How many units of a currency one euro buys on a day, with where that was read. Used to
    report in EUR; recorded amounts stay in the currency they were paid in."""

    currency = models.CharField(max_length=3)
    rate_date = models.DateField()
    units_per_eur = models.DecimalField(max_digits=18, decimal_places=6)
    source = models.CharField(max_length=300)

    class Meta:
        ordering = ["currency", "-rate_date"]
        constraints = [
            models.UniqueConstraint(fields=["currency", "rate_date"], name="rate_once_a_day"),
            models.CheckConstraint(condition=Q(units_per_eur__gt=0), name="rate_positive"),
            models.CheckConstraint(
                condition=Q(currency__regex=CURRENCY_CHECK), name="rate_currency_iso"
            ),
        ]

    def __str__(self) -> str:
        return f"1 EUR = {self.units_per_eur} {self.currency} on {self.rate_date}"


# --- safe work ----------------------------------------------------------------------------------


class ConductAcknowledgement(models.Model):
    """A collector acknowledged a version of the code of conduct."""

    collector = models.ForeignKey(Collector, on_delete=models.PROTECT, related_name="conduct")
    version = models.CharField(max_length=20)
    acknowledged_on = models.DateField()
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField()

    class Meta:
        ordering = ["-acknowledged_on"]
        constraints = [
            models.UniqueConstraint(fields=["collector", "version"], name="conduct_once_a_version")
        ]

    def __str__(self) -> str:
        return f"code of conduct {self.version} acknowledged on {self.acknowledged_on}"


class TrainingTopic(models.TextChoices):
    SAFE_HANDLING = "safe_handling", gettext_lazy("Safe handling of broken phones")
    BATTERY_REMOVAL = "battery_removal", gettext_lazy("Taking batteries out safely")
    FIRST_AID = "first_aid", gettext_lazy("First aid")
    FAIR_BUYING = "fair_buying", gettext_lazy("Buying only dead phones, fair prices")
    RECORD_KEEPING = "record_keeping", gettext_lazy("Record keeping")


class Training(models.Model):
    collector = models.ForeignKey(Collector, on_delete=models.PROTECT, related_name="trainings")
    topic = models.CharField(max_length=20, choices=TrainingTopic.choices)
    trained_on = models.DateField()
    trainer = models.CharField(max_length=200)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField()

    class Meta:
        ordering = ["-trained_on"]
        constraints = [
            models.CheckConstraint(
                condition=Q(topic__in=TrainingTopic.values), name="training_topic_known"
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_topic_display()} on {self.trained_on}"


class EquipmentItem(models.TextChoices):
    GLOVES = "gloves", gettext_lazy("Cut-resistant gloves")
    GOGGLES = "goggles", gettext_lazy("Safety goggles")
    MASK = "mask", gettext_lazy("Dust mask")
    BOOTS = "boots", gettext_lazy("Safety boots")
    BATTERY_BOX = "battery_box", gettext_lazy("Fire-safe battery box")
    FIRST_AID_KIT = "first_aid_kit", gettext_lazy("First-aid kit")


class EquipmentIssue(models.Model):
    """Protective equipment handed to a collector."""

    collector = models.ForeignKey(Collector, on_delete=models.PROTECT, related_name="equipment")
    item = models.CharField(max_length=20, choices=EquipmentItem.choices)
    quantity = models.PositiveSmallIntegerField(default=1)
    issued_on = models.DateField()
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField()

    class Meta:
        ordering = ["-issued_on"]
        constraints = [
            models.CheckConstraint(
                condition=Q(item__in=EquipmentItem.values), name="equipment_item_known"
            ),
            models.CheckConstraint(condition=Q(quantity__gte=1), name="equipment_quantity"),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} x {self.get_item_display()} on {self.issued_on}"


class IncidentKind(models.TextChoices):
    INJURY = "injury", gettext_lazy("Injury")
    FIRE = "fire", gettext_lazy("Battery fire or smoke")
    THEFT = "theft", gettext_lazy("Theft or robbery")
    HARASSMENT = "harassment", gettext_lazy("Harassment or threat")
    OTHER = "other", gettext_lazy("Other")


class Incident(models.Model):
    """A safety incident a collector or the hub reported, open until a follow-up closes it."""

    hub = models.ForeignKey(Hub, on_delete=models.PROTECT, related_name="incidents")
    collector = models.ForeignKey(
        Collector, null=True, blank=True, on_delete=models.PROTECT, related_name="incidents"
    )
    kind = models.CharField(max_length=15, choices=IncidentKind.choices)
    occurred_on = models.DateField()
    description = models.TextField()
    reported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    reported_at = models.DateTimeField()
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-occurred_on", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=IncidentKind.values), name="incident_kind_known"
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} on {self.occurred_on}"


class IncidentFollowUp(models.Model):
    incident = models.ForeignKey(Incident, on_delete=models.PROTECT, related_name="follow_ups")
    note = models.TextField()
    closes = models.BooleanField(default=False)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField()

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"follow-up of incident {self.incident_id}"


# --- fraud and plausibility signals -------------------------------------------------------------


class FlagKind(models.TextChoices):
    WEIGHT_PER_PHONE_HUB = (
        "weight_per_phone_hub",
        gettext_lazy("Weight per phone far from the hub's norm"),
    )
    WEIGHT_PER_PHONE_LOT = (
        "weight_per_phone_lot",
        gettext_lazy("Lot weight per phone far from the stream's"),
    )
    VOLUME_JUMP = "volume_jump", gettext_lazy("Collector's volume jumps against their history")
    DUPLICATE_IMEI = "duplicate_imei", gettext_lazy("Same IMEI collected twice")
    PRICE_OUTSIDE_CAP = "price_outside_cap", gettext_lazy("Price outside the country's cap")
    OUTSIDE_HOURS = "outside_hours", gettext_lazy("Recorded outside the hub's opening hours")
    FAR_FROM_HUB = "far_from_hub", gettext_lazy("Recorded far from the hub")


class FlagResolution(models.TextChoices):
    EXPLAINED = "explained", gettext_lazy("Explained: the record stands")
    CORRECTED = "corrected", gettext_lazy("Corrected by a reversing record")
    FRAUD = "fraud", gettext_lazy("Confirmed fraud: collector suspended")


class Flag(models.Model):
    """A plausibility signal with its evidence, in the operator's queue until resolved with a
    reason. An open flag on a lot, or on an intake packed in it, stops the lot's dispatch."""

    kind = models.CharField(max_length=25, choices=FlagKind.choices)
    hub = models.ForeignKey(Hub, on_delete=models.PROTECT, related_name="flags")
    intake = models.ForeignKey(
        Intake, null=True, blank=True, on_delete=models.PROTECT, related_name="flags"
    )
    lot = models.ForeignKey(
        Lot, null=True, blank=True, on_delete=models.PROTECT, related_name="flags"
    )
    collector = models.ForeignKey(
        Collector, null=True, blank=True, on_delete=models.PROTECT, related_name="flags"
    )
    evidence = models.JSONField()
    raised_at = models.DateTimeField()
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    resolution = models.CharField(max_length=10, choices=FlagResolution.choices, blank=True)
    resolution_reason = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["-raised_at", "-id"]
        indexes = [
            models.Index(
                fields=["raised_at"], condition=Q(resolved_at__isnull=True), name="flag_open"
            )
        ]
        constraints = [
            models.CheckConstraint(condition=Q(kind__in=FlagKind.values), name="flag_kind_known"),
            models.CheckConstraint(
                condition=Q(intake__isnull=False) | Q(lot__isnull=False), name="flag_has_subject"
            ),
            models.UniqueConstraint(
                fields=["kind", "intake"],
                condition=Q(intake__isnull=False),
                name="flag_once_per_intake",
            ),
            models.UniqueConstraint(
                fields=["kind", "lot"], condition=Q(lot__isnull=False), name="flag_once_per_lot"
            ),
            models.CheckConstraint(
                condition=Q(resolved_at__isnull=True, resolution="", resolution_reason="")
                | Q(resolved_at__isnull=False, resolved_by__isnull=False)
                & ~Q(resolution="")
                & ~Q(resolution_reason=""),
                name="flag_resolved_with_reason",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({'open' if self.resolved_at is None else 'resolved'})"
