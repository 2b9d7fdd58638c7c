"""Read one landing file (CSV, JSONL or Parquet) as a relation the validator understands.

Every reader exposes the contract's fields by name (NULL when the file lacks the column), the
row's position in the file, undeclared columns as JSON, and a parse error for lines that could not
be parsed. Readers never drop a line: what the parser rejects is returned for quarantine.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from ..warehouse import quote_identifier, quote_literal
from .content_sniff import UnreadableFile, head_bytes
from .contracts import SourceContract

FORMATS = {
    ".csv": "csv",
    ".csv.gz": "csv",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".json": "jsonl",
    ".jsonl.gz": "jsonl",
    ".parquet": "parquet",
}

# The JSONL reader splits lines with the CSV scanner; this separator never occurs in JSON text.
_NO_SEPARATOR = "\x1e"


def file_format(path: Path) -> str | None:
    name = path.name.lower()
    for suffix, fmt in sorted(FORMATS.items(), key=lambda kv: -len(kv[0])):
        if name.endswith(suffix):
            return fmt
    return None


@dataclass
class FileRelation:
    """SQL for one file's rows, and what the reader learned about its columns."""

    sql: str
    source_types: dict[str, str]
    new_columns: list[str] = field(default_factory=list)
    missing_columns: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class RejectedLine:
    line: int
    reason: str
    raw: str
    unterminated: bool = False  # a quote opened here never closes: the line swallowed the rest


TRUNCATED_MARK = "[TRUNCATED]"


def _match_columns(
    contract: SourceContract, columns: dict[str, str]
) -> tuple[dict[str, str], list[str], list[str]]:
    """Map contract fields to file columns, case- and space-insensitively."""
    by_norm = {name.strip().lower(): name for name in columns}
    mapping = {
        f.name: by_norm[f.name.lower()] for f in contract.fields if f.name.lower() in by_norm
    }
    used = set(mapping.values())
    new = [c for c in columns if c not in used]
    missing = [f.name for f in contract.fields if f.name not in mapping]
    return mapping, new, missing


def _projection(
    contract: SourceContract, mapping: dict[str, str], new: list[str], column_sql
) -> tuple[str, str]:
    fields = ", ".join(
        f"{column_sql(mapping[f.name])} AS {quote_identifier(f.name)}"
        if f.name in mapping
        else f"CAST(NULL AS VARCHAR) AS {quote_identifier(f.name)}"
        for f in contract.fields
    )
    if new:
        pairs = ", ".join(f"{quote_literal(c)}, {column_sql(c)}" for c in new)
        extra = f"CAST(json_object({pairs}) AS VARCHAR)"
    else:
        extra = "CAST(NULL AS VARCHAR)"
    return fields, extra


HEADER_BYTES = 1024 * 1024
DELIMITERS = (",", ";", "\t", "|")


def _csv_header(path: Path, encoding: str) -> list[str]:
    """Column names from the header line, read leniently so a bad byte cannot hide them.

    Only the first megabyte is read: a header longer than that is not a header.
    """
    head = head_bytes(path, HEADER_BYTES)
    text = head.decode("utf-16" if encoding == "utf-16" else "utf-8-sig", errors="replace")
    breaks = [i for i in (text.find("\n"), text.find("\r")) if i != -1]
    if not breaks and len(head) >= HEADER_BYTES:
        raise UnreadableFile(f"the header line is longer than {HEADER_BYTES // 1024} KB")
    line = text[: min(breaks)] if breaks else text
    if not line.strip():
        raise UnreadableFile("the header line is empty")
    return _split_header(line)


def _split_header(line: str) -> list[str]:
    try:
        return next(csv.reader([line]))
    except csv.Error as error:
        raise UnreadableFile(f"the header line cannot be parsed ({error})") from error


def header_delimiter(contract: SourceContract, header_line: str) -> str:
    """The delimiter that splits the header into contract columns (',' unless another does)."""
    known = {f.name.lower() for f in contract.fields}

    def matches(delimiter: str) -> int:
        names = next(csv.reader([header_line], delimiter=delimiter), [])
        return sum(1 for n in names if n.strip().lower() in known)

    best = max(DELIMITERS, key=lambda d: (matches(d), d == ","))
    return best if matches(best) > matches(",") else ","


def csv_relation(
    conn: duckdb.DuckDBPyConnection, contract: SourceContract, path: Path, encoding: str = "utf-8"
) -> FileRelation:
    header = _csv_header(path, encoding)
    delimiter = ","
    if len(header) == 1:
        delimiter = header_delimiter(contract, header[0])
        if delimiter != ",":
            header = next(csv.reader([header[0]], delimiter=delimiter))
    if len(set(header)) != len(header):
        repeated = sorted({name for name in header if header.count(name) > 1})
        raise UnreadableFile(f"the header repeats a column name: {', '.join(repeated)}")
    mapping, new, missing = _match_columns(contract, dict.fromkeys(header, "VARCHAR"))
    if not mapping:
        raise UnreadableFile(
            f"no column of the header ({len(header)} columns) is one of the contract's"
        )
    fields, extra = _projection(contract, mapping, new, quote_identifier)
    # The header is given, not sniffed: sniffing fails on the very files that need quarantine.
    columns = ", ".join(f"{quote_literal(name)}: 'VARCHAR'" for name in header)
    source = (
        f"read_csv({quote_literal(str(path))}, columns = {{{columns}}}, header = true, "
        f"auto_detect = false, delim = {quote_literal(delimiter)}, quote = '\"', escape = '\"', "
        f"encoding = {quote_literal(encoding)}, "
        "store_rejects = true, rejects_table = '_rejects', rejects_scan = '_scans')"
    )
    sql = (
        f"(SELECT {fields}, row_number() OVER () + 1 AS _row, {extra} AS _extra, "
        f"CAST(NULL AS VARCHAR) AS _parse_error, CAST(NULL AS VARCHAR) AS _raw FROM {source})"
    )
    relation = FileRelation(sql, {}, new, missing)
    if delimiter != ",":
        relation.notes.append(f"read as {delimiter!r}-separated")
    return relation


def csv_rejected_lines(conn: duckdb.DuckDBPyConnection) -> list[RejectedLine]:
    """Lines the CSV parser refused in the last scan (bad encoding, wrong column count...).

    A line over the maximum size comes back cut short by DuckDB; its record says so.
    """
    exists = conn.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE table_name = '_rejects' AND temporary"
    ).fetchone()[0]
    if not exists:
        return []
    rows = conn.execute(
        "SELECT line, string_agg(DISTINCT error_type, ', ') || ' (' "
        "|| coalesce(arg_min(error_message, column_idx), 'no message') || ')', any_value(csv_line), "
        "bool_or(error_type = 'LINE SIZE OVER MAXIMUM'), "
        "bool_or(error_message ILIKE '%unterminated quote%') "
        "FROM _rejects GROUP BY line ORDER BY line"
    ).fetchall()
    rejected = []
    for line, reason, raw, too_long, unterminated in rows:
        raw = raw or ""
        if too_long:
            raw += f" {TRUNCATED_MARK} (only the first {len(raw)} characters were kept)"
        rejected.append(RejectedLine(int(line), reason, raw, unterminated=bool(unterminated)))
    return rejected


def text_lines(path: Path, encoding: str = "utf-8") -> str:
    """Every line of a text file as (line, _row), parse problems kept in the rejects table."""
    return (
        f"(SELECT line, row_number() OVER () AS _row FROM read_csv({quote_literal(str(path))}, "
        f"columns = {{'line': 'VARCHAR'}}, header = false, delim = {quote_literal(_NO_SEPARATOR)}, "
        f"quote = '', escape = '', encoding = {quote_literal(encoding)}, store_rejects = true, "
        "rejects_table = '_rejects', rejects_scan = '_scans'))"
    )


def jsonl_relation(
    conn: duckdb.DuckDBPyConnection, contract: SourceContract, path: Path, encoding: str = "utf-8"
) -> FileRelation:
    keys = conn.execute(
        f"SELECT DISTINCT unnest(json_keys(CAST(line AS JSON))) FROM {text_lines(path, encoding)} "
        "WHERE json_valid(line) AND json_type(CAST(line AS JSON)) = 'OBJECT'"
    ).fetchall()
    conn.execute("DROP TABLE IF EXISTS _rejects; DROP TABLE IF EXISTS _scans")
    columns = {k[0]: "VARCHAR" for k in sorted(keys)}
    mapping, new, missing = _match_columns(contract, columns)

    def extract(name: str) -> str:
        return f"(j->>{quote_literal('$.' + quote_identifier(name))})"

    fields, extra = _projection(contract, mapping, new, extract)
    parsed = (
        "SELECT line, _row, CASE WHEN valid THEN CAST(line AS JSON) END AS j, "
        "CASE WHEN NOT valid THEN 'line is not valid JSON' "
        "WHEN json_type(CAST(line AS JSON)) <> 'OBJECT' THEN 'line is not a JSON object' END "
        "AS _parse_error "
        f"FROM (SELECT *, json_valid(line) AS valid FROM {text_lines(path, encoding)} "
        "WHERE trim(coalesce(line, '')) <> '')"
    )
    sql = (
        f"(SELECT {fields}, _row, {extra} AS _extra, _parse_error, "
        f"CASE WHEN _parse_error IS NOT NULL THEN line END AS _raw FROM ({parsed}))"
    )
    return FileRelation(sql, {}, new, missing)


def parquet_relation(
    conn: duckdb.DuckDBPyConnection, contract: SourceContract, path: Path, encoding: str = "utf-8"
) -> FileRelation:
    del encoding  # Parquet carries its own types
    source = f"read_parquet({quote_literal(str(path))})"
    described = conn.execute(f"DESCRIBE SELECT * FROM {source}").fetchall()
    columns = {row[0]: row[1] for row in described}
    mapping, new, missing = _match_columns(contract, columns)
    fields, extra = _projection(contract, mapping, new, quote_identifier)
    sql = (
        f"(SELECT {fields}, file_row_number + 1 AS _row, {extra} AS _extra, "
        f"CAST(NULL AS VARCHAR) AS _parse_error, CAST(NULL AS VARCHAR) AS _raw "
        f"FROM read_parquet({quote_literal(str(path))}, file_row_number = true))"
    )
    types = {f: columns[mapping[f]] for f in mapping}
    return FileRelation(sql, types, new, missing)


READERS = {"csv": csv_relation, "jsonl": jsonl_relation, "parquet": parquet_relation}
