"""Deadlines of a transboundary movement: the rules (configuration per route, with their legal
source), the acts that meet them, and the reminders sent about them."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext, gettext_lazy, ngettext


class DeadlineKind(models.TextChoices):
    PRE_SHIPMENT_INFORMATION = "pre_shipment_information", gettext_lazy("Pre-shipment information")
    RECEIPT_CONFIRMATION = "receipt_confirmation", gettext_lazy("Confirmation of receipt")
    COMPLETION_CERTIFICATE = (
        "completion_certificate",
        gettext_lazy("Certificate of completed recovery"),
    )
    COMPLETION_CERTIFICATE_OUTER = (
        "completion_certificate_outer",
        gettext_lazy("Certificate of completed recovery (outer limit after receipt)"),
    )
    CONSENT_EXPIRY = "consent_expiry", gettext_lazy("Consent expiry")
    GUARANTEE_EXPIRY = "guarantee_expiry", gettext_lazy("Financial guarantee expiry")
    TAKE_BACK = "take_back", gettext_lazy("Take-back after a failed shipment")
    CHANGE_ANSWER = "change_answer", gettext_lazy("Answer to a significant change")


class PeriodUnit(models.TextChoices):
    WORKING_DAYS = "working_days", gettext_lazy("working days")
    CALENDAR_DAYS = "calendar_days", gettext_lazy("calendar days")


class Direction(models.TextChoices):
    BEFORE = "before", gettext_lazy("before")
    AFTER = "after", gettext_lazy("after")


def _period_phrase(count: int, unit: str, direction: str) -> str:
    """Whole phrases, so each language words and inflects them its own way."""
    if unit == PeriodUnit.WORKING_DAYS and direction == Direction.BEFORE:
        phrase = ngettext("%(count)s working day before", "%(count)s working days before", count)
    elif unit == PeriodUnit.WORKING_DAYS:
        phrase = ngettext("%(count)s working day after", "%(count)s working days after", count)
    elif direction == Direction.BEFORE:
        phrase = ngettext("%(count)s calendar day before", "%(count)s calendar days before", count)
    else:
        phrase = ngettext("%(count)s calendar day after", "%(count)s calendar days after", count)
    return phrase % {"count": count}


class CalendarOf(models.TextChoices):
    """Whose public holidays count when the period is in working days."""

    EXPORT = "export", gettext_lazy("country of export")
    IMPORT = "import", gettext_lazy("country of import")
    TRANSIT = "transit", gettext_lazy("first country of transit")
    FACILITY = "facility", gettext_lazy("the facility's country")


class DeadlineRule(models.Model):
    """How long a deadline runs from its anchor event, on which calendar, on which routes.

    Blank export/import countries and operations mean any; among the rules valid on the anchor
    date, the most specific one for the route wins."""

    kind = models.CharField(max_length=32, choices=DeadlineKind.choices)
    period = models.PositiveIntegerField()
    unit = models.CharField(max_length=14, choices=PeriodUnit.choices)
    direction = models.CharField(max_length=6, choices=Direction.choices)
    calendar = models.CharField(max_length=8, choices=CalendarOf.choices)
    export_country = models.CharField(max_length=2, blank=True)
    import_country = models.CharField(max_length=2, blank=True)
    operations = models.CharField(
        max_length=40,
        blank=True,
        help_text=gettext_lazy("R codes of the facility, space separated, e.g. R12 R13"),
    )
    legal_source = models.CharField(max_length=300)
    note = models.CharField(max_length=300, blank=True)
    valid_from = models.DateField(null=True, blank=True)
    valid_to = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["kind", "export_country", "import_country", "operations", "valid_from"]
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "export_country", "import_country", "operations", "valid_from"],
                nulls_distinct=False,
                name="deadline_rule_once_per_scope",
            ),
            models.CheckConstraint(
                condition=models.Q(kind__in=DeadlineKind.values), name="deadline_rule_kind_known"
            ),
            models.CheckConstraint(
                condition=models.Q(unit__in=PeriodUnit.values)
                & models.Q(direction__in=Direction.values)
                & models.Q(calendar__in=CalendarOf.values),
                name="deadline_rule_choices_known",
            ),
            models.CheckConstraint(
                condition=models.Q(export_country__regex=r"^([A-Z]{2})?$")
                & models.Q(import_country__regex=r"^([A-Z]{2})?$"),
                name="deadline_rule_countries_iso",
            ),
            models.CheckConstraint(
                condition=~models.Q(legal_source=""), name="deadline_rule_source_named"
            ),
            models.CheckConstraint(
                condition=models.Q(valid_from__isnull=True)
                | models.Q(valid_to__isnull=True)
                | models.Q(valid_to__gte=models.F("valid_from")),
                name="deadline_rule_validity_ordered",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.describe()}"

    def describe(self) -> str:
        """e.g. '2 working days before departure (country of export)'."""
        rule = _period_phrase(self.period, self.unit, self.direction)
        if self.unit != PeriodUnit.WORKING_DAYS:
            return rule
        return gettext("%(rule)s (%(calendar)s)") % {
            "rule": rule,
            "calendar": self.get_calendar_display(),
        }


class DeadlineAct(models.Model):
    """An act that meets a deadline (information sent, receipt confirmed, certificate sent,
    take-back done, renewal filed...); append-only, a mistake is corrected by a new act."""

    kind = models.CharField(max_length=32, choices=DeadlineKind.choices)
    subject_key = models.CharField(
        max_length=80, help_text=gettext_lazy("the deadline's subject, e.g. c:12")
    )
    consignment = models.ForeignKey(
        "shipments.Consignment",
        on_delete=models.PROTECT,
        related_name="deadline_acts",
        null=True,
        blank=True,
    )
    notification = models.ForeignKey(
        "shipments.Notification",
        on_delete=models.PROTECT,
        related_name="deadline_acts",
        null=True,
        blank=True,
    )
    done_on = models.DateField()
    note = models.CharField(max_length=300, blank=True)
    organisation = models.ForeignKey(
        "accounts.Organisation", on_delete=models.PROTECT, related_name="+"
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField()

    class Meta:
        ordering = ["recorded_at", "id"]
        indexes = [models.Index(fields=["kind", "subject_key"], name="deadline_act_subject")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(consignment__isnull=False)
                | models.Q(notification__isnull=False),
                name="deadline_act_has_subject",
            ),
            models.CheckConstraint(
                condition=models.Q(kind__in=DeadlineKind.values), name="deadline_act_kind_known"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.subject_key} on {self.done_on}"


class ReminderStage(models.TextChoices):
    DUE_SOON = "due_soon", gettext_lazy("due soon")
    OVERDUE = "overdue", gettext_lazy("overdue")


class DeadlineReminder(models.Model):
    """One reminder e-mail per deadline and stage; the unique constraint keeps it to one even
    when two workers send reminders at once."""

    kind = models.CharField(max_length=32, choices=DeadlineKind.choices)
    subject_key = models.CharField(max_length=80)
    stage = models.CharField(max_length=8, choices=ReminderStage.choices)
    due_on = models.DateField()
    recipients = models.JSONField(default=list)
    email_subject = models.CharField(max_length=300)
    email_body = models.TextField()
    sent_at = models.DateTimeField()

    class Meta:
        ordering = ["sent_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "subject_key", "stage"], name="deadline_reminder_once"
            ),
            models.CheckConstraint(
                condition=models.Q(stage__in=ReminderStage.values),
                name="deadline_reminder_stage_known",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.subject_key} {self.stage}"
