import django.db.models.deletion
import django.db.models.expressions
import django.db.models.functions.datetime
from django.conf import settings
from django.db import migrations, models

from oneforone.core.db import append_only

# Registrations made before programmes existed go into one programme per partner, marked as such.
MIGRATED_WORDING = (
    "Devices registered before programmes existed; the claim agreed in the partner's contract "
    "applies."
)


def programme_per_partner(apps, schema_editor):
    Registration = apps.get_model("partners", "Registration")
    Programme = apps.get_model("partners", "Programme")
    partners = Registration.objects.order_by().values_list("partner_id", flat=True).distinct()
    for partner_id in partners:
        first = Registration.objects.filter(partner_id=partner_id).order_by("created_at").first()
        programme = Programme.objects.create(
            partner_id=partner_id,
            code="registrations",
            name="Registrations before programmes",
            activation_mode="consumer_products",
            price_per_unit=0,
            currency="EUR",
            starts_on=first.created_at.date(),
            claim_wording=MIGRATED_WORDING,
            is_default=True,
            created_by_id=first.created_by_id,
        )
        Registration.objects.filter(partner_id=partner_id).update(programme=programme)


# A registration is made inside its programme's period, and a tender's registrations never
# cover more devices than its quota. One statement-level check per INSERT (imports add many
# rows at once); the programme row is locked first, so two concurrent registrations under one
# tender are counted one after the other.
FITS_PROGRAMME = """
CREATE FUNCTION partners_registrations_fit_programme() RETURNS trigger AS $$
DECLARE
    bad record;
BEGIN
    SELECT n.id, n.created_at, p.code, p.starts_on, p.ends_on INTO bad
    FROM new_rows n JOIN partners_programme p ON p.id = n.programme_id
    WHERE n.partner_id <> p.partner_id
       OR (n.created_at AT TIME ZONE 'UTC')::date < p.starts_on
       OR (n.created_at AT TIME ZONE 'UTC')::date > p.ends_on
    LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'registration % (%) is outside programme % (% to %)',
            bad.id, bad.created_at, bad.code, bad.starts_on, COALESCE(bad.ends_on::text, 'open')
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    PERFORM 1 FROM partners_programme
    WHERE quota IS NOT NULL AND id IN (SELECT programme_id FROM new_rows)
    ORDER BY id FOR UPDATE;
    SELECT p.code, p.quota, SUM(r.quantity) AS devices INTO bad
    FROM partners_programme p JOIN partners_registration r ON r.programme_id = p.id
    WHERE p.quota IS NOT NULL AND r.cancelled_at IS NULL
      AND p.id IN (SELECT programme_id FROM new_rows)
    GROUP BY p.id HAVING SUM(r.quantity) > p.quota
    LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'programme % has a quota of % devices; registrations would reach %',
            bad.code, bad.quota, bad.devices
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER partners_registrations_fit_programme
AFTER INSERT ON partners_registration
REFERENCING NEW TABLE AS new_rows
FOR EACH STATEMENT EXECUTE FUNCTION partners_registrations_fit_programme();
"""
FITS_PROGRAMME_REVERSE = """
DROP TRIGGER IF EXISTS partners_registrations_fit_programme ON partners_registration;
DROP FUNCTION IF EXISTS partners_registrations_fit_programme();
"""

# units_owed gains the cancellation: PostgreSQL cannot alter a generated column's expression, so
# the column is dropped and added again, with the registry's trigger that watches it.
DROP_OWED_WATCH = (
    "DROP TRIGGER IF EXISTS registry_registration_not_over_allocated ON partners_registration;"
)
ADD_OWED_WATCH = """
CREATE CONSTRAINT TRIGGER registry_registration_not_over_allocated
AFTER UPDATE ON partners_registration
DEFERRABLE INITIALLY DEFERRED
FOR EACH ROW WHEN (NEW.units_owed < OLD.units_owed)
EXECUTE FUNCTION registry_registration_not_over_allocated();
"""


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0001_initial"),
        ("partners", "0003_devices_and_conflicts"),
        ("registry", "0006_registration_never_over_allocated"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="Programme",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "code",
                    models.SlugField(
                        help_text="short name used in CSV files and the API", max_length=40
                    ),
                ),
                ("name", models.CharField(max_length=150)),
                (
                    "activation_mode",
                    models.CharField(
                        choices=[
                            ("consumer_products", "Consumer products"),
                            (
                                "b2b_service",
                                "B2B service",
                            ),
                            (
                                "public_tender",
                                "Public tender",
                            ),
                            ("internal", "Internal initiative"),
                        ],
                        max_length=20,
                    ),
                ),
                ("price_per_unit", models.DecimalField(decimal_places=4, max_digits=12)),
                ("currency", models.CharField(help_text="ISO 4217", max_length=3)),
                ("starts_on", models.DateField()),
                ("ends_on", models.DateField(blank=True, help_text="empty: open-ended", null=True)),
                (
                    "claim_wording",
                    models.TextField(
                        help_text="the claim the partner may publish for this programme, as agreed"
                    ),
                ),
                ("contracting_authority", models.CharField(blank=True, max_length=200)),
                ("tender_reference", models.CharField(blank=True, max_length=100)),
                (
                    "quota",
                    models.PositiveIntegerField(
                        blank=True,
                        help_text="tenders: devices the contract covers at most",
                        null=True,
                    ),
                ),
                (
                    "is_default",
                    models.BooleanField(
                        default=False, help_text="used for registrations that name no programme"
                    ),
                ),
                (
                    "created_at",
                    models.DateTimeField(db_default=django.db.models.functions.datetime.Now()),
                ),
            ],
            options={
                "ordering": ["partner", "-starts_on", "code"],
            },
        ),
        migrations.RemoveConstraint(
            model_name="conflict",
            name="conflict_resolved_iff_closed",
        ),
        migrations.RemoveConstraint(
            model_name="device",
            name="device_status_known",
        ),
        migrations.AddField(
            model_name="registration",
            name="cancel_reason",
            field=models.TextField(blank=True),
        ),
        migrations.AddField(
            model_name="registration",
            name="cancelled_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="registration",
            name="cancelled_by",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.AlterField(
            model_name="conflict",
            name="status",
            field=models.CharField(
                choices=[
                    ("open", "open"),
                    ("kept_first", "first claim kept"),
                    ("transferred", "claim transferred"),
                    ("rejected", "both claims rejected"),
                    ("cancelled", "registration cancelled"),
                ],
                default="open",
                max_length=12,
            ),
        ),
        migrations.AlterField(
            model_name="device",
            name="status",
            field=models.CharField(
                choices=[
                    ("claimed", "claimed"),
                    ("held", "held"),
                    ("declined", "declined"),
                    ("withdrawn", "withdrawn"),
                    ("cancelled", "cancelled"),
                ],
                default="claimed",
                max_length=10,
            ),
        ),
        migrations.RunSQL(DROP_OWED_WATCH, ADD_OWED_WATCH),
        migrations.RemoveField(model_name="registration", name="units_owed"),
        migrations.AddField(
            model_name="registration",
            name="units_owed",
            field=models.GeneratedField(
                db_persist=True,
                expression=models.Case(
                    models.When(
                        cancelled_at__isnull=True,
                        then=django.db.models.expressions.CombinedExpression(
                            django.db.models.expressions.CombinedExpression(
                                models.F("quantity"), "-", models.F("devices_excluded")
                            ),
                            "*",
                            models.F("units_per_device"),
                        ),
                    ),
                    default=models.Value(0),
                ),
                output_field=models.BigIntegerField(),
            ),
        ),
        migrations.RunSQL(ADD_OWED_WATCH, DROP_OWED_WATCH),
        migrations.AddConstraint(
            model_name="conflict",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(
                        ("reason", ""),
                        ("resolved_at__isnull", True),
                        ("resolved_by__isnull", True),
                        ("status", "open"),
                    ),
                    models.Q(
                        ("resolved_at__isnull", False),
                        ("resolved_by__isnull", False),
                        ("status__in", ["kept_first", "transferred", "rejected", "cancelled"]),
                        models.Q(("reason", ""), _negated=True),
                    ),
                    _connector="OR",
                ),
                name="conflict_resolved_iff_closed",
            ),
        ),
        migrations.AddConstraint(
            model_name="device",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("status__in", ["claimed", "held", "declined", "withdrawn", "cancelled"])
                ),
                name="device_status_known",
            ),
        ),
        migrations.AddField(
            model_name="programme",
            name="created_by",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.AddField(
            model_name="programme",
            name="partner",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="programmes",
                to="accounts.organisation",
            ),
        ),
        migrations.AddField(
            model_name="registration",
            name="programme",
            field=models.ForeignKey(
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="registrations",
                to="partners.programme",
            ),
        ),
        migrations.RunPython(programme_per_partner, migrations.RunPython.noop),
        # The foreign keys' deferred checks run now: the table is altered next.
        migrations.RunSQL("SET CONSTRAINTS ALL IMMEDIATE", migrations.RunSQL.noop),
        migrations.AlterField(
            model_name="registration",
            name="programme",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="registrations",
                to="partners.programme",
            ),
        ),
        migrations.RunSQL(FITS_PROGRAMME, FITS_PROGRAMME_REVERSE),
        # Category versions are data: a new version is a new row, never an edit.
        append_only("partners_devicecategory"),
        migrations.AddConstraint(
            model_name="registration",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(
                        ("cancel_reason", ""),
                        ("cancelled_at__isnull", True),
                        ("cancelled_by__isnull", True),
                    ),
                    models.Q(
                        ("cancelled_at__isnull", False),
                        ("cancelled_by__isnull", False),
                        models.Q(("cancel_reason", ""), _negated=True),
                    ),
                    _connector="OR",
                ),
                name="registration_cancelled_with_reason",
            ),
        ),
        migrations.AddConstraint(
            model_name="programme",
            constraint=models.UniqueConstraint(
                fields=("partner", "code"), name="programme_code_once"
            ),
        ),
        migrations.AddConstraint(
            model_name="programme",
            constraint=models.UniqueConstraint(
                condition=models.Q(("is_default", True)),
                fields=("partner",),
                name="programme_one_default",
            ),
        ),
        migrations.AddConstraint(
            model_name="programme",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    (
                        "activation_mode__in",
                        ["consumer_products", "b2b_service", "public_tender", "internal"],
                    )
                ),
                name="programme_activation_mode_known",
            ),
        ),
        migrations.AddConstraint(
            model_name="programme",
            constraint=models.CheckConstraint(
                condition=models.Q(("price_per_unit__gte", 0)), name="programme_price_not_negative"
            ),
        ),
        migrations.AddConstraint(
            model_name="programme",
            constraint=models.CheckConstraint(
                condition=models.Q(("currency__regex", "^[A-Z]{3}$")), name="programme_currency_iso"
            ),
        ),
        migrations.AddConstraint(
            model_name="programme",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("ends_on__isnull", True),
                    ("ends_on__gte", models.F("starts_on")),
                    _connector="OR",
                ),
                name="programme_ends_after_start",
            ),
        ),
        migrations.AddConstraint(
            model_name="programme",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(
                        ("activation_mode", "public_tender"),
                        ("quota__gte", 1),
                        models.Q(("contracting_authority", ""), _negated=True),
                        models.Q(("tender_reference", ""), _negated=True),
                    ),
                    models.Q(
                        models.Q(("activation_mode", "public_tender"), _negated=True),
                        ("contracting_authority", ""),
                        ("quota__isnull", True),
                        ("tender_reference", ""),
                    ),
                    _connector="OR",
                ),
                name="programme_tender_fields",
            ),
        ),
        migrations.AddConstraint(
            model_name="programme",
            constraint=models.CheckConstraint(
                condition=models.Q(("claim_wording", ""), _negated=True),
                name="programme_claim_wording_set",
            ),
        ),
    ]
