from django.db import migrations

from oneforone.core.db import append_only

ISSUANCE_FROM_VERIFIED_SUPPLY = """
CREATE FUNCTION registry_batch_from_treatment() RETURNS trigger AS $$
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

CREATE TRIGGER registry_batch_from_treatment BEFORE INSERT ON registry_issuancebatch
FOR EACH ROW EXECUTE FUNCTION registry_batch_from_treatment();

CREATE FUNCTION registry_allocation_fits() RETURNS trigger AS $$
DECLARE
    owed bigint;
    given bigint;
BEGIN
    IF NOT EXISTS (SELECT 1 FROM registry_issuancebatch b
                   WHERE b.id = NEW.batch_id AND NEW.units <@ b.units) OR isempty(NEW.units) THEN
        RAISE EXCEPTION 'allocation % is not inside its batch', NEW.units
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    -- Lock the registration so concurrent allocations to it are counted one after the other.
    SELECT units_owed INTO owed FROM partners_registration WHERE id = NEW.registration_id FOR UPDATE;
    SELECT COALESCE(SUM(upper(units) - lower(units)), 0) INTO given
    FROM registry_allocation WHERE registration_id = NEW.registration_id;
    IF given + upper(NEW.units) - lower(NEW.units) > owed THEN
        RAISE EXCEPTION 'registration % owes % units; % allocated already, % more refused',
            NEW.registration_id, owed, given, upper(NEW.units) - lower(NEW.units)
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER registry_allocation_fits BEFORE INSERT ON registry_allocation
FOR EACH ROW EXECUTE FUNCTION registry_allocation_fits();
"""

REVERSE = """
DROP TRIGGER IF EXISTS registry_allocation_fits ON registry_allocation;
DROP FUNCTION IF EXISTS registry_allocation_fits();
DROP TRIGGER IF EXISTS registry_batch_from_treatment ON registry_issuancebatch;
DROP FUNCTION IF EXISTS registry_batch_from_treatment();
"""


class Migration(migrations.Migration):
    dependencies = [
        ("registry", "0001_initial"),
        ("recycling", "0002_append_only"),
        ("partners", "0001_initial"),
        ("core", "0002_append_only"),
    ]

    operations = [
        migrations.RunSQL(ISSUANCE_FROM_VERIFIED_SUPPLY, REVERSE),
        append_only("registry_issuancebatch"),
        append_only("registry_batchincome"),
        append_only("registry_allocation"),
        append_only("registry_certificate"),
        append_only("registry_certificatedocument"),
    ]
