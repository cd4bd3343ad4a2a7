"""The collection network's invariants, in the database.

- Countries: seeded with those the service collects in (DOMAIN.md section 1); a hub's country
  must be one of them.
- Lots: a battery lot's count and weight are the sums of its intakes' batteries.
- Intakes: a record can be edited (by a higher revision from the hub device) only while it is
  neither packed nor paid; a reversing record carries the negated figures of the one it cancels;
  nothing is packed into a lot that has been dispatched.
- Payments: append-only; a reversal negates the payment it names; what is paid for an intake
  never exceeds its amount nor goes below zero.
- Price caps: the periods of one country do not overlap.
- Access log of personal data: append-only.
- Dispatch: a consignment whose lots, or the intakes packed in them, carry an open flag cannot
  leave the draft state.
"""

from django.db import migrations

from oneforone.collection.countries import COUNTRIES


def add_countries(apps, schema_editor):
    Country = apps.get_model("collection", "Country")
    Hub = apps.get_model("collection", "Hub")
    for code, name, currency, timezone in COUNTRIES:
        Country.objects.get_or_create(
            code=code, defaults={"name": name, "currency": currency, "timezone": timezone}
        )
    for code in Hub.objects.values_list("country", flat=True).distinct():
        Country.objects.get_or_create(
            code=code, defaults={"name": code, "currency": "XXX", "timezone": "UTC"}
        )


INVARIANTS = """
ALTER TABLE collection_hub ADD CONSTRAINT collection_hub_country_known
    FOREIGN KEY (country) REFERENCES collection_country (code) DEFERRABLE INITIALLY IMMEDIATE;

CREATE OR REPLACE FUNCTION collection_lot_matches_intakes() RETURNS trigger AS $$
DECLARE
    lot collection_lot%ROWTYPE;
    packed_count bigint;
    packed_weight numeric;
BEGIN
    SELECT * INTO lot FROM collection_lot WHERE id = NEW.id;
    IF lot.kind = 'batteries' THEN
        SELECT COALESCE(SUM(batteries_removed), 0), COALESCE(SUM(battery_weight_kg), 0)
          INTO packed_count, packed_weight FROM collection_intake WHERE battery_lot_id = NEW.id;
        IF lot.batteries <> packed_count OR lot.net_weight_kg <> packed_weight THEN
            RAISE EXCEPTION 'battery lot % says % batteries / % kg but its intakes sum to % / %',
                lot.seal_number, lot.batteries, lot.net_weight_kg, packed_count, packed_weight
                USING ERRCODE = 'check_violation';
        END IF;
        RETURN NULL;
    END IF;
    SELECT COALESCE(SUM(phones), 0), COALESCE(SUM(net_weight_kg), 0)
      INTO packed_count, packed_weight FROM collection_intake WHERE lot_id = NEW.id;
    IF lot.phones <> packed_count OR lot.net_weight_kg <> packed_weight THEN
        RAISE EXCEPTION 'lot % says % phones / % kg but its intakes sum to % / %',
            lot.seal_number, lot.phones, lot.net_weight_kg, packed_count, packed_weight
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE OR REPLACE FUNCTION collection_lot_sealed() RETURNS trigger AS $$
BEGIN
    IF (NEW.hub_id, NEW.seal_number, NEW.kind, NEW.phones, NEW.batteries, NEW.net_weight_kg,
        NEW.sealed_at, NEW.sealed_by_id)
       IS DISTINCT FROM
       (OLD.hub_id, OLD.seal_number, OLD.kind, OLD.phones, OLD.batteries, OLD.net_weight_kg,
        OLD.sealed_at, OLD.sealed_by_id) THEN
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

CREATE OR REPLACE FUNCTION collection_intake_packed() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'intake % is a purchase record and cannot be deleted; record a reversal',
            OLD.id USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    IF (OLD.lot_id IS NOT NULL AND NEW.lot_id IS DISTINCT FROM OLD.lot_id)
       OR (OLD.battery_lot_id IS NOT NULL AND NEW.battery_lot_id IS DISTINCT FROM OLD.battery_lot_id)
    THEN
        RAISE EXCEPTION 'intake % is packed in a sealed lot and cannot move', OLD.id
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    IF (NEW.hub_id, NEW.collector_id, NEW.client_uuid, NEW.collected_on, NEW.collected_at,
        NEW.phones, NEW.net_weight_kg, NEW.batteries_removed, NEW.battery_weight_kg,
        NEW.condition, NEW.price_per_phone, NEW.currency, NEW.latitude, NEW.longitude,
        NEW.gps_accuracy_m, NEW.reverses_id, NEW.note, NEW.revision)
       IS DISTINCT FROM
       (OLD.hub_id, OLD.collector_id, OLD.client_uuid, OLD.collected_on, OLD.collected_at,
        OLD.phones, OLD.net_weight_kg, OLD.batteries_removed, OLD.battery_weight_kg,
        OLD.condition, OLD.price_per_phone, OLD.currency, OLD.latitude, OLD.longitude,
        OLD.gps_accuracy_m, OLD.reverses_id, OLD.note, OLD.revision) THEN
        IF OLD.lot_id IS NOT NULL OR OLD.battery_lot_id IS NOT NULL THEN
            RAISE EXCEPTION 'intake % is packed in a sealed lot; record a reversal instead', OLD.id
                USING ERRCODE = 'integrity_constraint_violation';
        END IF;
        IF EXISTS (SELECT 1 FROM collection_payment WHERE intake_id = OLD.id) THEN
            RAISE EXCEPTION 'intake % has been paid; record a reversal instead', OLD.id
                USING ERRCODE = 'integrity_constraint_violation';
        END IF;
        IF OLD.reverses_id IS NOT NULL OR NEW.reverses_id IS DISTINCT FROM OLD.reverses_id
           OR EXISTS (SELECT 1 FROM collection_intake WHERE reverses_id = OLD.id) THEN
            RAISE EXCEPTION 'intake % is part of a reversal and cannot change', OLD.id
                USING ERRCODE = 'integrity_constraint_violation';
        END IF;
        IF NEW.revision <= OLD.revision OR NEW.client_uuid <> OLD.client_uuid THEN
            RAISE EXCEPTION 'an edit of intake % needs a higher revision than %', OLD.id,
                OLD.revision USING ERRCODE = 'integrity_constraint_violation';
        END IF;
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;

CREATE FUNCTION collection_intake_reversal_and_lots() RETURNS trigger AS $$
DECLARE
    original collection_intake%ROWTYPE;
BEGIN
    IF TG_OP = 'INSERT' AND NEW.reverses_id IS NOT NULL THEN
        SELECT * INTO original FROM collection_intake WHERE id = NEW.reverses_id FOR UPDATE;
        IF original.reverses_id IS NOT NULL THEN
            RAISE EXCEPTION 'intake % is itself a reversal; it cannot be reversed', original.id
                USING ERRCODE = 'integrity_constraint_violation';
        END IF;
        IF (NEW.hub_id, NEW.collector_id, NEW.phones, NEW.net_weight_kg, NEW.batteries_removed,
            NEW.battery_weight_kg, NEW.price_per_phone, NEW.currency, NEW.lot_id, NEW.battery_lot_id)
           IS DISTINCT FROM
           (original.hub_id, original.collector_id, -original.phones, -original.net_weight_kg,
            -original.batteries_removed, -original.battery_weight_kg, original.price_per_phone,
            original.currency, original.lot_id, original.battery_lot_id) THEN
            RAISE EXCEPTION 'a reversal of intake % must negate its figures and sit in its lots',
                original.id USING ERRCODE = 'integrity_constraint_violation';
        END IF;
    END IF;
    IF (NEW.lot_id IS NOT NULL AND (TG_OP = 'INSERT' OR OLD.lot_id IS NULL)
        AND EXISTS (SELECT 1 FROM collection_lot l JOIN shipments_consignment c
                    ON c.id = l.consignment_id WHERE l.id = NEW.lot_id AND c.state <> 'draft'))
       OR (NEW.battery_lot_id IS NOT NULL AND (TG_OP = 'INSERT' OR OLD.battery_lot_id IS NULL)
        AND EXISTS (SELECT 1 FROM collection_lot l JOIN shipments_consignment c
                    ON c.id = l.consignment_id WHERE l.id = NEW.battery_lot_id
                    AND c.state <> 'draft')) THEN
        RAISE EXCEPTION 'intake % cannot be packed into a lot that has been dispatched', NEW.id
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    IF NEW.lot_id IS NOT NULL
       AND (SELECT kind FROM collection_lot WHERE id = NEW.lot_id) <> 'phones' THEN
        RAISE EXCEPTION 'intake % puts its phones into a battery lot', NEW.id
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    IF NEW.battery_lot_id IS NOT NULL
       AND (SELECT kind FROM collection_lot WHERE id = NEW.battery_lot_id) <> 'batteries' THEN
        RAISE EXCEPTION 'intake % puts its batteries into a phone lot', NEW.id
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER collection_intake_reversal_and_lots BEFORE INSERT OR UPDATE ON collection_intake
FOR EACH ROW EXECUTE FUNCTION collection_intake_reversal_and_lots();

CREATE FUNCTION collection_payment_checks() RETURNS trigger AS $$
DECLARE
    original collection_payment%ROWTYPE;
    intake collection_intake%ROWTYPE;
    paid numeric;
BEGIN
    IF NEW.reverses_id IS NOT NULL THEN
        SELECT * INTO original FROM collection_payment WHERE id = NEW.reverses_id;
        IF original.reverses_id IS NOT NULL THEN
            RAISE EXCEPTION 'payment % is itself a reversal; record a new payment instead',
                original.id USING ERRCODE = 'integrity_constraint_violation';
        END IF;
        IF (NEW.kind, NEW.payer_id, NEW.collector_id, NEW.payee_organisation_id, NEW.hub_id,
            NEW.intake_id, NEW.period, NEW.amount, NEW.currency)
           IS DISTINCT FROM
           (original.kind, original.payer_id, original.collector_id,
            original.payee_organisation_id, original.hub_id, original.intake_id, original.period,
            -original.amount, original.currency) THEN
            RAISE EXCEPTION 'a reversal of payment % must negate it exactly', original.id
                USING ERRCODE = 'integrity_constraint_violation';
        END IF;
    END IF;
    IF NEW.intake_id IS NOT NULL THEN
        SELECT * INTO intake FROM collection_intake WHERE id = NEW.intake_id FOR UPDATE;
        IF intake.collector_id <> NEW.collector_id OR intake.currency <> NEW.currency
           OR intake.hub_id <> NEW.hub_id THEN
            RAISE EXCEPTION 'payment for intake % must go to its collector, in %', intake.id,
                intake.currency USING ERRCODE = 'integrity_constraint_violation';
        END IF;
        SELECT COALESCE(SUM(amount), 0) + NEW.amount INTO paid
          FROM collection_payment WHERE intake_id = NEW.intake_id;
        IF paid < 0 OR paid > intake.amount_paid THEN
            RAISE EXCEPTION 'intake % is owed % %; payments would make it %', intake.id,
                intake.amount_paid, intake.currency, paid
                USING ERRCODE = 'check_violation';
        END IF;
    END IF;
    IF NEW.collector_id IS NOT NULL
       AND (SELECT hub_id FROM collection_collector WHERE id = NEW.collector_id) <> NEW.hub_id THEN
        RAISE EXCEPTION 'collector % is paid by their own hub', NEW.collector_id
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER collection_payment_checks BEFORE INSERT ON collection_payment
FOR EACH ROW EXECUTE FUNCTION collection_payment_checks();
CREATE TRIGGER collection_payment_append_only BEFORE UPDATE OR DELETE ON collection_payment
FOR EACH ROW EXECUTE FUNCTION oneforone_refuse_change();
CREATE TRIGGER collection_pd_access_append_only BEFORE UPDATE OR DELETE
ON collection_personaldataaccess FOR EACH ROW EXECUTE FUNCTION oneforone_refuse_change();

CREATE FUNCTION collection_price_caps_apart() RETURNS trigger AS $$
BEGIN
    PERFORM pg_advisory_xact_lock(hashtext('collection_pricecap:' || NEW.country_id));
    IF EXISTS (
        SELECT 1 FROM collection_pricecap p
        WHERE p.country_id = NEW.country_id AND p.id <> NEW.id
          AND daterange(p.valid_from, p.valid_until, '[]')
              && daterange(NEW.valid_from, NEW.valid_until, '[]')
    ) THEN
        RAISE EXCEPTION 'a price cap for % already covers part of % to %', NEW.country_id,
            NEW.valid_from, COALESCE(NEW.valid_until::text, 'open end')
            USING ERRCODE = 'exclusion_violation';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER collection_price_caps_apart BEFORE INSERT OR UPDATE ON collection_pricecap
FOR EACH ROW EXECUTE FUNCTION collection_price_caps_apart();

CREATE FUNCTION collection_no_dispatch_with_open_flags() RETURNS trigger AS $$
DECLARE
    flagged text;
BEGIN
    IF OLD.state = 'draft' AND NEW.state <> 'draft' THEN
        SELECT string_agg(DISTINCT l.seal_number, ', ') INTO flagged
        FROM collection_lot l
        JOIN collection_flag f ON f.resolved_at IS NULL AND (
            f.lot_id = l.id
            OR f.intake_id IN (SELECT id FROM collection_intake i
                               WHERE i.lot_id = l.id OR i.battery_lot_id = l.id))
        WHERE l.consignment_id = NEW.id;
        IF flagged IS NOT NULL THEN
            RAISE EXCEPTION 'lots % carry open flags; the operator must resolve them first',
                flagged USING ERRCODE = 'check_violation';
        END IF;
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER collection_no_dispatch_with_open_flags BEFORE UPDATE OF state
ON shipments_consignment FOR EACH ROW EXECUTE FUNCTION collection_no_dispatch_with_open_flags();
"""

REVERSE = """
DROP TRIGGER IF EXISTS collection_no_dispatch_with_open_flags ON shipments_consignment;
DROP FUNCTION IF EXISTS collection_no_dispatch_with_open_flags();
DROP TRIGGER IF EXISTS collection_price_caps_apart ON collection_pricecap;
DROP FUNCTION IF EXISTS collection_price_caps_apart();
DROP TRIGGER IF EXISTS collection_pd_access_append_only ON collection_personaldataaccess;
DROP TRIGGER IF EXISTS collection_payment_append_only ON collection_payment;
DROP TRIGGER IF EXISTS collection_payment_checks ON collection_payment;
DROP FUNCTION IF EXISTS collection_payment_checks();
DROP TRIGGER IF EXISTS collection_intake_reversal_and_lots ON collection_intake;
DROP FUNCTION IF EXISTS collection_intake_reversal_and_lots();
ALTER TABLE collection_hub DROP CONSTRAINT IF EXISTS collection_hub_country_known;
"""


class Migration(migrations.Migration):
    dependencies = [
        ("collection", "0006_collection_networks"),
        ("shipments", "0001_initial"),
        ("core", "0002_append_only"),
    ]

    operations = [
        migrations.RunPython(add_countries, migrations.RunPython.noop),
        migrations.RunSQL(INVARIANTS, REVERSE),
    ]
