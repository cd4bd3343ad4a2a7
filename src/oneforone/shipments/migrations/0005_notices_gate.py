from django.db import migrations, models

from oneforone.core.db import append_only

# A consent belongs to a stop of its own notification's route (the action checks it too; the
# database refuses a row written around it).
CONSENT_STOP = """
CREATE FUNCTION shipments_consent_stop_of_notification() RETURNS trigger AS $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM shipments_routestop r
                   WHERE r.id = NEW.route_stop_id AND r.notification_id = NEW.notification_id) THEN
        RAISE EXCEPTION 'a consent must be for a stop of its own notification''s route'
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER shipments_consent_stop_of_notification BEFORE INSERT ON shipments_consent
FOR EACH ROW EXECUTE FUNCTION shipments_consent_stop_of_notification();
"""

CONSENT_STOP_REVERSE = """
DROP TRIGGER IF EXISTS shipments_consent_stop_of_notification ON shipments_consent;
DROP FUNCTION IF EXISTS shipments_consent_stop_of_notification();
"""


class Migration(migrations.Migration):
    dependencies = [("shipments", "0004_code_lists")]

    operations = [
        migrations.AddField(
            model_name="notification",
            name="acknowledged_on",
            field=models.DateField(blank=True, null=True),
        ),
        # Consents are append-only: a new decision of an authority supersedes the one before.
        append_only("shipments_consent"),
        migrations.RunSQL(CONSENT_STOP, CONSENT_STOP_REVERSE),
    ]
