from django.db import migrations

LOT_SUMS = """
CREATE FUNCTION collection_lot_matches_intakes() RETURNS trigger AS $$
DECLARE
    lot collection_lot%ROWTYPE;
    intake_phones bigint;
    intake_weight numeric;
BEGIN
    SELECT * INTO lot FROM collection_lot WHERE id = NEW.id;
    SELECT COALESCE(SUM(phones), 0), COALESCE(SUM(net_weight_kg), 0)
      INTO intake_phones, intake_weight FROM collection_intake WHERE lot_id = NEW.id;
    IF lot.phones <> intake_phones OR lot.net_weight_kg <> intake_weight THEN
        RAISE EXCEPTION 'lot % says % phones / % kg but its intakes sum to % / %',
            lot.seal_number, lot.phones, lot.net_weight_kg, intake_phones, intake_weight
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE CONSTRAINT TRIGGER collection_lot_sums
AFTER INSERT ON collection_lot DEFERRABLE INITIALLY DEFERRED
FOR EACH ROW EXECUTE FUNCTION collection_lot_matches_intakes();

CREATE FUNCTION collection_lot_sealed() RETURNS trigger AS $$
BEGIN
    IF (NEW.hub_id, NEW.seal_number, NEW.phones, NEW.net_weight_kg, NEW.sealed_at, NEW.sealed_by_id)
       IS DISTINCT FROM
       (OLD.hub_id, OLD.seal_number, OLD.phones, OLD.net_weight_kg, OLD.sealed_at, OLD.sealed_by_id) THEN
        RAISE EXCEPTION 'lot % is sealed; record a correction instead', OLD.seal_number
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    IF OLD.consignment_id IS NOT NULL AND NEW.consignment_id IS DISTINCT FROM OLD.consignment_id
       AND (SELECT state FROM shipments_consignment WHERE id = OLD.consignment_id) <> 'draft' THEN
        RAISE EXCEPTION 'lot % travels in a dispatched consignment', OLD.seal_number
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER collection_lot_sealed BEFORE UPDATE ON collection_lot
FOR EACH ROW EXECUTE FUNCTION collection_lot_sealed();
CREATE TRIGGER collection_lot_no_delete BEFORE DELETE ON collection_lot
FOR EACH ROW EXECUTE FUNCTION oneforone_refuse_change();

CREATE FUNCTION collection_intake_packed() RETURNS trigger AS $$
BEGIN
    IF OLD.lot_id IS NOT NULL THEN
        RAISE EXCEPTION 'intake % is packed in a sealed lot and cannot change', OLD.id
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    IF TG_OP = 'UPDATE' AND (NEW.hub_id, NEW.collector_id, NEW.collected_on, NEW.phones,
        NEW.net_weight_kg, NEW.price_per_phone, NEW.currency)
        IS DISTINCT FROM (OLD.hub_id, OLD.collector_id, OLD.collected_on, OLD.phones,
        OLD.net_weight_kg, OLD.price_per_phone, OLD.currency) THEN
        RAISE EXCEPTION 'intake % is a payment record; record a correction instead', OLD.id
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'intake % is a payment record and cannot be deleted', OLD.id
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER collection_intake_packed BEFORE UPDATE OR DELETE ON collection_intake
FOR EACH ROW EXECUTE FUNCTION collection_intake_packed();
"""

REVERSE = """
DROP TRIGGER IF EXISTS collection_intake_packed ON collection_intake;
DROP FUNCTION IF EXISTS collection_intake_packed();
DROP TRIGGER IF EXISTS collection_lot_no_delete ON collection_lot;
DROP TRIGGER IF EXISTS collection_lot_sealed ON collection_lot;
DROP FUNCTION IF EXISTS collection_lot_sealed();
DROP TRIGGER IF EXISTS collection_lot_sums ON collection_lot;
DROP FUNCTION IF EXISTS collection_lot_matches_intakes();
"""


class Migration(migrations.Migration):
    dependencies = [
        ("collection", "0002_initial"),
        ("shipments", "0001_initial"),
        ("core", "0002_append_only"),
    ]

    operations = [migrations.RunSQL(LOT_SUMS, REVERSE)]
