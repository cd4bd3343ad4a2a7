"""Database-level guards shared by the domain apps (no domain imports here)."""

from __future__ import annotations

from django.db import migrations

REFUSE_CHANGE_FUNCTION = """
CREATE OR REPLACE FUNCTION oneforone_refuse_change() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'integrity_constraint_violation',
              HINT = 'Record a correcting entry instead of changing history.';
END;
$$ LANGUAGE plpgsql;
"""


def append_only(table: str) -> migrations.RunSQL:
    """Make `table` refuse UPDATE and DELETE (a correction is a new row)."""
    return migrations.RunSQL(
        sql=f"""
        CREATE TRIGGER {table}_append_only
        BEFORE UPDATE OR DELETE ON {table}
        FOR EACH ROW EXECUTE FUNCTION oneforone_refuse_change();
        """,
        reverse_sql=f"DROP TRIGGER IF EXISTS {table}_append_only ON {table};",
    )


def advisory_xact_lock(key: int) -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [key])
