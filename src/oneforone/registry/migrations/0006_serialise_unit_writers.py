from django.db import migrations

# The allocation, reservation and cancellation triggers read other tables to decide; under READ
# COMMITTED two concurrent inserts could each miss the other. Every insert into these tables
# therefore first takes the allocator's advisory lock (0x04010003, the key registry.actions
# holds while it plans), so the checks always see every committed unit claim. Triggers fire in
# name order: "a_serialise_units" runs before the registry_*_fits checks.
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

REVERSE = (
    "".join(
        f"DROP TRIGGER IF EXISTS a_serialise_units ON {table};\n"
        for table in ("registry_allocation", "registry_reservation", "registry_cancellation")
    )
    + "DROP FUNCTION IF EXISTS registry_serialise_units();"
)


class Migration(migrations.Migration):
    dependencies = [("registry", "0005_reservation_lineage")]

    operations = [migrations.RunSQL(SERIALISE, REVERSE)]
