"""What the warehouse holds after ingestion, for the CLI and the demo's closing report."""

from __future__ import annotations

from dataclasses import dataclass

import duckdb

from .contracts import CONTRACTS


@dataclass(frozen=True)
class TableSummary:
    table: str
    rows: int
    quarantined: int
    files: int
    problem_files: int


def ingest_summary(conn: duckdb.DuckDBPyConnection) -> list[TableSummary]:
    existing = {
        row[0]
        for row in conn.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'raw'"
        ).fetchall()
    }
    if not existing:
        return []
    quarantined = dict(
        conn.execute("SELECT source_table, count(*) FROM audit.quarantine GROUP BY ALL").fetchall()
    )
    files = {
        name: (total, problems)
        for name, total, problems in conn.execute(
            "SELECT source_table, count(*), count(*) FILTER (WHERE status <> 'loaded') "
            "FROM audit.ingested_files GROUP BY ALL"
        ).fetchall()
    }
    summaries = []
    for contract in CONTRACTS:
        if contract.name not in existing:
            continue
        rows = conn.execute(f"SELECT count(*) FROM raw.{contract.name}").fetchone()[0]
        total, problems = files.get(contract.name, (0, 0))
        summaries.append(
            TableSummary(contract.name, rows, quarantined.get(contract.name, 0), total, problems)
        )
    return summaries
