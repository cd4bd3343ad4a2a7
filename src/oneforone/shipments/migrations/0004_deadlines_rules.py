"""Deadlines: rules per route with their legal source (seeded from DOMAIN.md section 2), the acts
that meet them and the reminders sent (both append-only); consignments gain a planned departure."""

import django.db.models.deletion
from django.apps.registry import Apps
from django.conf import settings
from django.db import migrations, models
from django.db.backends.base.schema import BaseDatabaseSchemaEditor

from oneforone.core.db import append_only
from oneforone.shipments.deadline_rules import rule_rows


def seed_rules(apps: Apps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    DeadlineRule = apps.get_model("shipments", "DeadlineRule")
    DeadlineRule.objects.bulk_create(DeadlineRule(**row) for row in rule_rows())


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0003_api_key_scopes_and_rotation"),
        ("shipments", "0004_code_lists"),
        ("core", "0002_append_only"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="consignment",
            name="planned_departure",
            field=models.DateField(blank=True, null=True),
        ),
        migrations.CreateModel(
            name="DeadlineReminder",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "kind",
                    models.CharField(
                        choices=[
                            ("pre_shipment_information", "Pre-shipment information"),
                            ("receipt_confirmation", "Confirmation of receipt"),
                            ("completion_certificate", "Certificate of completed recovery"),
                            (
                                "completion_certificate_outer",
                                "Certificate of completed recovery (outer limit after receipt)",
                            ),
                            ("consent_expiry", "Consent expiry"),
                            ("guarantee_expiry", "Financial guarantee expiry"),
                            ("take_back", "Take-back after a failed shipment"),
                            ("change_answer", "Answer to a significant change"),
                        ],
                        max_length=32,
                    ),
                ),
                ("subject_key", models.CharField(max_length=80)),
                (
                    "stage",
                    models.CharField(
                        choices=[("due_soon", "due soon"), ("overdue", "overdue")], max_length=8
                    ),
                ),
                ("due_on", models.DateField()),
                ("recipients", models.JSONField(default=list)),
                ("email_subject", models.CharField(max_length=300)),
                ("email_body", models.TextField()),
                ("sent_at", models.DateTimeField()),
            ],
            options={
                "ordering": ["sent_at", "id"],
                "constraints": [
                    models.UniqueConstraint(
                        fields=("kind", "subject_key", "stage"), name="deadline_reminder_once"
                    ),
                    models.CheckConstraint(
                        condition=models.Q(("stage__in", ["due_soon", "overdue"])),
                        name="deadline_reminder_stage_known",
                    ),
                ],
            },
        ),
        migrations.CreateModel(
            name="DeadlineRule",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "kind",
                    models.CharField(
                        choices=[
                            ("pre_shipment_information", "Pre-shipment information"),
                            ("receipt_confirmation", "Confirmation of receipt"),
                            ("completion_certificate", "Certificate of completed recovery"),
                            (
                                "completion_certificate_outer",
                                "Certificate of completed recovery (outer limit after receipt)",
                            ),
                            ("consent_expiry", "Consent expiry"),
                            ("guarantee_expiry", "Financial guarantee expiry"),
                            ("take_back", "Take-back after a failed shipment"),
                            ("change_answer", "Answer to a significant change"),
                        ],
                        max_length=32,
                    ),
                ),
                ("period", models.PositiveIntegerField()),
                (
                    "unit",
                    models.CharField(
                        choices=[
                            ("working_days", "working days"),
                            ("calendar_days", "calendar days"),
                        ],
                        max_length=14,
                    ),
                ),
                (
                    "direction",
                    models.CharField(
                        choices=[("before", "before"), ("after", "after")], max_length=6
                    ),
                ),
                (
                    "calendar",
                    models.CharField(
                        choices=[
                            ("export", "country of export"),
                            ("import", "country of import"),
                            ("transit", "first country of transit"),
                            ("facility", "the facility's country"),
                        ],
                        max_length=8,
                    ),
                ),
                ("export_country", models.CharField(blank=True, max_length=2)),
                ("import_country", models.CharField(blank=True, max_length=2)),
                (
                    "operations",
                    models.CharField(
                        blank=True,
                        help_text="R codes of the facility, space separated, e.g. R12 R13",
                        max_length=40,
                    ),
                ),
                ("legal_source", models.CharField(max_length=300)),
                ("note", models.CharField(blank=True, max_length=300)),
                ("valid_from", models.DateField(blank=True, null=True)),
                ("valid_to", models.DateField(blank=True, null=True)),
            ],
            options={
                "ordering": [
                    "kind",
                    "export_country",
                    "import_country",
                    "operations",
                    "valid_from",
                ],
                "constraints": [
                    models.UniqueConstraint(
                        fields=(
                            "kind",
                            "export_country",
                            "import_country",
                            "operations",
                            "valid_from",
                        ),
                        name="deadline_rule_once_per_scope",
                        nulls_distinct=False,
                    ),
                    models.CheckConstraint(
                        condition=models.Q(
                            (
                                "kind__in",
                                [
                                    "pre_shipment_information",
                                    "receipt_confirmation",
                                    "completion_certificate",
                                    "completion_certificate_outer",
                                    "consent_expiry",
                                    "guarantee_expiry",
                                    "take_back",
                                    "change_answer",
                                ],
                            )
                        ),
                        name="deadline_rule_kind_known",
                    ),
                    models.CheckConstraint(
                        condition=models.Q(
                            ("unit__in", ["working_days", "calendar_days"]),
                            ("direction__in", ["before", "after"]),
                            ("calendar__in", ["export", "import", "transit", "facility"]),
                        ),
                        name="deadline_rule_choices_known",
                    ),
                    models.CheckConstraint(
                        condition=models.Q(
                            ("export_country__regex", "^([A-Z]{2})?$"),
                            ("import_country__regex", "^([A-Z]{2})?$"),
                        ),
                        name="deadline_rule_countries_iso",
                    ),
                    models.CheckConstraint(
                        condition=models.Q(("legal_source", ""), _negated=True),
                        name="deadline_rule_source_named",
                    ),
                    models.CheckConstraint(
                        condition=models.Q(
                            ("valid_from__isnull", True),
                            ("valid_to__isnull", True),
                            ("valid_to__gte", models.F("valid_from")),
                            _connector="OR",
                        ),
                        name="deadline_rule_validity_ordered",
                    ),
                ],
            },
        ),
        migrations.CreateModel(
            name="DeadlineAct",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "kind",
                    models.CharField(
                        choices=[
                            ("pre_shipment_information", "Pre-shipment information"),
                            ("receipt_confirmation", "Confirmation of receipt"),
                            ("completion_certificate", "Certificate of completed recovery"),
                            (
                                "completion_certificate_outer",
                                "Certificate of completed recovery (outer limit after receipt)",
                            ),
                            ("consent_expiry", "Consent expiry"),
                            ("guarantee_expiry", "Financial guarantee expiry"),
                            ("take_back", "Take-back after a failed shipment"),
                            ("change_answer", "Answer to a significant change"),
                        ],
                        max_length=32,
                    ),
                ),
                (
                    "subject_key",
                    models.CharField(help_text="the deadline's subject, e.g. c:12", max_length=80),
                ),
                ("done_on", models.DateField()),
                ("note", models.CharField(blank=True, max_length=300)),
                ("recorded_at", models.DateTimeField()),
                (
                    "consignment",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="deadline_acts",
                        to="shipments.consignment",
                    ),
                ),
                (
                    "notification",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="deadline_acts",
                        to="shipments.notification",
                    ),
                ),
                (
                    "organisation",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="accounts.organisation",
                    ),
                ),
                (
                    "recorded_by",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "ordering": ["recorded_at", "id"],
                "indexes": [
                    models.Index(fields=["kind", "subject_key"], name="deadline_act_subject")
                ],
                "constraints": [
                    models.CheckConstraint(
                        condition=models.Q(
                            ("consignment__isnull", False),
                            ("notification__isnull", False),
                            _connector="OR",
                        ),
                        name="deadline_act_has_subject",
                    ),
                    models.CheckConstraint(
                        condition=models.Q(
                            (
                                "kind__in",
                                [
                                    "pre_shipment_information",
                                    "receipt_confirmation",
                                    "completion_certificate",
                                    "completion_certificate_outer",
                                    "consent_expiry",
                                    "guarantee_expiry",
                                    "take_back",
                                    "change_answer",
                                ],
                            )
                        ),
                        name="deadline_act_kind_known",
                    ),
                ],
            },
        ),
        migrations.RunPython(seed_rules, migrations.RunPython.noop),
        append_only("shipments_deadlineact"),
        append_only("shipments_deadlinereminder"),
    ]
