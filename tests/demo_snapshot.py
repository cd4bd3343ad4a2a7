"""The demo data set for browser tests: loaded once per test database, copied back for each test.

Browser tests are transactional (the live server reads from another connection), so each ends
with a flush that empties every table. Loading the demo again takes about 35 s; copying its rows
back from a snapshot schema in the same database takes a second or two. The copy is the loaded
demo, row for row: the same primary keys, the same API key hash, so the summary the first load
printed still holds.
"""

from __future__ import annotations

from django.db import DatabaseError, connection, transaction
from psycopg import sql

SCHEMA = "demo_snapshot"
SCALE = 0.02

# What the first load printed and which columns each table copies, per test database (each
# xdist worker has its own). Empty in a new test session, which therefore loads the demo again
# even if a kept database still holds an older snapshot.
_summaries: dict[str, str] = {}
_columns: dict[str, dict[str, list[str]]] = {}


def demo_data_set(*, base_url: str) -> str:
    """The demo data set in the test database, as after `demo.load_if_empty`; its summary."""
    from oneforone import demo

    database = connection.settings_dict["NAME"]
    if database in _summaries and _restore(_columns[database]):
        return _summaries[database]
    summary = demo.load_if_empty(base_url=base_url, scale=SCALE)
    _columns[database] = _take()
    _summaries[database] = summary
    return summary


def _tables() -> list[str]:
    return sorted(connection.introspection.django_table_names(only_existing=True))


def _take() -> dict[str, list[str]]:
    """Copy every table's stored (not generated) columns into the snapshot schema."""
    columns: dict[str, list[str]] = {}
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(SCHEMA)))
        cursor.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(SCHEMA)))
        for table in _tables():
            cursor.execute(
                "SELECT attname FROM pg_attribute WHERE attrelid = %s::regclass AND attnum > 0"
                " AND NOT attisdropped AND attgenerated = '' ORDER BY attnum",
                [sql.Identifier(table).as_string(cursor.connection)],
            )
            columns[table] = [name for (name,) in cursor.fetchall()]
            cursor.execute(
                sql.SQL("CREATE TABLE {} AS SELECT {} FROM {}").format(
                    sql.Identifier(SCHEMA, table),
                    _column_list(columns[table]),
                    sql.Identifier(table),
                )
            )
    return columns


def _restore(columns: dict[str, list[str]]) -> bool:
    """Empty the tables and copy the snapshot back; False (nothing changed) where that fails, for
    example a database user who may not switch off triggers, or tables other than the snapshot's."""
    from django.contrib.contenttypes.models import ContentType

    if set(_tables()) != set(columns):
        return False
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            # The rows were valid when taken: no foreign-key order, no append-only triggers.
            cursor.execute("SET LOCAL session_replication_role = replica")
            cursor.execute(
                sql.SQL("TRUNCATE {}").format(
                    sql.SQL(", ").join(sql.Identifier(table) for table in columns)
                )
            )
            for table, names in columns.items():
                cursor.execute(
                    sql.SQL("INSERT INTO {} ({}) SELECT {} FROM {}").format(
                        sql.Identifier(table),
                        _column_list(names),
                        _column_list(names),
                        sql.Identifier(SCHEMA, table),
                    )
                )
            _sequences_past_the_copied_keys(cursor)
    except DatabaseError:  # Django's wrapper of psycopg's errors
        return False
    ContentType.objects.clear_cache()  # the flush's post_migrate made new ones; these are back
    return True


def _sequences_past_the_copied_keys(cursor) -> None:  # type: ignore[no-untyped-def]
    """A test that resets sequences would otherwise hand out keys the copy already holds."""
    cursor.execute(
        "SELECT sequence.oid::regclass::text, owner.relname, column_.attname"
        " FROM pg_class sequence"
        " JOIN pg_depend link ON link.objid = sequence.oid"
        " AND link.classid = 'pg_class'::regclass AND link.refclassid = 'pg_class'::regclass"
        " JOIN pg_class owner ON owner.oid = link.refobjid"
        " JOIN pg_attribute column_ ON column_.attrelid = owner.oid"
        " AND column_.attnum = link.refobjsubid"
        " WHERE sequence.relkind = 'S' AND owner.relnamespace = current_schema()::regnamespace"
    )
    for sequence, table, column in cursor.fetchall():
        cursor.execute(
            sql.SQL("SELECT setval(%s, max({})) FROM {} HAVING max({}) IS NOT NULL").format(
                sql.Identifier(column), sql.Identifier(table), sql.Identifier(column)
            ),
            [sequence],
        )


def _column_list(names: list[str]) -> sql.Composed:
    return sql.SQL(", ").join(sql.Identifier(name) for name in names)
