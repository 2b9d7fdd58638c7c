"""Erase a person from the DuckDB warehouse: delete their rows everywhere, then rewrite the file.

Raw tables are matched on normalised identifiers (``person.raw_row_filter``); every other table
(quarantine, identity, staging, marts, training sets, scores, decisions, outbox, action log) on
any text column holding one of the person's terms as a whole token. Splink's scratch tables in
``main`` (term frequencies of names and emails) are dropped: Splink rebuilds them when it runs.

DuckDB keeps deleted rows in free blocks until they are overwritten, so after deleting, the
database is copied into a fresh file (``COPY FROM DATABASE``) that replaces the old one.
"""

from __future__ import annotations

import os
from pathlib import Path

import duckdb

from ..warehouse import connect, quote_identifier, quote_literal
from .person import Person, raw_row_filter
from .tombstones import ERASED_ON_INGEST_TABLE, TOMBSTONES_TABLE

_KEEP = {TOMBSTONES_TABLE, ERASED_ON_INGEST_TABLE, "audit.ingested_files"}
_TEXT_TYPES = ("VARCHAR", "JSON")


def _tables(conn: duckdb.DuckDBPyConnection) -> list[tuple[str, str]]:
    return conn.execute(
        "SELECT schema_name, table_name FROM duckdb_tables() "
        "WHERE database_name = current_database() AND NOT temporary ORDER BY 1, 2"
    ).fetchall()


def _text_columns(conn: duckdb.DuckDBPyConnection, schema: str, table: str) -> list[str]:
    """Columns that can hold a term: text, and lists or structs (searched as their text)."""
    rows = conn.execute(
        "SELECT column_name, data_type FROM duckdb_columns() WHERE database_name = "
        "current_database() AND schema_name = ? AND table_name = ?",
        [schema, table],
    ).fetchall()
    return [
        name
        for name, kind in rows
        if kind in _TEXT_TYPES or kind.endswith("[]") or kind.startswith(("STRUCT", "MAP"))
    ]


def delete_person_rows(
    conn: duckdb.DuckDBPyConnection, person: Person
) -> tuple[dict[str, int], list[str]]:
    """Delete the person's rows from every table; returns rows deleted per table and the
    scratch tables dropped."""
    removed: dict[str, int] = {}
    dropped: list[str] = []
    pattern = quote_literal(person.sql_pattern())
    for schema, table in _tables(conn):
        qualified = f"{schema}.{table}"
        name = f"{quote_identifier(schema)}.{quote_identifier(table)}"
        if qualified in _KEEP:
            continue
        if schema == "main" and table.startswith("__splink__"):
            conn.execute(f"DROP TABLE {name}")
            dropped.append(qualified)
            continue
        clauses = [
            f"regexp_matches(CAST({quote_identifier(c)} AS VARCHAR), {pattern})"
            for c in _text_columns(conn, schema, table)
        ]
        if schema == "raw" and (raw := raw_row_filter(table, person)):
            clauses.append(raw)
        if not clauses:
            continue
        where = " OR ".join(f"coalesce({c}, false)" for c in clauses)
        count = conn.execute(f"DELETE FROM {name} WHERE {where}").fetchone()[0]
        if count:
            removed[qualified] = int(count)
    return removed, dropped


def rewrite_database(path: Path) -> None:
    """Copy the warehouse into a fresh file and swap it in, leaving no free blocks behind."""
    fresh = path.with_name(f".{path.stem}.erasing.duckdb")
    for leftover in (fresh, Path(f"{fresh}.wal")):
        leftover.unlink(missing_ok=True)
    with connect(path) as conn:
        conn.execute("CHECKPOINT")
        source = conn.execute("SELECT current_database()").fetchone()[0]
        conn.execute(f"ATTACH {quote_literal(str(fresh))} AS erasing_copy")
        conn.execute(f"COPY FROM DATABASE {quote_identifier(source)} TO erasing_copy")
        conn.execute("DETACH erasing_copy")
    os.replace(fresh, path)
    Path(f"{path}.wal").unlink(missing_ok=True)
