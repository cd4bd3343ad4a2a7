from django.db import migrations

# Issue 6: a facility that partially refuses a shipment accepts fewer phones than it counted;
# units are issued for the accepted phones only, and never for a refused shipment.
ACCEPTED_ONLY = """
CREATE OR REPLACE FUNCTION registry_batch_from_treatment() RETURNS trigger AS $$
DECLARE
    accepted integer;
BEGIN
    SELECT r.counted_phones - r.refused_phones INTO accepted
    FROM recycling_treatmentcompletion t JOIN recycling_reception r ON r.id = t.reception_id
    WHERE t.id = NEW.treatment_id AND t.consignment_id = NEW.consignment_id
      AND r.decision <> 'refused';
    IF accepted IS NULL THEN
        RAISE EXCEPTION 'units are issued only for a treated consignment the facility accepted'
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    IF upper(NEW.units) - lower(NEW.units) <> accepted OR lower(NEW.units) < 1 THEN
        RAISE EXCEPTION 'batch % issues % units but the recycler counted and accepted % phones',
            NEW.units, upper(NEW.units) - lower(NEW.units), accepted
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
"""

COUNTED_ONLY = """
CREATE OR REPLACE FUNCTION registry_batch_from_treatment() RETURNS trigger AS $$
DECLARE
    counted integer;
BEGIN
    SELECT r.counted_phones INTO counted
    FROM recycling_treatmentcompletion t JOIN recycling_reception r ON r.id = t.reception_id
    WHERE t.id = NEW.treatment_id AND t.consignment_id = NEW.consignment_id;
    IF counted IS NULL THEN
        RAISE EXCEPTION 'units are issued only for a treated consignment'
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    IF upper(NEW.units) - lower(NEW.units) <> counted OR lower(NEW.units) < 1 THEN
        RAISE EXCEPTION 'batch % issues % units but the recycler counted % phones',
            NEW.units, upper(NEW.units) - lower(NEW.units), counted
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
"""


class Migration(migrations.Migration):
    dependencies = [
        ("registry", "0006_registration_never_over_allocated"),
        ("recycling", "0003_facility_decision"),
    ]

    operations = [migrations.RunSQL(ACCEPTED_ONLY, COUNTED_ONLY)]
