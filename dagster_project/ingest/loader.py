"""Load new landing files of one source into its raw table, quarantining what breaks the contract.

One call handles every file that arrived since the last load:

* a file already loaded (same path, size and mtime) is skipped without reading it;
* a file whose content was loaded before under any name is recorded as a duplicate delivery;
* an empty or unreadable file is recorded with the reason while the other files still load;
* every row is validated in DuckDB; good rows land in ``raw.<source>__<entity>`` with lineage
  columns, bad rows land in ``audit.quarantine`` with the reason, and rows whose key was already
  delivered are quarantined as duplicates.

The raw rows, the quarantine and the file manifest of one load commit together, so a crash leaves
either the whole load or nothing, and the next run picks the files up again.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from ..privacy.tombstones import drop_erased_rows
from ..warehouse import quote_identifier, quote_literal, transaction
from .contracts import SourceContract
from .readers import READERS, csv_rejected_lines, file_format
from .validation import validated_select

LINEAGE_COLUMNS = (
    ("_source_file", "VARCHAR"),
    ("_row_number", "BIGINT"),
    ("_load_id", "VARCHAR"),
    ("_loaded_at", "TIMESTAMP"),
)

_FIRST_DATA_LINE = {"csv": 2, "jsonl": 1}  # CSV files start with a header line


@dataclass
class FileOutcome:
    path: str
    status: str  # loaded | duplicate_delivery | empty | unreadable | unsupported
    rows_read: int = 0
    rows_loaded: int = 0
    rows_quarantined: int = 0
    new_columns: list[str] = field(default_factory=list)
    missing_columns: list[str] = field(default_factory=list)
    error: str | None = None


@dataclass
class LoadReport:
    table: str
    load_id: str
    files: list[FileOutcome]

    def _count(self, status: str) -> int:
        return sum(1 for f in self.files if f.status == status)

    @property
    def rows_loaded(self) -> int:
        return sum(f.rows_loaded for f in self.files)

    @property
    def rows_quarantined(self) -> int:
        return sum(f.rows_quarantined for f in self.files)

    @property
    def files_loaded(self) -> int:
        return self._count("loaded")

    @property
    def problems(self) -> list[str]:
        """One line per file that needs a human: unreadable, empty, or with changed columns."""
        lines = []
        for f in self.files:
            if f.error:
                lines.append(f"{f.path}: {f.status}: {f.error}")
            if f.new_columns:
                lines.append(f"{f.path}: new columns kept in _extra: {', '.join(f.new_columns)}")
        return lines


def ensure_tables(conn: duckdb.DuckDBPyConnection, contract: SourceContract) -> None:
    conn.execute("CREATE SCHEMA IF NOT EXISTS raw; CREATE SCHEMA IF NOT EXISTS audit")
    columns = [f"{quote_identifier(f.name)} {f.type.value}" for f in contract.fields]
    columns.append("_extra VARCHAR")
    columns += [f"{name} {sql_type}" for name, sql_type in LINEAGE_COLUMNS]
    conn.execute(f"CREATE TABLE IF NOT EXISTS raw.{contract.name} ({', '.join(columns)})")
    conn.execute(
        """
        CREATE TABLE IF NOT EXISTS audit.quarantine (
            source_table VARCHAR, source_file VARCHAR, row_number BIGINT, reason VARCHAR,
            record VARCHAR, load_id VARCHAR, loaded_at TIMESTAMP)
        """
    )
    conn.execute(
        """
        CREATE TABLE IF NOT EXISTS audit.ingested_files (
            source_table VARCHAR, path VARCHAR, size_bytes BIGINT, mtime_ns BIGINT,
            sha256 VARCHAR, status VARCHAR, rows_read BIGINT, rows_loaded BIGINT,
            rows_quarantined BIGINT, new_columns VARCHAR[], missing_columns VARCHAR[],
            error VARCHAR, load_id VARCHAR, loaded_at TIMESTAMP)
        """
    )


def _sha256(path: Path) -> str:
    with path.open("rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def _first_line(error: Exception) -> str:
    return str(error).strip().splitlines()[0][:500]


def discover_files(landing_root: Path, contract: SourceContract) -> list[Path]:
    folder = landing_root / contract.landing_subdir
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.rglob("*") if p.is_file() and not p.name.startswith("."))


class _Batch:
    """Temporary tables holding one load's checked rows until they are committed."""

    def __init__(self, conn: duckdb.DuckDBPyConnection, contract: SourceContract):
        self.conn = conn
        self.contract = contract
        self.table = f"_checked_{contract.name}"
        self.rejected = f"_rejected_{contract.name}"
        typed = ", ".join(f"{quote_identifier(f.name)} {f.type.value}" for f in contract.fields)
        conn.execute(
            f"CREATE OR REPLACE TEMP TABLE {self.table} (_file VARCHAR, _row BIGINT, {typed}, "
            "_extra VARCHAR, _reason VARCHAR, _record VARCHAR)"
        )
        conn.execute(
            f"CREATE OR REPLACE TEMP TABLE {self.rejected} "
            "(_file VARCHAR, _row BIGINT, _reason VARCHAR, _record VARCHAR)"
        )

    def stage(self, path: Path, relative: str, fmt: str) -> FileOutcome:
        conn = self.conn
        conn.execute("DROP TABLE IF EXISTS _rejects; DROP TABLE IF EXISTS _scans")
        relation = READERS[fmt](conn, self.contract, path)
        select = validated_select(self.contract, relation.source_types, relation.sql)
        # INSERT answers with the number of rows it inserted.
        good = conn.execute(
            f"INSERT INTO {self.table} SELECT {quote_literal(relative)}, * FROM ({select})"
        ).fetchone()[0]
        rejected = csv_rejected_lines(conn) if fmt in _FIRST_DATA_LINE else []
        if rejected:
            self._renumber(relative, good, rejected, _FIRST_DATA_LINE[fmt])
            conn.executemany(
                f"INSERT INTO {self.rejected} VALUES (?, ?, ?, ?)",
                [(relative, r.line, f"unparseable line: {r.reason}", r.raw) for r in rejected],
            )
        return FileOutcome(
            relative,
            "loaded",
            rows_read=good + len(rejected),
            new_columns=relation.new_columns,
            missing_columns=relation.missing_columns,
        )

    def _renumber(self, relative: str, good: int, rejected: list, first_line: int) -> None:
        """Rows were numbered as if every line parsed; shift them past the lines the parser refused."""
        bad_lines = ", ".join(str(r.line) for r in rejected)
        last = first_line + good + len(rejected)
        self.conn.execute(
            f"""
            UPDATE {self.table} AS c SET _row = m.line
            FROM (SELECT line, row_number() OVER (ORDER BY line) AS ordinal
                  FROM range({first_line}, {last}) AS t(line)
                  WHERE line NOT IN ({bad_lines})) AS m
            WHERE c._file = ? AND c._row = m.ordinal + {first_line - 1}
            """,
            [relative],
        )

    def duplicate_reasons(self) -> str:
        """Temp table of valid rows whose key was loaded before or repeats within this load.

        Keys are checked with hash aggregates and joins; the ordering window only runs over the
        few keys that actually repeat, since a window over every row costs a full sort.
        """
        contract = self.contract
        keys = ", ".join(quote_identifier(k) for k in contract.key)
        key_text = " || ', ' || ".join(
            f"'{k}=' || coalesce(CAST(c.{quote_identifier(k)} AS VARCHAR), 'NULL')"
            for k in contract.key
        )
        join = " AND ".join(
            f"r.{quote_identifier(k)} = c.{quote_identifier(k)}" for k in contract.key
        )
        name = f"_dups_{contract.name}"
        self.conn.execute(
            f"""
            CREATE OR REPLACE TEMP TABLE {name} AS
            WITH earlier AS (
                SELECT c._file, c._row, {self._record_json("c")} AS _record,
                    'duplicate key (' || {key_text} || '): already loaded from '
                    || r._source_file || ' row ' || r._row_number AS _reason
                FROM {self.table} AS c JOIN raw.{contract.name} AS r ON {join}
                WHERE c._reason = ''),
            repeated AS (
                SELECT {keys} FROM {self.table} WHERE _reason = ''
                GROUP BY ALL HAVING count(*) > 1),
            within AS (
                SELECT c.*, row_number() OVER w AS occurrence,
                    first_value(c._file) OVER w AS first_file,
                    first_value(c._row) OVER w AS first_row
                FROM {self.table} AS c JOIN repeated USING ({keys})
                WHERE c._reason = ''
                WINDOW w AS (PARTITION BY {keys} ORDER BY c._file, c._row))
            SELECT * FROM earlier
            UNION ALL
            SELECT _file, _row, {self._record_json("c")},
                'duplicate key (' || {key_text} || '): first delivered in '
                || first_file || ' row ' || first_row
            FROM within AS c
            WHERE occurrence > 1 AND NOT EXISTS (
                SELECT 1 FROM earlier AS e WHERE e._file = c._file AND e._row = c._row)
            """
        )
        return name

    def _record_json(self, alias: str) -> str:
        fields = ", ".join(
            f"{quote_identifier(f.name)} := {alias}.{quote_identifier(f.name)}"
            for f in self.contract.fields
        )
        return f"CAST(to_json(struct_pack({fields}, _extra := {alias}._extra)) AS VARCHAR)"

    def drop(self, *names: str) -> None:
        for name in (self.table, self.rejected, *names):
            self.conn.execute(f"DROP TABLE IF EXISTS {name}")


def load_source(
    conn: duckdb.DuckDBPyConnection,
    contract: SourceContract,
    landing_root: Path,
    load_id: str,
    loaded_at: datetime | None = None,
    on_file: Callable[[str], None] | None = None,
) -> LoadReport:
    """Load every new file of ``contract``'s landing folder; see the module docstring."""
    loaded_at = (loaded_at or datetime.now(UTC)).astimezone(UTC).replace(tzinfo=None)
    ensure_tables(conn, contract)
    seen = {
        (path, size, mtime)
        for path, size, mtime in conn.execute(
            "SELECT path, size_bytes, mtime_ns FROM audit.ingested_files WHERE source_table = ?",
            [contract.name],
        ).fetchall()
    }
    loaded_hashes = {
        row[0]: row[1]
        for row in conn.execute(
            "SELECT sha256, any_value(path) FROM audit.ingested_files "
            "WHERE source_table = ? AND status = 'loaded' GROUP BY sha256",
            [contract.name],
        ).fetchall()
    }

    batch = _Batch(conn, contract)
    outcomes: list[FileOutcome] = []
    manifest: list[tuple[FileOutcome, int, int, str]] = []
    for path in discover_files(landing_root, contract):
        relative = path.relative_to(landing_root).as_posix()
        stat = path.stat()
        if (relative, stat.st_size, stat.st_mtime_ns) in seen:
            continue
        if on_file:
            on_file(relative)
        digest = _sha256(path)
        fmt = file_format(path)
        if digest in loaded_hashes:
            outcome = FileOutcome(
                relative,
                "duplicate_delivery",
                error=f"same content as {loaded_hashes[digest]}, already loaded",
            )
        elif fmt is None:
            outcome = FileOutcome(relative, "unsupported", error="not a CSV, JSONL or Parquet file")
        elif stat.st_size == 0:
            outcome = FileOutcome(relative, "empty", error="file is empty")
        else:
            try:
                outcome = batch.stage(path, relative, fmt)
                loaded_hashes[digest] = relative
            except (duckdb.Error, ValueError, OSError) as error:
                conn.execute(f"DELETE FROM {batch.table} WHERE _file = ?", [relative])
                outcome = FileOutcome(relative, "unreadable", error=_first_line(error))
        outcomes.append(outcome)
        manifest.append((outcome, stat.st_size, stat.st_mtime_ns, digest))

    drop_erased_rows(conn, contract, batch.table, load_id)  # rows of people who were forgotten
    dups = batch.duplicate_reasons()
    _commit(conn, contract, batch, dups, manifest, load_id, loaded_at)
    batch.drop(dups)
    return LoadReport(contract.name, load_id, outcomes)


def _commit(
    conn: duckdb.DuckDBPyConnection,
    contract: SourceContract,
    batch: _Batch,
    dups: str,
    manifest: list[tuple[FileOutcome, int, int, str]],
    load_id: str,
    loaded_at: datetime,
) -> None:
    fields = ", ".join(quote_identifier(f.name) for f in contract.fields)
    lineage = "?, ?"  # load id, loaded at
    # Counted from the small temp tables, not by scanning the raw table after the insert.
    counts: dict[tuple[str, str], int] = {}
    for path, loaded, quarantined in conn.execute(
        f"""
        SELECT _file, sum(loaded), sum(quarantined) FROM (
            SELECT _file, count(*) FILTER (WHERE _reason = '') AS loaded,
                count(*) FILTER (WHERE _reason <> '') AS quarantined
            FROM {batch.table} GROUP BY ALL
            UNION ALL SELECT _file, -count(*), count(*) FROM {dups} GROUP BY ALL
            UNION ALL SELECT _file, 0, count(*) FROM {batch.rejected} GROUP BY ALL)
        GROUP BY ALL
        """
    ).fetchall():
        counts[(path, "loaded")], counts[(path, "quarantined")] = int(loaded), int(quarantined)
    has_dups = conn.execute(f"SELECT count(*) FROM {dups}").fetchone()[0] > 0
    # The anti-join doubles the cost of the insert, so it only runs when there is a duplicate.
    not_duplicate = (
        f"AND NOT EXISTS (SELECT 1 FROM {dups} AS d WHERE d._file = c._file AND d._row = c._row)"
        if has_dups
        else ""
    )
    with transaction(conn):
        conn.execute(
            f"""
            INSERT INTO raw.{contract.name}
            SELECT {fields}, _extra, _file, _row, {lineage}
            FROM {batch.table} AS c
            WHERE _reason = '' {not_duplicate}
            """,
            [load_id, loaded_at],
        )
        conn.execute(
            f"""
            INSERT INTO audit.quarantine
            SELECT {quote_literal(contract.name)}, _file, _row, _reason, _record, {lineage}
            FROM (
                SELECT _file, _row, _reason, _record FROM {batch.table} WHERE _reason <> ''
                UNION ALL
                SELECT _file, _row, _reason, _record FROM {dups}
                UNION ALL
                SELECT _file, _row, _reason, _record FROM {batch.rejected})
            """,
            [load_id, loaded_at],
        )
        rows = []
        for outcome, size, mtime, digest in manifest:
            outcome.rows_loaded = counts.get((outcome.path, "loaded"), 0)
            outcome.rows_quarantined = counts.get((outcome.path, "quarantined"), 0)
            rows.append(
                (
                    contract.name,
                    outcome.path,
                    size,
                    mtime,
                    digest,
                    outcome.status,
                    outcome.rows_read,
                    outcome.rows_loaded,
                    outcome.rows_quarantined,
                    outcome.new_columns,
                    outcome.missing_columns,
                    outcome.error,
                    load_id,
                    loaded_at,
                )
            )
        if rows:
            conn.executemany(
                "INSERT INTO audit.ingested_files VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                rows,
            )
