"""What the outbox still has to send, as a small file sensors can read without the warehouse.

Sensors must not open DuckDB (one writer; a reader in another process collides with it), so the
dispatcher and the decision asset leave ``<data dir>/activation/pending.json`` behind: how many
actions are undelivered and when the next one falls due.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from .outbox import OUTBOX, RETRYABLE, ensure_tables

PENDING_FILE = Path("activation") / "pending.json"


@dataclass(frozen=True)
class Pending:
    count: int
    next_due: datetime | None  # UTC

    @property
    def fingerprint(self) -> str:
        return f"{self.count}@{self.next_due.isoformat() if self.next_due else '-'}"


def write_pending(conn: duckdb.DuckDBPyConnection, data_root: Path) -> Pending:
    ensure_tables(conn)
    states = ", ".join(f"'{s}'" for s in RETRYABLE)
    count, next_due = conn.execute(
        f"SELECT count(*), min(next_attempt_at) FROM {OUTBOX} WHERE state IN ({states})"
    ).fetchone()
    pending = Pending(count, next_due.replace(tzinfo=UTC) if next_due else None)
    path = data_root / PENDING_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".partial")
    partial.write_text(
        json.dumps({"count": count, "next_due": pending.next_due.isoformat() if next_due else None})
    )
    partial.replace(path)
    return pending


def read_pending(data_root: Path) -> Pending | None:
    path = data_root / PENDING_FILE
    if not path.exists():
        return None
    data = json.loads(path.read_text())
    due = datetime.fromisoformat(data["next_due"]) if data["next_due"] else None
    return Pending(int(data["count"]), due)
