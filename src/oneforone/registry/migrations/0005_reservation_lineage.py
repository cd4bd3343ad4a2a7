from django.db import migrations

# A reserved block re-made by a cancellation (a child) may hold units allocated from any block it
# descends from, not only from its parent: an allocation keeps the link to the block it was drawn
# from, and a second cancellation in the same quota re-makes the child again. An allocation may
# draw only on an active reservation.
RESERVATION_FITS = """
CREATE OR REPLACE FUNCTION registry_reservation_fits() RETURNS trigger AS $$
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
    -- Only units allocated from the blocks this one replaces may lie inside it.
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
"""

PREVIOUS_RESERVATION_FITS = """
CREATE OR REPLACE FUNCTION registry_reservation_fits() RETURNS trigger AS $$
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
    IF EXISTS (SELECT 1 FROM registry_allocation a
               WHERE a.revoked_at IS NULL AND a.units && NEW.units
                 AND a.reservation_id IS DISTINCT FROM NEW.parent_id) THEN
        RAISE EXCEPTION 'reservation % takes units already allocated', NEW.units
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
"""

ALLOCATION_FITS = """
CREATE OR REPLACE FUNCTION registry_allocation_fits() RETURNS trigger AS $$
DECLARE
    owed bigint;
    given bigint;
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
    -- Lock the registration so concurrent allocations to it are counted one after the other.
    SELECT units_owed, partner_id INTO owed, partner
    FROM partners_registration WHERE id = NEW.registration_id FOR UPDATE;
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
    SELECT COALESCE(SUM(upper(units) - lower(units)), 0) INTO given
    FROM registry_allocation WHERE registration_id = NEW.registration_id AND revoked_at IS NULL;
    IF given + upper(NEW.units) - lower(NEW.units) > owed THEN
        RAISE EXCEPTION 'registration % owes % units; % allocated already, % more refused',
            NEW.registration_id, owed, given, upper(NEW.units) - lower(NEW.units)
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
"""

PREVIOUS_ALLOCATION_FITS = """
CREATE OR REPLACE FUNCTION registry_allocation_fits() RETURNS trigger AS $$
DECLARE
    owed bigint;
    given bigint;
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
    -- Lock the registration so concurrent allocations to it are counted one after the other.
    SELECT units_owed, partner_id INTO owed, partner
    FROM partners_registration WHERE id = NEW.registration_id FOR UPDATE;
    IF EXISTS (SELECT 1 FROM registry_reservation s
               WHERE s.released_at IS NULL AND s.units && NEW.units
                 AND (s.id IS DISTINCT FROM NEW.reservation_id OR s.partner_id <> partner)) THEN
        RAISE EXCEPTION 'allocation % takes units reserved for another quota', NEW.units
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    IF NEW.reservation_id IS NOT NULL AND NOT EXISTS (
        SELECT 1 FROM registry_reservation s
        WHERE s.id = NEW.reservation_id AND s.units @> NEW.units AND s.partner_id = partner) THEN
        RAISE EXCEPTION 'allocation % is not inside the partner''s reservation %',
            NEW.units, NEW.reservation_id
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    SELECT COALESCE(SUM(upper(units) - lower(units)), 0) INTO given
    FROM registry_allocation WHERE registration_id = NEW.registration_id AND revoked_at IS NULL;
    IF given + upper(NEW.units) - lower(NEW.units) > owed THEN
        RAISE EXCEPTION 'registration % owes % units; % allocated already, % more refused',
            NEW.registration_id, owed, given, upper(NEW.units) - lower(NEW.units)
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
"""


class Migration(migrations.Migration):
    dependencies = [
        ("registry", "0004_units_history_invariants"),
    ]

    operations = [
        migrations.RunSQL(RESERVATION_FITS, PREVIOUS_RESERVATION_FITS),
        migrations.RunSQL(ALLOCATION_FITS, PREVIOUS_ALLOCATION_FITS),
    ]
