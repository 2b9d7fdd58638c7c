"""Short-lived connections to the DuckDB warehouse.

DuckDB allows one writer per file, so callers open a connection for one unit of work and close it;
every connection works in UTC so timestamps mean the same thing in every stage.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import duckdb


@contextmanager
def connect(path: Path | str, *, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
    path = Path(path)
    if not read_only:
        path.parent.mkdir(parents=True, exist_ok=True)
    conn = duckdb.connect(str(path), read_only=read_only)
    try:
        conn.execute("SET TimeZone = 'UTC'")
        yield conn
    finally:
        conn.close()


@contextmanager
def transaction(conn: duckdb.DuckDBPyConnection) -> Iterator[duckdb.DuckDBPyConnection]:
    """Everything inside commits together or, on any error, not at all (and the error rises)."""
    conn.execute("BEGIN TRANSACTION")
    try:
        yield conn
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


def quote_identifier(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def quote_literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def naive_utc(at: datetime) -> datetime:
    """The warehouse's timestamps are naive UTC: an aware instant in that form (a naive one is
    taken as UTC already)."""
    return at.astimezone(UTC).replace(tzinfo=None) if at.tzinfo else at


def table_exists(conn: duckdb.DuckDBPyConnection, qualified: str) -> bool:
    """Whether ``schema.table`` exists (a table or a view)."""
    schema, table = qualified.split(".")
    return bool(
        conn.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = ? AND table_name = ?",
            [schema, table],
        ).fetchone()[0]
    )
