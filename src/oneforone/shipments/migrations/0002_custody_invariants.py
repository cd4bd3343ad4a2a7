from django.db import migrations

from oneforone.core.db import append_only

CUSTODY = """
CREATE FUNCTION shipments_consignment_custody() RETURNS trigger AS $$
BEGIN
    IF NEW.state IS DISTINCT FROM OLD.state AND NOT (
        (OLD.state, NEW.state) IN (('draft', 'dispatched'), ('dispatched', 'in_transit'),
                                   ('in_transit', 'received'), ('received', 'treated'))) THEN
        RAISE EXCEPTION 'consignment % cannot go from % to %', OLD.reference, OLD.state, NEW.state
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    IF NEW.state IS DISTINCT FROM OLD.state AND NOT EXISTS (
        SELECT 1 FROM shipments_custodysignature s WHERE s.consignment_id = NEW.id
        AND s.step = CASE NEW.state WHEN 'dispatched' THEN 'dispatch' WHEN 'in_transit' THEN 'pickup'
                                    WHEN 'received' THEN 'reception' ELSE 'treatment' END) THEN
        RAISE EXCEPTION 'consignment % moves to % only with the signature of that step',
            OLD.reference, NEW.state USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    IF OLD.state <> 'draft' AND (NEW.reference, NEW.origin_hub_id, NEW.carrier_id, NEW.recycler_id,
        NEW.phones_dispatched, NEW.net_weight_kg_dispatched, NEW.container_number, NEW.created_at)
        IS DISTINCT FROM (OLD.reference, OLD.origin_hub_id, OLD.carrier_id, OLD.recycler_id,
        OLD.phones_dispatched, OLD.net_weight_kg_dispatched, OLD.container_number, OLD.created_at) THEN
        RAISE EXCEPTION 'consignment % was signed for; its sealed fields cannot change', OLD.reference
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER shipments_consignment_custody BEFORE UPDATE ON shipments_consignment
FOR EACH ROW EXECUTE FUNCTION shipments_consignment_custody();
CREATE TRIGGER shipments_consignment_no_delete BEFORE DELETE ON shipments_consignment
FOR EACH ROW WHEN (OLD.state <> 'draft') EXECUTE FUNCTION oneforone_refuse_change();
"""

REVERSE = """
DROP TRIGGER IF EXISTS shipments_consignment_no_delete ON shipments_consignment;
DROP TRIGGER IF EXISTS shipments_consignment_custody ON shipments_consignment;
DROP FUNCTION IF EXISTS shipments_consignment_custody();
"""


class Migration(migrations.Migration):
    dependencies = [("shipments", "0001_initial"), ("core", "0002_append_only")]

    operations = [
        migrations.RunSQL(CUSTODY, REVERSE),
        append_only("shipments_custodysignature"),
    ]
