"""Database-level guards shared by the domain apps (no domain imports here)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

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


# The allocator's advisory lock: held by every action that changes what a registration owes or
# holds (allocation, cancellation), always taken before the audit chain's lock.
ALLOCATION_LOCK = 0x0401_0003


def advisory_xact_lock(key: int) -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [key])


STAMP_ONCE_FUNCTION = """
CREATE OR REPLACE FUNCTION oneforone_stamp_once() RETURNS trigger AS $$
DECLARE
    stamp text := TG_ARGV[0];
    -- Generated columns are not computed yet in a BEFORE trigger's NEW: leave them out.
    unchecked text[] := TG_ARGV;
BEGIN
    IF TG_OP = 'DELETE'
       OR to_jsonb(OLD) ->> stamp IS NOT NULL
       OR to_jsonb(NEW) ->> stamp IS NULL
       OR (to_jsonb(NEW) - unchecked) IS DISTINCT FROM (to_jsonb(OLD) - unchecked) THEN
        RAISE EXCEPTION '% rows are history: only % may be set, once', TG_TABLE_NAME, stamp
            USING ERRCODE = 'integrity_constraint_violation',
                  HINT = 'Record a correcting entry instead of changing history.';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
"""


def stamped_once(table: str, column: str, *, generated: tuple[str, ...] = ()) -> migrations.RunSQL:
    """Make `table` refuse DELETE and every UPDATE except setting `column` once, from NULL
    (a revocation or release stamp that takes a row out of the current state). Name the
    table's generated columns in `generated`: PostgreSQL computes them after the trigger."""
    arguments = ", ".join(f"'{name}'" for name in (column, *generated))
    return migrations.RunSQL(
        sql=STAMP_ONCE_FUNCTION
        + f"""
        CREATE TRIGGER {table}_stamp_once
        BEFORE UPDATE OR DELETE ON {table}
        FOR EACH ROW EXECUTE FUNCTION oneforone_stamp_once({arguments});
        """,
        reverse_sql=f"DROP TRIGGER IF EXISTS {table}_stamp_once ON {table};",
    )


def copy_rows(table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    """Insert rows with COPY: several times faster than a bulk INSERT for thousands of rows
    (no SQL to build and parse), with every constraint and trigger still applied. Wrap JSON
    values in psycopg's `Jsonb`. Returns no ids: use it where the caller needs none."""
    from django.db import connection

    statement = f"COPY {table} ({', '.join(columns)}) FROM STDIN"
    with connection.cursor() as cursor, cursor.cursor.copy(statement) as copy:
        for row in rows:
            copy.write_row(row)
