"""Tombstones: keyed hashes of an erased person's identifiers, never the identifiers.

A tombstone is ``sha256(key | kind:value)`` for one normalised identifier (an email, a phone's
last nine digits, a CRM customer id, a device id, a customer key or a source record's key).
The key is a random secret kept in ``<data dir>/privacy/tombstone.key`` (or
``JOURNEY_TOMBSTONE_KEY``), so a digest cannot be reversed by hashing guessed emails without it.
Ingest drops every staged row whose identifiers hash to a tombstone and counts it in
``audit.erased_on_ingest``.
"""

from __future__ import annotations

import hashlib
import os
import re
import secrets
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from ..ingest.contracts import Format, SourceContract
from ..warehouse import quote_identifier, quote_literal, table_exists

TOMBSTONES_TABLE = "privacy.tombstones"
ERASED_ON_INGEST_TABLE = "audit.erased_on_ingest"
KEY_ENV = "JOURNEY_TOMBSTONE_KEY"
PHONE_DIGITS = 9  # the last nine digits: the same number with or without its country code

# Columns that carry an identifier, by name, beside those declared as email or phone formats.
ID_COLUMNS = {
    "customer_id": "customer_id",
    "login_customer_id": "customer_id",
    "anonymous_id": "device",
    "customer_key": "customer_key",
}


def key_path(data_root: Path) -> Path:
    return data_root / "privacy" / "tombstone.key"


def tombstone_key(data_root: Path, create: bool = False) -> str | None:
    """The secret the digests are keyed with; made on first erasure when ``create``."""
    if os.environ.get(KEY_ENV):
        return os.environ[KEY_ENV]
    path = key_path(data_root)
    if path.exists():
        return path.read_text(encoding="utf-8").strip()
    if not create:
        return None
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(secrets.token_hex(32), encoding="utf-8")
    path.chmod(0o600)
    return path.read_text(encoding="utf-8").strip()


def normalise(kind: str, value: str) -> str | None:
    """One identifier as it is hashed: emails lower-cased, phones as their last digits."""
    value = value.strip()
    if kind == "email":
        return value.lower() or None
    if kind == "phone":
        digits = re.sub(r"[^0-9]", "", value)
        return digits[-PHONE_DIGITS:] if len(digits) >= 7 else None
    return value or None


def digest(key: str, kind: str, value: str) -> str:
    return hashlib.sha256(f"{key}|{kind}:{value}".encode()).hexdigest()


def record_tombstones(
    conn: duckdb.DuckDBPyConnection,
    key: str,
    identifiers: Iterable[tuple[str, str]],
    tombstone_id: str,
    erased_at: datetime,
) -> list[str]:
    """Store the digests of (kind, value) identifiers; returns the new digests."""
    conn.execute("CREATE SCHEMA IF NOT EXISTS privacy")
    conn.execute(
        f"CREATE TABLE IF NOT EXISTS {TOMBSTONES_TABLE} "
        "(digest VARCHAR, kind VARCHAR, tombstone_id VARCHAR, erased_at TIMESTAMP)"
    )
    rows = {}
    for kind, value in identifiers:
        normal = normalise(kind, value)
        if normal:
            rows[digest(key, kind, normal)] = kind
    known = {d for (d,) in conn.execute(f"SELECT digest FROM {TOMBSTONES_TABLE}").fetchall()}
    new = [(d, kind, tombstone_id, erased_at) for d, kind in rows.items() if d not in known]
    if new:
        conn.executemany(f"INSERT INTO {TOMBSTONES_TABLE} VALUES (?, ?, ?, ?)", new)
    return sorted(rows)


def _hashed_expressions(contract: SourceContract, key: str) -> list[str]:
    """SQL giving each identifier of a staged row as its digest (NULL when absent)."""
    salt = quote_literal(f"{key}|")
    terms: list[tuple[str, str]] = []
    for field in contract.fields:
        column = quote_identifier(field.name)
        if field.format is Format.EMAIL:
            terms.append(("email", f"lower(trim({column}))"))
        elif field.format is Format.PHONE:
            digits = f"regexp_replace({column}, '[^0-9]', '', 'g')"
            terms.append(
                (
                    "phone",
                    f"CASE WHEN length({digits}) >= 7 THEN right({digits}, {PHONE_DIGITS}) END",
                )
            )
        elif field.name in ID_COLUMNS:
            terms.append((ID_COLUMNS[field.name], f"trim(CAST({column} AS VARCHAR))"))
    record = " || '|' || ".join(
        f"coalesce(CAST({quote_identifier(k)} AS VARCHAR), '')" for k in contract.key
    )
    terms.append(("record", f"{quote_literal(contract.name + ':')} || {record}"))
    return [f"sha256({salt} || '{kind}:' || {expr})" for kind, expr in terms]


def drop_erased_rows(
    conn: duckdb.DuckDBPyConnection, contract: SourceContract, staged: str, load_id: str
) -> int:
    """Delete staged rows of erased people before they are committed; count them per file in
    ``audit.erased_on_ingest``. Needs no tombstone table: with none, nothing is erased."""
    if not table_exists(conn, TOMBSTONES_TABLE):
        return 0
    data_root = _data_root(conn)
    key = tombstone_key(data_root) if data_root else os.environ.get(KEY_ENV)
    if key is None:
        if conn.execute(f"SELECT count(*) FROM {TOMBSTONES_TABLE}").fetchone()[0]:
            # Without the key no row can be matched, and forgotten people would load again.
            raise RuntimeError(
                f"{TOMBSTONES_TABLE} holds erasures but their key is missing (the file "
                f"privacy/tombstone.key in the data directory, or {KEY_ENV}): nothing was "
                "loaded; restore the key"
            )
        return 0
    matches = " OR ".join(
        f"{expr} IN (SELECT digest FROM {TOMBSTONES_TABLE})"
        for expr in _hashed_expressions(contract, key)
    )
    counts = conn.execute(
        f"SELECT _file, count(*) FROM {staged} WHERE {matches} GROUP BY _file"
    ).fetchall()
    if not counts:
        return 0
    conn.execute(f"DELETE FROM {staged} WHERE {matches}")
    conn.execute(
        f"CREATE TABLE IF NOT EXISTS {ERASED_ON_INGEST_TABLE} (source_table VARCHAR, "
        "source_file VARCHAR, rows_erased BIGINT, load_id VARCHAR, erased_at TIMESTAMP)"
    )
    now = datetime.now(UTC).replace(tzinfo=None)
    conn.executemany(
        f"INSERT INTO {ERASED_ON_INGEST_TABLE} VALUES (?, ?, ?, ?, ?)",
        [(contract.name, file, n, load_id, now) for file, n in counts],
    )
    return sum(n for _, n in counts)


def _data_root(conn: duckdb.DuckDBPyConnection) -> Path | None:
    """The data directory is the warehouse file's folder (the key lives beside it)."""
    row = conn.execute(
        "SELECT path FROM duckdb_databases() WHERE database_name = current_database()"
    ).fetchone()
    return Path(row[0]).parent if row and row[0] else None
