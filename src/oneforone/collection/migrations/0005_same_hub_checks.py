from django.db import migrations

SAME_HUB = """
CREATE FUNCTION collection_intake_same_hub() RETURNS trigger AS $$
BEGIN
    IF (SELECT hub_id FROM collection_collector WHERE id = NEW.collector_id) <> NEW.hub_id THEN
        RAISE EXCEPTION 'collector % belongs to another hub', NEW.collector_id
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    IF (SELECT currency FROM collection_hub WHERE id = NEW.hub_id) <> NEW.currency THEN
        RAISE EXCEPTION 'hub % pays collectors in another currency than %', NEW.hub_id, NEW.currency
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    IF NEW.lot_id IS NOT NULL
       AND (SELECT hub_id FROM collection_lot WHERE id = NEW.lot_id) <> NEW.hub_id THEN
        RAISE EXCEPTION 'intake % cannot be packed in a lot of another hub', NEW.id
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER collection_intake_same_hub BEFORE INSERT OR UPDATE ON collection_intake
FOR EACH ROW EXECUTE FUNCTION collection_intake_same_hub();

CREATE FUNCTION collection_lot_same_hub() RETURNS trigger AS $$
BEGIN
    IF NEW.consignment_id IS NOT NULL AND (SELECT origin_hub_id FROM shipments_consignment
                                           WHERE id = NEW.consignment_id) <> NEW.hub_id THEN
        RAISE EXCEPTION 'lot % cannot travel in a consignment from another hub', NEW.seal_number
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER collection_lot_same_hub BEFORE INSERT OR UPDATE ON collection_lot
FOR EACH ROW EXECUTE FUNCTION collection_lot_same_hub();
"""

REVERSE = """
DROP TRIGGER IF EXISTS collection_lot_same_hub ON collection_lot;
DROP FUNCTION IF EXISTS collection_lot_same_hub();
DROP TRIGGER IF EXISTS collection_intake_same_hub ON collection_intake;
DROP FUNCTION IF EXISTS collection_intake_same_hub();
"""


class Migration(migrations.Migration):
    dependencies = [("collection", "0004_living_wage_benchmarks"), ("shipments", "0001_initial")]

    operations = [migrations.RunSQL(SAME_HUB, REVERSE)]
