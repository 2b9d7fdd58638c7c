"""Ingestion against a real DuckDB warehouse: every source, every format, every kind of bad input."""

from __future__ import annotations

import csv
import io
import json
import os
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from dagster_project.ingest.contracts import (
    CONTACT_CENTRE_CALLS,
    CONTRACTS,
    FieldType,
    Format,
    SourceContract,
)
from dagster_project.ingest.loader import load_source
from dagster_project.warehouse import connect

GOOD_VALUES = {
    FieldType.INTEGER: "42",
    FieldType.DECIMAL: "1250.5",
    FieldType.BOOLEAN: "true",
    FieldType.DATE: "1984-06-30",
    FieldType.TIMESTAMP: "2026-01-05T10:15:00Z",
}


def good_row(contract: SourceContract, i: int) -> dict[str, str]:
    row = {}
    for f in contract.fields:
        if f.allowed:
            row[f.name] = f.allowed[i % len(f.allowed)]
        elif f.format is Format.EMAIL:
            row[f.name] = f"person{i}@example.com"
        elif f.format is Format.PHONE:
            row[f.name] = f"+1 (555) 201-{i:04d}"
        elif f.type is FieldType.STRING:
            row[f.name] = f"{f.name}-{i}"
        else:
            row[f.name] = GOOD_VALUES[f.type]
    return row


def bad_rows(contract: SourceContract) -> list[tuple[dict[str, str], str]]:
    """Rows that break the contract, each with the field its reason must name."""
    cases = []
    base = 1000
    required = next(f for f in contract.fields if f.required and f.type is FieldType.STRING)
    row = good_row(contract, base)
    row[required.name] = ""
    cases.append((row, f"{required.name}: required field is missing"))
    for f in contract.fields:
        base += 1
        row = good_row(contract, base)
        if f.type in (FieldType.DATE, FieldType.TIMESTAMP):
            row[f.name] = "2026-02-30"
            cases.append((row, f"{f.name}: '2026-02-30' is not a valid"))
        elif f.type in (FieldType.INTEGER, FieldType.DECIMAL, FieldType.BOOLEAN):
            row[f.name] = "abc"
            cases.append((row, f"{f.name}: 'abc' is not a valid"))
        elif f.format is Format.EMAIL:
            row[f.name] = "someone@nowhere"
            cases.append((row, f"{f.name}: 'someone@nowhere' is not a valid email address"))
        elif f.format is Format.PHONE:
            row[f.name] = "call me maybe"
            cases.append((row, f"{f.name}: 'call me maybe' is not a valid phone number"))
        elif f.allowed:
            row[f.name] = "not-a-choice"
            cases.append((row, f"{f.name}: 'not-a-choice' is not one of"))
    return cases


def write_rows(path: Path, rows: list[dict[str, str]], fmt: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    columns = list(rows[0])
    if fmt == "csv":
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
        path.write_text(buffer.getvalue(), encoding="utf-8")
    elif fmt == "jsonl":
        path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    else:
        table = pa.table({c: [r[c] or None for r in rows] for c in columns})
        pq.write_table(table, path)


def ingest(warehouse: Path, landing: Path, contract: SourceContract, load_id: str = "load-1"):
    with connect(warehouse) as conn:
        return load_source(conn, contract, landing, load_id)


def query(warehouse: Path, sql: str, params: list | None = None) -> list[tuple]:
    with connect(warehouse, read_only=True) as conn:
        return conn.execute(sql, params or []).fetchall()


@pytest.mark.parametrize("fmt", ["csv", "jsonl", "parquet"])
@pytest.mark.parametrize("contract", CONTRACTS, ids=lambda c: c.name)
def test_bad_rows_are_quarantined_with_reason_and_good_rows_load(
    tmp_path: Path, contract: SourceContract, fmt: str
) -> None:
    landing, warehouse = tmp_path / "landing", tmp_path / "warehouse.duckdb"
    good = [good_row(contract, i) for i in range(5)]
    bad = bad_rows(contract)
    duplicate = dict(good[0])
    rows = [*good, *(r for r, _ in bad), duplicate]
    write_rows(landing / contract.landing_subdir / f"batch.{fmt}", rows, fmt)

    report = ingest(warehouse, landing, contract)

    assert report.rows_loaded == len(good)
    assert report.rows_quarantined == len(bad) + 1
    loaded = query(
        warehouse, f"SELECT _row_number, _load_id, _source_file FROM raw.{contract.name}"
    )
    first_data_row = 2 if fmt == "csv" else 1  # CSV line 1 is the header
    assert sorted(r[0] for r in loaded) == [first_data_row + i for i in range(5)]
    assert {r[1] for r in loaded} == {"load-1"}
    assert {r[2] for r in loaded} == {f"{contract.landing_subdir}/batch.{fmt}"}

    quarantined = dict(
        query(
            warehouse,
            "SELECT row_number, reason FROM audit.quarantine WHERE source_table = ?",
            [contract.name],
        )
    )
    for index, (_, expected) in enumerate(bad):
        assert expected in quarantined[first_data_row + len(good) + index]
    duplicate_reason = quarantined[first_data_row + len(rows) - 1]
    assert duplicate_reason.startswith("duplicate key")


@pytest.mark.parametrize("contract", CONTRACTS, ids=lambda c: c.name)
def test_broken_files_are_reported_while_other_files_load(
    tmp_path: Path, contract: SourceContract
) -> None:
    landing, warehouse = tmp_path / "landing", tmp_path / "warehouse.duckdb"
    folder = landing / contract.landing_subdir
    write_rows(folder / "a_good.csv", [good_row(contract, i) for i in range(3)], "csv")
    (folder / "b_empty.csv").write_bytes(b"")
    write_rows(folder / "c_truncated.csv", [good_row(contract, i) for i in range(10, 13)], "csv")
    truncated = (folder / "c_truncated.csv").read_bytes()
    (folder / "c_truncated.csv").write_bytes(truncated[: len(truncated) - 25])
    # at rest for minutes (its writer died), not a file still being written, which would wait
    os.utime(folder / "c_truncated.csv", (time.time() - 600, time.time() - 600))
    write_rows(folder / "d_latin1.csv", [good_row(contract, i) for i in range(20, 22)], "csv")
    latin = (folder / "d_latin1.csv").read_bytes().replace(b"-20", b"-\xe920", 1)
    (folder / "d_latin1.csv").write_bytes(latin)
    write_rows(folder / "e_broken.parquet", [good_row(contract, 30)], "parquet")
    parquet = (folder / "e_broken.parquet").read_bytes()
    (folder / "e_broken.parquet").write_bytes(parquet[: len(parquet) // 2])

    report = ingest(warehouse, landing, contract)
    by_file = {Path(f.path).name: f for f in report.files}

    assert by_file["a_good.csv"].rows_loaded == 3
    assert by_file["b_empty.csv"].status == "empty"
    assert by_file["c_truncated.csv"].rows_loaded == 2
    assert by_file["c_truncated.csv"].rows_quarantined == 1
    assert by_file["d_latin1.csv"].rows_loaded == 1
    assert by_file["d_latin1.csv"].rows_quarantined == 1
    assert by_file["e_broken.parquet"].status == "unreadable"
    assert "e_broken.parquet" in " ".join(report.problems)

    reasons = dict(
        query(
            warehouse,
            "SELECT source_file, reason FROM audit.quarantine WHERE source_table = ?",
            [contract.name],
        )
    )
    assert "unparseable line" in reasons[f"{contract.landing_subdir}/c_truncated.csv"]
    assert "INVALID ENCODING" in reasons[f"{contract.landing_subdir}/d_latin1.csv"]
    statuses = dict(query(warehouse, "SELECT path, status FROM audit.ingested_files"))
    assert statuses[f"{contract.landing_subdir}/e_broken.parquet"] == "unreadable"


def test_redelivery_is_loaded_once(tmp_path: Path) -> None:
    contract = CONTACT_CENTRE_CALLS
    landing, warehouse = tmp_path / "landing", tmp_path / "warehouse.duckdb"
    folder = landing / contract.landing_subdir
    write_rows(folder / "calls_1.csv", [good_row(contract, i) for i in range(4)], "csv")

    first = ingest(warehouse, landing, contract, "load-1")
    again = ingest(warehouse, landing, contract, "load-2")
    assert first.rows_loaded == 4
    assert again.files == []  # same path, size and time: not even read

    (folder / "calls_1_resent.csv").write_bytes((folder / "calls_1.csv").read_bytes())
    os.utime(folder / "calls_1.csv", ns=(1, 1))  # touched: hashed again, content unchanged
    third = ingest(warehouse, landing, contract, "load-3")
    assert {f.status for f in third.files} == {"duplicate_delivery"}
    assert query(warehouse, f"SELECT count(*) FROM raw.{contract.name}") == [(4,)]

    overlapping = [good_row(contract, i) for i in range(2, 6)]
    write_rows(folder / "calls_2.csv", overlapping, "csv")
    fourth = ingest(warehouse, landing, contract, "load-4")
    assert fourth.rows_loaded == 2
    assert fourth.rows_quarantined == 2
    reasons = query(
        warehouse, "SELECT reason FROM audit.quarantine WHERE load_id = 'load-4' ORDER BY 1"
    )
    assert all("already loaded from contact_centre/calls/calls_1.csv" in r[0] for r in reasons)


def test_new_column_is_kept_and_missing_optional_column_reported(tmp_path: Path) -> None:
    contract = CONTACT_CENTRE_CALLS
    landing, warehouse = tmp_path / "landing", tmp_path / "warehouse.duckdb"
    rows = [good_row(contract, i) | {"sentiment": "positive"} for i in range(2)]
    for row in rows:
        del row["agent_id"]
    write_rows(landing / contract.landing_subdir / "calls.jsonl", rows, "jsonl")

    report = ingest(warehouse, landing, contract)

    assert report.rows_loaded == 2
    assert report.files[0].new_columns == ["sentiment"]
    assert report.files[0].missing_columns == ["agent_id"]
    assert any("sentiment" in p for p in report.problems)
    extras = query(warehouse, f"SELECT _extra, agent_id FROM raw.{contract.name}")
    assert all(json.loads(e) == {"sentiment": "positive"} and a is None for e, a in extras)


def test_missing_required_column_quarantines_every_row(tmp_path: Path) -> None:
    contract = CONTACT_CENTRE_CALLS
    landing, warehouse = tmp_path / "landing", tmp_path / "warehouse.duckdb"
    rows = [good_row(contract, i) for i in range(3)]
    for row in rows:
        del row["reason_code"]
    write_rows(landing / contract.landing_subdir / "calls.csv", rows, "csv")

    report = ingest(warehouse, landing, contract)

    assert report.rows_loaded == 0
    assert report.rows_quarantined == 3
    assert report.files[0].missing_columns == ["reason_code"]


def test_timestamps_with_offsets_are_stored_in_utc(tmp_path: Path) -> None:
    contract = CONTACT_CENTRE_CALLS
    landing, warehouse = tmp_path / "landing", tmp_path / "warehouse.duckdb"
    row = good_row(contract, 1) | {"call_started_at": "2026-01-05T10:15:00+02:00"}
    write_rows(landing / contract.landing_subdir / "calls.csv", [row], "csv")

    ingest(warehouse, landing, contract)

    stored = query(
        warehouse, "SELECT strftime(call_started_at, '%H:%M') FROM raw.contact_centre__calls"
    )
    assert stored == [("08:15",)]


def test_failed_commit_leaves_nothing_half_loaded(tmp_path: Path) -> None:
    contract = CONTACT_CENTRE_CALLS
    landing, warehouse = tmp_path / "landing", tmp_path / "warehouse.duckdb"
    write_rows(landing / contract.landing_subdir / "calls.csv", [good_row(contract, 1)], "csv")
    with connect(warehouse) as conn:
        load_source(conn, contract, landing, "setup")  # creates the tables
        conn.execute("DELETE FROM raw.contact_centre__calls; DROP TABLE audit.ingested_files")
        # A manifest that refuses the new row makes the commit fail after the raw insert.
        conn.execute(
            """CREATE TABLE audit.ingested_files (
                source_table VARCHAR, path VARCHAR, size_bytes BIGINT, mtime_ns BIGINT,
                sha256 VARCHAR, status VARCHAR CHECK (status = 'never'), rows_read BIGINT,
                rows_loaded BIGINT, rows_quarantined BIGINT, new_columns VARCHAR[],
                missing_columns VARCHAR[], error VARCHAR, load_id VARCHAR, loaded_at TIMESTAMP)"""
        )
        with pytest.raises(Exception, match="CHECK"):
            load_source(conn, contract, landing, "broken")
        assert conn.execute("SELECT count(*) FROM raw.contact_centre__calls").fetchone() == (0,)
        assert conn.execute(
            "SELECT count(*) FROM audit.quarantine WHERE load_id = 'broken'"
        ).fetchone() == (0,)
