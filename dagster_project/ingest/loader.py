"""Load new landing files of one source into its raw table, quarantining what breaks the contract.

One call handles every file that arrived since the last load:

* only files inside the landing folder are read: links and hidden files are reported, never
  opened (``landing_files``), and a file still being written waits for a later run;
* a file already loaded (same path, size and mtime) is skipped without reading it;
* a file whose content was loaded before under any name is recorded as a duplicate delivery;
* an empty or unreadable file (HTML, binary, a JSON array...: ``content_sniff``) is recorded
  with the reason while the other files still load, so every row is loaded, quarantined or in a
  file the manifest says was not read;
* every row is validated in DuckDB; good rows land in ``raw.<source>__<entity>`` with lineage
  columns, bad rows land in ``audit.quarantine`` with the reason, and rows whose key was already
  delivered are quarantined as duplicates.

The raw rows, the quarantine and the file manifest of one load commit together, so a crash leaves
either the whole load or nothing, and the next run picks the files up again.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from ..privacy.tombstones import drop_erased_rows
from ..settings import LandingReadiness, landing_readiness
from ..warehouse import quote_identifier, quote_literal, transaction
from .content_sniff import UnreadableFile, check_parquet, sniff_text
from .contracts import CONTRACTS, SourceContract
from .landing_files import CANDIDATE, WAITING, LandingEntry, file_sha256, landing_entries
from .long_lines import LongLine, copy_without, long_lines, may_have_long_line
from .readers import (
    READERS,
    TRUNCATED_MARK,
    RejectedLine,
    csv_rejected_lines,
    file_format,
    text_lines,
)
from .validation import validated_select

LINEAGE_COLUMNS = (
    ("_source_file", "VARCHAR"),
    ("_row_number", "BIGINT"),
    ("_load_id", "VARCHAR"),
    ("_loaded_at", "TIMESTAMP"),
)

_FIRST_DATA_LINE = {"csv": 2, "jsonl": 1}  # CSV files start with a header line
# DuckDB's default max_line_size: a longer line is quarantined, not parsed.
MAX_LINE_BYTES = 2_097_152  # 2 MiB
# A quarantined record is stored cut to this many characters, with a marker saying so.
MAX_RECORD_CHARS = 10_000
# Statuses of a file that was not (or could not be) read; its rows are counted nowhere else.
NOT_READ_STATUSES = ("empty", "unreadable", "unsupported", "hidden", "refused")


@dataclass
class FileOutcome:
    path: str
    # loaded | duplicate_delivery | waiting (not complete yet, read by a later run) | empty |
    # unreadable | unsupported | hidden (a dot-file) | refused (a link, or outside the landing)
    status: str
    rows_read: int = 0
    rows_loaded: int = 0
    rows_quarantined: int = 0
    new_columns: list[str] = field(default_factory=list)
    missing_columns: list[str] = field(default_factory=list)
    error: str | None = None
    notes: list[str] = field(default_factory=list)


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
            lines.extend(f"{f.path}: {note}" for note in f.notes)
        return lines


def ensure_tables(conn: duckdb.DuckDBPyConnection) -> None:
    """Every source's raw table and the audit tables. All sources' tables, not only the one
    loading: a source that has not delivered a file yet (or never will) is an empty table to
    the profile, not a missing one, whichever sources a sensor happens to ingest first."""
    conn.execute("CREATE SCHEMA IF NOT EXISTS raw; CREATE SCHEMA IF NOT EXISTS audit")
    for contract in CONTRACTS:
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


def _first_line(error: Exception) -> str:
    """The error's first line only: DuckDB's later lines quote the file's content."""
    lines = str(error).strip().splitlines()
    return lines[0][:300] if lines else type(error).__name__


def _original_line(copy_line: int, removed: list[int]) -> int:
    """A line number of the copy without ``removed`` lines, as a line number of the file."""
    line = copy_line
    for gone in removed:  # sorted
        if gone <= line:
            line += 1
    return line


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
        """Check and stage one file's rows; UnreadableFile or duckdb.Error when it cannot be read."""
        encoding = "utf-8"
        if fmt == "parquet":
            check_parquet(path)
        else:
            encoding = sniff_text(path, fmt).encoding
        long = []
        if fmt != "parquet" and encoding == "utf-8" and may_have_long_line(path, MAX_LINE_BYTES):
            long = long_lines(path, MAX_LINE_BYTES)
        if fmt == "csv" and long and long[0].line == 1:
            raise UnreadableFile(
                f"the header line is {long[0].length} bytes long, more than the "
                f"{MAX_LINE_BYTES} allowed"
            )
        if not long:
            return self._stage_from(path, relative, fmt, encoding, [])
        # DuckDB loses a line longer than its read buffer without a trace: read a copy without
        # the long lines, and quarantine those with their length.
        with tempfile.TemporaryDirectory(prefix="journey-ingest-") as folder:
            copy = Path(folder) / f"without_long_lines.{fmt}"
            copy_without(path, {line.line for line in long}, copy)
            return self._stage_from(copy, relative, fmt, encoding, long)

    def _stage_from(
        self, path: Path, relative: str, fmt: str, encoding: str, set_aside: list[LongLine]
    ) -> FileOutcome:
        conn = self.conn
        conn.execute("DROP TABLE IF EXISTS _rejects; DROP TABLE IF EXISTS _scans")
        relation = READERS[fmt](conn, self.contract, path, encoding)
        select = validated_select(self.contract, relation.source_types, relation.sql)
        # INSERT answers with the number of rows it inserted.
        good = conn.execute(
            f"INSERT INTO {self.table} SELECT {quote_literal(relative)}, * FROM ({select})"
        ).fetchone()[0]
        rejected = csv_rejected_lines(conn) if fmt in _FIRST_DATA_LINE else []
        rejected += self._swallowed_lines(path, encoding, rejected)
        removed = sorted(line.line for line in set_aside)
        rejected = [
            RejectedLine(_original_line(r.line, removed), r.reason, r.raw, r.unterminated)
            for r in rejected
        ]
        rejected += [
            RejectedLine(
                line.line,
                f"the line is {line.length} bytes long, more than the {MAX_LINE_BYTES} allowed",
                line.head.decode("utf-8", errors="replace")
                + f" {TRUNCATED_MARK} (only the first {len(line.head)} bytes were kept)",
            )
            for line in set_aside
        ]
        rejected.sort(key=lambda r: r.line)
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
            notes=relation.notes,
        )

    def _swallowed_lines(
        self, path: Path, encoding: str, rejected: list[RejectedLine]
    ) -> list[RejectedLine]:
        """Lines after a quote that never closes: the parser read them as part of one value."""
        opened = [r.line for r in rejected if r.unterminated]
        if not opened:
            return []
        first = min(opened)
        self.conn.execute("DROP TABLE IF EXISTS _rejects; DROP TABLE IF EXISTS _scans")
        rows = self.conn.execute(
            f"SELECT _row, left(line, {MAX_RECORD_CHARS}) FROM {text_lines(path, encoding)} "
            f"WHERE _row > {first} ORDER BY _row"
        ).fetchall()
        reason = f"inside the quote opened on line {first}, which never closes"
        return [RejectedLine(int(row), reason, raw or "") for row, raw in rows]

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

    def forget(self, relative: str) -> None:
        """Drop what was staged from one file."""
        self.conn.execute(f"DELETE FROM {self.table} WHERE _file = ?", [relative])
        self.conn.execute(f"DELETE FROM {self.rejected} WHERE _file = ?", [relative])

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
    readiness: LandingReadiness | None = None,
) -> LoadReport:
    """Load every new file of ``contract``'s landing folder; see the module docstring.

    ``readiness`` says when a file is complete (default: the settings' ``landing_readiness``).
    """
    loaded_at = (loaded_at or datetime.now(UTC)).astimezone(UTC).replace(tzinfo=None)
    ensure_tables(conn)
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
    manifest: list[tuple[FileOutcome, int, int, str | None]] = []
    for entry in landing_entries(landing_root, contract, readiness or landing_readiness()):
        relative = entry.relative
        if entry.kind == WAITING:
            # Not recorded: a later run reads it once it is complete.
            outcomes.append(FileOutcome(relative, "waiting", error=entry.reason))
            continue
        if (relative, entry.size, entry.mtime_ns) in seen:
            continue
        if on_file:
            on_file(relative)
        if entry.kind != CANDIDATE:  # hidden or refused: never opened, never hashed
            outcome = FileOutcome(relative, entry.kind, error=entry.reason)
            outcomes.append(outcome)
            manifest.append((outcome, entry.size, entry.mtime_ns, None))
            continue
        outcome, digest = _read_file(batch, entry, loaded_hashes)
        outcomes.append(outcome)
        if outcome.status != WAITING:
            manifest.append((outcome, entry.size, entry.mtime_ns, digest))

    drop_erased_rows(conn, contract, batch.table, load_id)  # rows of people who were forgotten
    dups = batch.duplicate_reasons()
    _commit(conn, contract, batch, dups, manifest, load_id, loaded_at)
    batch.drop(dups)
    return LoadReport(contract.name, load_id, outcomes)


def _read_file(
    batch: _Batch, entry: LandingEntry, loaded_hashes: dict[str, str]
) -> tuple[FileOutcome, str | None]:
    """Stage one candidate file's rows; the outcome says what became of it, whatever it holds."""
    relative, path = entry.relative, entry.path
    try:
        digest = file_sha256(path)
    except OSError as error:
        return FileOutcome(relative, "unreadable", error=_first_line(error)), None
    fmt = file_format(path)
    if digest in loaded_hashes:
        return FileOutcome(
            relative,
            "duplicate_delivery",
            error=f"same content as {loaded_hashes[digest]}, already loaded",
        ), digest
    if fmt is None:
        return FileOutcome(
            relative, "unsupported", error="not a CSV, JSONL or Parquet file (by its name)"
        ), digest
    if entry.size == 0:
        return FileOutcome(relative, "empty", error="file is empty"), digest
    try:
        outcome = batch.stage(path, relative, fmt)
        after = path.stat()
        if (after.st_size, after.st_mtime_ns) != (entry.size, entry.mtime_ns):
            outcome = FileOutcome(relative, WAITING, error="changed while it was read")
    except (MemoryError, OSError, duckdb.OutOfMemoryException) as error:
        # Not the file's fault (memory, disk space, the file system): not recorded as read, so
        # the next run reads it again.
        outcome = FileOutcome(
            relative,
            WAITING,
            error=f"could not be read this time ({_first_line(error)}); the next run retries",
        )
    # One file, whatever is wrong with it, must never stop the others: its outcome says why.
    except Exception as error:
        outcome = FileOutcome(relative, "unreadable", error=_first_line(error))
    if outcome.status != "loaded":
        batch.forget(relative)
    else:
        loaded_hashes[digest] = relative
    return outcome, digest


def _commit(
    conn: duckdb.DuckDBPyConnection,
    contract: SourceContract,
    batch: _Batch,
    dups: str,
    manifest: list[tuple[FileOutcome, int, int, str | None]],
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
            SELECT {quote_literal(contract.name)}, _file, _row,
                CASE WHEN length(_record) > {MAX_RECORD_CHARS}
                    THEN _reason || '; record stored truncated to {MAX_RECORD_CHARS} characters'
                    ELSE _reason END,
                CASE WHEN length(_record) > {MAX_RECORD_CHARS}
                    THEN left(_record, {MAX_RECORD_CHARS}) || ' {TRUNCATED_MARK} ('
                        || length(_record) || ' characters, the first {MAX_RECORD_CHARS} kept)'
                    ELSE _record END,
                {lineage}
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
