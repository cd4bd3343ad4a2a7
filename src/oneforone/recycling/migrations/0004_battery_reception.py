"""Battery consignments are received by weight and packages: the reception carries its stream,
the phone count is empty for batteries, and a trigger keeps the stream the consignment's."""

from django.conf import settings
from django.db import migrations, models

STREAM_MATCHES = """
CREATE FUNCTION recycling_reception_stream_matches() RETURNS trigger AS $$
DECLARE
    carried text;
BEGIN
    SELECT c.stream INTO carried FROM shipments_consignment c WHERE c.id = NEW.consignment_id;
    IF carried IS DISTINCT FROM NEW.stream THEN
        RAISE EXCEPTION 'reception_stream_is_consignments: reception of % for a consignment of %',
            NEW.stream, carried USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER recycling_reception_stream_matches BEFORE INSERT ON recycling_reception
    FOR EACH ROW EXECUTE FUNCTION recycling_reception_stream_matches();
"""
DROP_STREAM_MATCHES = """
DROP TRIGGER IF EXISTS recycling_reception_stream_matches ON recycling_reception;
DROP FUNCTION IF EXISTS recycling_reception_stream_matches();
"""


class Migration(migrations.Migration):
    dependencies = [
        ("recycling", "0003_facility_decision"),
        ("shipments", "0006_merge_issue6"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name="reception",
            name="reception_count_positive",
        ),
        migrations.AddField(
            model_name="reception",
            name="packages",
            field=models.PositiveIntegerField(
                blank=True, help_text="packages received; required for batteries", null=True
            ),
        ),
        migrations.AddField(
            model_name="reception",
            name="stream",
            field=models.CharField(
                choices=[
                    ("phones", "Discarded phones without batteries"),
                    ("batteries", "Batteries removed from phones"),
                ],
                default="phones",
                help_text="the consignment's stream (a trigger keeps them equal)",
                max_length=20,
            ),
        ),
        migrations.AlterField(
            model_name="reception",
            name="counted_phones",
            field=models.PositiveIntegerField(
                blank=True, help_text="phones only; empty for batteries", null=True
            ),
        ),
        migrations.AddConstraint(
            model_name="reception",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(
                        ("counted_phones__gte", 1),
                        ("counted_phones__isnull", False),
                        ("stream", "phones"),
                    ),
                    models.Q(
                        ("counted_phones__isnull", True),
                        ("packages__gte", 1),
                        ("packages__isnull", False),
                        ("refused_phones", 0),
                        ("stream", "batteries"),
                    ),
                    _connector="OR",
                ),
                name="reception_counts_per_stream",
            ),
        ),
        migrations.RunSQL(STREAM_MATCHES, DROP_STREAM_MATCHES),
    ]
