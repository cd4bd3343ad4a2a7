"""Documents: attachments are never updated, and notifications, movement documents and
attachments cannot be deleted before completion plus the retention period.

The period is the session's `oneforone.document_retention_years` (every Django connection sets
it from ONEFORONE_DOCUMENT_RETENTION_YEARS), never less than the legal five years; a session that
has not set it (psql, another program) gets the five years.
"""

from django.db import migrations

RETENTION = """
CREATE FUNCTION shipments_retention_years() RETURNS integer AS $$
    SELECT GREATEST(5, COALESCE(
        NULLIF(current_setting('oneforone.document_retention_years', true), '')::integer, 5))
$$ LANGUAGE sql STABLE;

-- The day the last consignment under a notification was treated; NULL while one is untreated;
-- the last departure for a notification that never moved anything.
CREATE FUNCTION shipments_notification_completed_on(notification bigint) RETURNS date AS $$
    SELECT CASE
        WHEN EXISTS (
            SELECT 1 FROM shipments_consignment c
            LEFT JOIN recycling_treatmentcompletion t ON t.consignment_id = c.id
            WHERE c.notification_id = notification AND t.id IS NULL) THEN NULL
        WHEN EXISTS (SELECT 1 FROM shipments_consignment c WHERE c.notification_id = notification)
            THEN (SELECT max(t.completed_on) FROM shipments_consignment c
                  JOIN recycling_treatmentcompletion t ON t.consignment_id = c.id
                  WHERE c.notification_id = notification)
        ELSE (SELECT n.last_departure FROM shipments_notification n WHERE n.id = notification)
    END
$$ LANGUAGE sql STABLE;

CREATE FUNCTION shipments_movement_completed_on(document bigint) RETURNS date AS $$
    SELECT t.completed_on FROM shipments_movementdocument m
    JOIN recycling_treatmentcompletion t ON t.consignment_id = m.consignment_id
    WHERE m.id = document
$$ LANGUAGE sql STABLE;

CREATE FUNCTION shipments_refuse_early_delete(what text, completed date) RETURNS void AS $$
BEGIN
    IF completed IS NULL THEN
        RAISE EXCEPTION '% is kept: its shipments are not all treated yet', what
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    IF current_date < (completed + make_interval(years => shipments_retention_years()))::date THEN
        RAISE EXCEPTION '% is kept until % (completed %, kept % years)', what,
            (completed + make_interval(years => shipments_retention_years()))::date, completed,
            shipments_retention_years() USING ERRCODE = 'integrity_constraint_violation';
    END IF;
END;
$$ LANGUAGE plpgsql;

CREATE FUNCTION shipments_notification_retention() RETURNS trigger AS $$
BEGIN
    PERFORM shipments_refuse_early_delete('notification ' || OLD.number,
        shipments_notification_completed_on(OLD.id));
    RETURN OLD;
END;
$$ LANGUAGE plpgsql;

CREATE FUNCTION shipments_movementdocument_retention() RETURNS trigger AS $$
BEGIN
    PERFORM shipments_refuse_early_delete('movement document ' || OLD.serial || ' of notification '
        || (SELECT number FROM shipments_notification WHERE id = OLD.notification_id),
        shipments_movement_completed_on(OLD.id));
    RETURN OLD;
END;
$$ LANGUAGE plpgsql;

CREATE FUNCTION shipments_attachment_retention() RETURNS trigger AS $$
BEGIN
    PERFORM shipments_refuse_early_delete('attachment ' || OLD.sha256, CASE
        WHEN OLD.movement_document_id IS NOT NULL
            THEN shipments_movement_completed_on(OLD.movement_document_id)
        ELSE shipments_notification_completed_on(OLD.notification_id) END);
    RETURN OLD;
END;
$$ LANGUAGE plpgsql;

-- A consignment that left the hub stays linked to its notification until the notification's
-- retention ends: unlinking it first would make the notification look complete earlier.
CREATE FUNCTION shipments_consignment_keeps_notification() RETURNS trigger AS $$
BEGIN
    PERFORM shipments_refuse_early_delete(
        'the link of consignment ' || OLD.reference || ' to its notification',
        shipments_notification_completed_on(OLD.notification_id));
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER shipments_notification_retention BEFORE DELETE ON shipments_notification
FOR EACH ROW EXECUTE FUNCTION shipments_notification_retention();
CREATE TRIGGER shipments_movementdocument_retention BEFORE DELETE ON shipments_movementdocument
FOR EACH ROW EXECUTE FUNCTION shipments_movementdocument_retention();
CREATE TRIGGER shipments_attachment_retention BEFORE DELETE ON shipments_attachment
FOR EACH ROW EXECUTE FUNCTION shipments_attachment_retention();
CREATE TRIGGER shipments_consignment_keeps_notification BEFORE UPDATE OF notification_id
ON shipments_consignment FOR EACH ROW
WHEN (OLD.state <> 'draft' AND OLD.notification_id IS NOT NULL
      AND NEW.notification_id IS DISTINCT FROM OLD.notification_id)
EXECUTE FUNCTION shipments_consignment_keeps_notification();
"""

REVERSE = """
DROP TRIGGER IF EXISTS shipments_consignment_keeps_notification ON shipments_consignment;
DROP TRIGGER IF EXISTS shipments_attachment_retention ON shipments_attachment;
DROP TRIGGER IF EXISTS shipments_movementdocument_retention ON shipments_movementdocument;
DROP TRIGGER IF EXISTS shipments_notification_retention ON shipments_notification;
DROP FUNCTION IF EXISTS shipments_consignment_keeps_notification();
DROP FUNCTION IF EXISTS shipments_attachment_retention();
DROP FUNCTION IF EXISTS shipments_movementdocument_retention();
DROP FUNCTION IF EXISTS shipments_notification_retention();
DROP FUNCTION IF EXISTS shipments_refuse_early_delete(text, date);
DROP FUNCTION IF EXISTS shipments_movement_completed_on(bigint);
DROP FUNCTION IF EXISTS shipments_notification_completed_on(bigint);
DROP FUNCTION IF EXISTS shipments_retention_years();
"""

# Attachments are evidence: a row is never updated (a new scan is a new attachment).
ATTACHMENT_NEVER_UPDATED = """
CREATE TRIGGER shipments_attachment_never_updated BEFORE UPDATE ON shipments_attachment
FOR EACH ROW EXECUTE FUNCTION oneforone_refuse_change();
"""


class Migration(migrations.Migration):
    dependencies = [
        ("shipments", "0004_code_lists"),
        ("recycling", "0003_facility_decision"),
    ]

    operations = [
        migrations.RunSQL(RETENTION, REVERSE),
        migrations.RunSQL(
            ATTACHMENT_NEVER_UPDATED,
            "DROP TRIGGER IF EXISTS shipments_attachment_never_updated ON shipments_attachment;",
        ),
    ]
