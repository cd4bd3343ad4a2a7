from django.db import migrations

from oneforone.core.db import append_only, stamped_once

ALLOCATION_FITS = """
CREATE OR REPLACE FUNCTION registry_allocation_fits() RETURNS trigger AS $$
DECLARE
    partner bigint;
BEGIN
    IF NOT EXISTS (SELECT 1 FROM registry_issuancebatch b
                   WHERE b.id = NEW.batch_id AND NEW.units <@ b.units) OR isempty(NEW.units) THEN
        RAISE EXCEPTION 'allocation % is not inside its batch', NEW.units
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    IF EXISTS (SELECT 1 FROM registry_cancellation c
               WHERE c.batch_id = NEW.batch_id AND c.units && NEW.units) THEN
        RAISE EXCEPTION 'allocation % holds cancelled units', NEW.units
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    SELECT partner_id INTO partner FROM partners_registration WHERE id = NEW.registration_id;
    IF EXISTS (SELECT 1 FROM registry_reservation s
               WHERE s.released_at IS NULL AND s.units && NEW.units
                 AND (s.id IS DISTINCT FROM NEW.reservation_id OR s.partner_id <> partner)) THEN
        RAISE EXCEPTION 'allocation % takes units reserved for another quota', NEW.units
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    IF NEW.reservation_id IS NOT NULL AND NOT EXISTS (
        SELECT 1 FROM registry_reservation s
        WHERE s.id = NEW.reservation_id AND s.units @> NEW.units AND s.partner_id = partner
          AND s.released_at IS NULL) THEN
        RAISE EXCEPTION 'allocation % is not inside the partner''s reservation %',
            NEW.units, NEW.reservation_id
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;

-- What a registration holds is checked once per statement, over the registrations the
-- statement touched, with one set-based query: a bulk insert of N allocations costs one join,
-- not N sums (writers are serialised by a_serialise_units, so the sums cannot race).
CREATE FUNCTION registry_allocations_within_owed() RETURNS trigger AS $$
DECLARE
    over record;
BEGIN
    SELECT r.id, r.units_owed, SUM(a.quantity) AS held INTO over
    FROM (SELECT DISTINCT registration_id FROM new_allocations) n
    JOIN partners_registration r ON r.id = n.registration_id
    JOIN registry_allocation a ON a.registration_id = r.id AND a.revoked_at IS NULL
    GROUP BY r.id, r.units_owed
    HAVING SUM(a.quantity) > r.units_owed
    LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'registration % owes % units; % would be allocated',
            over.id, over.units_owed, over.held
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER registry_allocations_within_owed AFTER INSERT ON registry_allocation
REFERENCING NEW TABLE AS new_allocations
FOR EACH STATEMENT EXECUTE FUNCTION registry_allocations_within_owed();

CREATE FUNCTION registry_reservation_fits() RETURNS trigger AS $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM registry_issuancebatch b
                   WHERE b.id = NEW.batch_id AND NEW.units <@ b.units) OR isempty(NEW.units) THEN
        RAISE EXCEPTION 'reservation % is not inside its batch', NEW.units
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    IF EXISTS (SELECT 1 FROM registry_cancellation c
               WHERE c.batch_id = NEW.batch_id AND c.units && NEW.units) THEN
        RAISE EXCEPTION 'reservation % holds cancelled units', NEW.units
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    -- Only units allocated from the blocks this one replaces may lie inside it: a block re-made
    -- by a cancellation (a child) may hold units allocated from any block it descends from, as
    -- an allocation keeps the link to the block it was drawn from.
    IF EXISTS (
        WITH RECURSIVE lineage(id, parent_id) AS (
            SELECT s.id, s.parent_id FROM registry_reservation s WHERE s.id = NEW.parent_id
            UNION
            SELECT s.id, s.parent_id FROM registry_reservation s JOIN lineage l ON s.id = l.parent_id
        )
        SELECT 1 FROM registry_allocation a
        WHERE a.revoked_at IS NULL AND a.units && NEW.units
          AND (a.reservation_id IS NULL
               OR a.reservation_id NOT IN (SELECT id FROM lineage))
    ) THEN
        RAISE EXCEPTION 'reservation % takes units already allocated', NEW.units
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER registry_reservation_fits BEFORE INSERT ON registry_reservation
FOR EACH ROW EXECUTE FUNCTION registry_reservation_fits();

CREATE FUNCTION registry_cancellation_fits() RETURNS trigger AS $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM registry_issuancebatch b
                   WHERE b.id = NEW.batch_id AND NEW.units <@ b.units) OR isempty(NEW.units) THEN
        RAISE EXCEPTION 'cancellation % is not inside its batch', NEW.units
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    IF EXISTS (SELECT 1 FROM registry_allocation a
               WHERE a.revoked_at IS NULL AND a.units && NEW.units)
       OR EXISTS (SELECT 1 FROM registry_reservation s
                  WHERE s.released_at IS NULL AND s.units && NEW.units) THEN
        RAISE EXCEPTION 'cancelled units % are still allocated or reserved; revoke them first',
            NEW.units
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER registry_cancellation_fits BEFORE INSERT ON registry_cancellation
FOR EACH ROW EXECUTE FUNCTION registry_cancellation_fits();
"""

# The fits triggers read other tables to decide; under READ COMMITTED two concurrent inserts could
# each miss the other. Every insert into these tables therefore first takes the allocator's
# advisory lock (0x04010003, the key registry.actions holds while it plans), so the checks always
# see every committed unit claim. Triggers fire in name order: "a_serialise_units" runs first.
SERIALISE = """
CREATE FUNCTION registry_serialise_units() RETURNS trigger AS $$
BEGIN
    PERFORM pg_advisory_xact_lock(67174403);
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
""" + "".join(
    f"""
CREATE TRIGGER a_serialise_units BEFORE INSERT ON {table}
FOR EACH ROW EXECUTE FUNCTION registry_serialise_units();
"""
    for table in ("registry_allocation", "registry_reservation", "registry_cancellation")
)

REVERSE = """
DROP TRIGGER IF EXISTS registry_allocations_within_owed ON registry_allocation;
DROP FUNCTION IF EXISTS registry_allocations_within_owed();
DROP TRIGGER IF EXISTS registry_cancellation_fits ON registry_cancellation;
DROP FUNCTION IF EXISTS registry_cancellation_fits();
DROP TRIGGER IF EXISTS registry_reservation_fits ON registry_reservation;
DROP FUNCTION IF EXISTS registry_reservation_fits();
DROP TRIGGER IF EXISTS a_serialise_units ON registry_allocation;
DROP TRIGGER IF EXISTS a_serialise_units ON registry_reservation;
DROP TRIGGER IF EXISTS a_serialise_units ON registry_cancellation;
DROP FUNCTION IF EXISTS registry_serialise_units();
"""


class Migration(migrations.Migration):
    dependencies = [
        ("registry", "0003_units_history"),
    ]

    operations = [
        migrations.RunSQL(ALLOCATION_FITS + SERIALISE, REVERSE),
        migrations.RunSQL(
            "DROP TRIGGER registry_allocation_append_only ON registry_allocation;",
            reverse_sql="""
            CREATE TRIGGER registry_allocation_append_only
            BEFORE UPDATE OR DELETE ON registry_allocation
            FOR EACH ROW EXECUTE FUNCTION oneforone_refuse_change();
            """,
        ),
        stamped_once("registry_allocation", "revoked_at", generated=("quantity",)),
        stamped_once("registry_reservation", "released_at", generated=("quantity",)),
        append_only("registry_cancellation"),
        append_only("registry_revocation"),
        append_only("registry_certificatewithdrawal"),
        append_only("registry_ledgerentry"),
        append_only("registry_ledgerroot"),
    ]
