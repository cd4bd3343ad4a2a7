from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F

COUNTRY_CHECK = r"^[A-Z]{2}$"
CURRENCY_CHECK = r"^[A-Z]{3}$"


class Area(models.TextChoices):
    URBAN = "urban", "Urban"
    RURAL = "rural", "Rural"


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
    currency = models.CharField(max_length=3, help_text="ISO 4217 currency collectors are paid in")

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
    """A collector known by a pseudonymous code; personal data lives elsewhere (later)."""

    hub = models.ForeignKey(Hub, on_delete=models.PROTECT, related_name="collectors")
    code = models.CharField(max_length=30, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return self.code


class Intake(models.Model):
    """A purchase of end-of-life phones from a collector at a hub, paid per phone."""

    hub = models.ForeignKey(Hub, on_delete=models.PROTECT, related_name="intakes")
    collector = models.ForeignKey(Collector, on_delete=models.PROTECT, related_name="intakes")
    collected_on = models.DateField()
    phones = models.PositiveIntegerField()
    net_weight_kg = models.DecimalField(max_digits=12, decimal_places=3)
    batteries_removed = models.PositiveIntegerField(default=0)
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
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField()

    class Meta:
        ordering = ["-collected_on", "-id"]
        indexes = [models.Index(fields=["hub", "lot"], name="intake_open_per_hub")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(phones__gte=1), name="intake_phones_positive"
            ),
            models.CheckConstraint(
                condition=models.Q(net_weight_kg__gt=0), name="intake_weight_positive"
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


class Lot(models.Model):
    """A sealed bag or box of intakes; its count and weight are the sums of its intakes."""

    hub = models.ForeignKey(Hub, on_delete=models.PROTECT, related_name="lots")
    seal_number = models.CharField(max_length=40, unique=True)
    phones = models.PositiveIntegerField()
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
            models.CheckConstraint(condition=models.Q(phones__gte=1), name="lot_phones_positive"),
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
