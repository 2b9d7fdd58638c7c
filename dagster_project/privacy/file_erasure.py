"""Erase a person from the files under the data directory, format by format.

Rows go from tables (CSV, JSON Lines, Parquet: landing files, exports, the decision log, the
serving snapshot, the demo truth), entries from JSON documents (the personalisation file),
lines from logs, the terms from pages (reports), and SQLite stores (Dagster's event log, MLflow) have the terms
redacted in place then ``VACUUM``. Gzip files are handled as what they hold. A file in any other
format that holds a term is reported as not erased rather than guessed at.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import re
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from ..warehouse import quote_identifier, quote_literal

REDACTED = "[erased]"
SQLITE_MAGIC = b"SQLite format 3\x00"


@dataclass
class FileErasure:
    rows_removed: dict[str, int] = field(default_factory=dict)  # relative path -> rows/lines
    not_erased: list[str] = field(default_factory=list)  # files holding a term we cannot edit


def _csv(data: bytes, pattern: re.Pattern[str]) -> tuple[bytes, int]:
    text = data.decode("utf-8")
    rows = list(csv.reader(io.StringIO(text, newline="")))
    kept = (
        [rows[0]] + [r for r in rows[1:] if not any(pattern.search(v) for v in r)] if rows else []
    )
    removed = len(rows) - len(kept)
    if not removed:
        return data, 0
    out = io.StringIO(newline="")
    csv.writer(out, lineterminator="\n").writerows(kept)
    return out.getvalue().encode("utf-8"), removed


def _lines(data: bytes, pattern: re.Pattern[str]) -> tuple[bytes, int]:
    lines = data.decode("utf-8", errors="surrogateescape").splitlines(keepends=True)
    kept = [line for line in lines if not pattern.search(line)]
    removed = len(lines) - len(kept)
    if not removed:
        return data, 0
    return "".join(kept).encode("utf-8", errors="surrogateescape"), removed


def _redact(data: bytes, pattern: re.Pattern[str]) -> tuple[bytes, int]:
    """Replace the terms in place: a page (a report, Splink's cluster studio) often holds all
    its data on one line, which dropping would lose for everyone."""
    text = data.decode("utf-8", errors="surrogateescape")
    redacted, count = pattern.subn(REDACTED, text)
    return (redacted.encode("utf-8", errors="surrogateescape"), count) if count else (data, 0)


def _contains(value: object, pattern: re.Pattern[str]) -> bool:
    return bool(pattern.search(json.dumps(value, ensure_ascii=False, default=str)))


def scrub_json(value: object, pattern: re.Pattern[str]) -> tuple[object, int]:
    """Drop dict entries keyed by or holding a term, and list items that hold one."""
    if isinstance(value, dict):
        kept, removed = {}, 0
        for k, v in value.items():
            if pattern.search(str(k)) or (isinstance(v, str) and pattern.search(v)):
                removed += 1
                continue
            kept[k], n = scrub_json(v, pattern)
            removed += n
        return kept, removed
    if isinstance(value, list):
        items, removed = [], 0
        for item in value:
            if isinstance(item, str | dict) and _contains(item, pattern):
                removed += 1
                continue
            item, n = scrub_json(item, pattern)
            items.append(item)
            removed += n
        return items, removed
    return value, 0


def _json(data: bytes, pattern: re.Pattern[str]) -> tuple[bytes | None, int]:
    """A document about the person (a top-level field names them, as a delivered message's
    recipient does) goes whole (None); from any other, their entries go."""
    if not pattern.search(data.decode("utf-8")):
        return data, 0
    document = json.loads(data)
    if isinstance(document, dict) and any(
        isinstance(v, str) and pattern.search(v) for v in document.values()
    ):
        return None, 1
    document, removed = scrub_json(document, pattern)
    indent = 1 if b"\n" in data.strip() else None
    return json.dumps(document, indent=indent).encode("utf-8"), removed


def _parquet(path: Path, pattern: str) -> int:
    """Rewrite a Parquet file without the rows any text column of which holds a term."""
    source = quote_literal(str(path))
    with duckdb.connect() as conn:
        columns = conn.execute(f"DESCRIBE SELECT * FROM read_parquet({source})").fetchall()
        texts = [c[0] for c in columns if c[1] == "VARCHAR" or c[1].endswith("[]")]
        if not texts:
            return 0
        hit = " OR ".join(
            f"coalesce(regexp_matches(CAST({quote_identifier(c)} AS VARCHAR), "
            f"{quote_literal(pattern)}), false)"
            for c in texts
        )
        removed = conn.execute(
            f"SELECT count(*) FROM read_parquet({source}) WHERE {hit}"
        ).fetchone()[0]
        if removed:
            partial = path.with_name(f".{path.name}.erasing")
            conn.execute(
                f"COPY (SELECT * FROM read_parquet({source}) WHERE NOT ({hit})) "
                f"TO {quote_literal(str(partial))} (FORMAT parquet)"
            )
            partial.replace(path)
    return int(removed)


def _sqlite(path: Path, pattern: re.Pattern[str]) -> int:
    """Redact the terms inside every text value of a SQLite store, then VACUUM it."""
    redacted = 0
    with sqlite3.connect(path) as db:
        db.create_function("erase_match", 1, lambda v: int(bool(pattern.search(v))))
        db.create_function("erase_terms", 1, lambda v: pattern.sub(REDACTED, v))
        tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        for table in tables:
            for column in [
                r[1] for r in db.execute(f"PRAGMA table_info({quote_identifier(table)})")
            ]:
                c = quote_identifier(column)
                redacted += db.execute(
                    f"UPDATE {quote_identifier(table)} SET {c} = erase_terms({c}) "
                    f"WHERE typeof({c}) = 'text' AND erase_match({c})"
                ).rowcount
        db.commit()
    db.close()
    with sqlite3.connect(path) as db:
        db.execute("VACUUM")
    db.close()
    return redacted


_IN_MEMORY: dict[str, Callable[[bytes, re.Pattern[str]], tuple[bytes | None, int]]] = {
    ".csv": _csv,
    ".jsonl": _lines,
    ".ndjson": _lines,
    ".json": _json,
    ".log": _lines,
    ".out": _lines,  # Dagster's captured compute logs
    ".err": _lines,
    ".txt": _lines,
    ".html": _redact,
    ".svg": _redact,
    ".md": _lines,
    ".sql": _lines,
    ".yml": _lines,
    ".yaml": _lines,
}


def erase_file(path: Path, pattern: re.Pattern[str], sql_pattern: str) -> int | None:
    """Rows/lines/values removed from one file (a file about the person alone is deleted);
    None when its format cannot be edited yet it holds a term."""
    data = path.read_bytes()
    if data.startswith(SQLITE_MAGIC):
        return _sqlite(path, pattern)
    if path.suffix == ".parquet":
        return _parquet(path, sql_pattern)
    inner_suffix, compressed = path.suffix, False
    if path.suffix == ".gz":
        data, inner_suffix, compressed = gzip.decompress(data), Path(path.stem).suffix, True
    handler = _IN_MEMORY.get(inner_suffix)
    if handler is None:
        text = data.decode("utf-8", errors="ignore")
        return None if pattern.search(text) else 0
    rewritten, removed = handler(data, pattern)
    if rewritten is None:
        path.unlink()
    elif removed:
        partial = path.with_name(f".{path.name}.erasing")
        partial.write_bytes(gzip.compress(rewritten, mtime=0) if compressed else rewritten)
        partial.replace(path)
    return removed


def erase_files(
    root: Path, files: list[Path], pattern: re.Pattern[str], sql_pattern: str
) -> FileErasure:
    result = FileErasure()
    for path in files:
        if not path.exists():  # a SQLite WAL its database's VACUUM folded in
            continue
        relative = path.relative_to(root).as_posix()
        try:
            removed = erase_file(path, pattern, sql_pattern)
        except (OSError, sqlite3.Error, duckdb.Error) as error:
            # A store in use (Dagster's, with the daemon running) or a file that vanished: the
            # others are still erased, and the receipt lists this one as not erased.
            result.not_erased.append(f"{relative} ({str(error).splitlines()[0][:80]})")
            continue
        if removed is None:
            result.not_erased.append(relative)
        elif removed:
            result.rows_removed[relative] = removed
    return result
