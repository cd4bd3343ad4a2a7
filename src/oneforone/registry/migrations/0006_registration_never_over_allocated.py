from django.db import migrations

# A registration can come to owe fewer units after it was allocated (a device claim withdrawn by
# the operator). The registry gives the surplus back in the same transaction; this deferred check
# makes sure, at commit, that no registration is left holding more active units than it owes.
NEVER_OVER_ALLOCATED = """
CREATE FUNCTION registry_registration_not_over_allocated() RETURNS trigger AS $$
DECLARE
    owed bigint;
    held bigint;
BEGIN
    SELECT units_owed INTO owed FROM partners_registration WHERE id = NEW.id;
    SELECT COALESCE(SUM(quantity), 0) INTO held
    FROM registry_allocation WHERE registration_id = NEW.id AND revoked_at IS NULL;
    IF held > owed THEN
        RAISE EXCEPTION 'registration % owes % units but holds %: release the surplus first',
            NEW.id, owed, held
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE CONSTRAINT TRIGGER registry_registration_not_over_allocated
AFTER UPDATE ON partners_registration
DEFERRABLE INITIALLY DEFERRED
FOR EACH ROW WHEN (NEW.units_owed < OLD.units_owed)
EXECUTE FUNCTION registry_registration_not_over_allocated();
"""

REVERSE = """
DROP TRIGGER IF EXISTS registry_registration_not_over_allocated ON partners_registration;
DROP FUNCTION IF EXISTS registry_registration_not_over_allocated();
"""


class Migration(migrations.Migration):
    dependencies = [
        ("registry", "0005_drop_duplicate_batch_index"),
        ("partners", "0003_devices_and_conflicts"),
    ]

    operations = [migrations.RunSQL(NEVER_OVER_ALLOCATED, REVERSE)]
