"""The real-time API's decision log, and its way into ``decisioning.next_best_actions``.

Every plan the API answers from is appended as decision rows (the columns of
``next_best_actions``, keys and scores only) to ``<data dir>/decision_log/api/<server>.jsonl``,
one JSON line each, flushed before the answer goes out. The decision asset ingests the log at
the start of every run: the bytes after the offset it recorded for each file, up to the last
complete line, in the same transaction as the offsets. A decision_id already in the table is
kept as first decided, so reading a line twice changes nothing; the API's contacts are then
queued, delivered and counted against caps exactly like the batch's.
"""

from __future__ import annotations

import json
import math
import os
import threading
import uuid
from dataclasses import dataclass
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from ..decisioning.store import append_decisions
from ..warehouse import transaction

LOG_DIR = ("decision_log", "api")
OFFSETS_TABLE = "decisioning.api_decision_log_files"
TIMESTAMPS = ("scheduled_at", "decided_at")


def log_folder(data_root: Path) -> Path:
    return data_root.joinpath(*LOG_DIR)


def _plain(value: object) -> object:
    if value is None or value is pd.NaT:
        return None
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    if isinstance(value, np.ndarray):
        return [_plain(v) for v in value]
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


class DecisionLog:
    """Appends decision rows to this server's log file, once per decision_id."""

    def __init__(self, data_root: Path, server_id: str | None = None):
        folder = log_folder(data_root)
        folder.mkdir(parents=True, exist_ok=True)
        self.path = folder / f"{server_id or uuid.uuid4().hex[:12]}.jsonl"
        self._handle = self.path.open("a", encoding="utf-8")
        self._lock = threading.Lock()
        self._logged: set[str] = set()

    def append(self, rows: list[dict], run_id: str) -> int:
        """Write the rows not logged before by this server; returns how many."""
        with self._lock:
            fresh = [r for r in rows if r["decision_id"] not in self._logged]
            if not fresh:
                return 0
            lines = "".join(
                json.dumps({k: _plain(v) for k, v in r.items()} | {"decision_run_id": run_id})
                + "\n"
                for r in fresh
            )
            self._handle.write(lines)
            self._handle.flush()
            self._logged.update(r["decision_id"] for r in fresh)
            return len(fresh)

    def close(self) -> None:
        with self._lock:
            self._handle.close()


@dataclass(frozen=True)
class IngestedLog:
    files: int
    rows: int
    new: int


def _complete_lines(path: Path, offset: int) -> tuple[list[str], int]:
    with path.open("rb") as handle:
        handle.seek(offset)
        data = handle.read()
    end = data.rfind(b"\n") + 1
    return data[:end].decode("utf-8").splitlines(), offset + end


def _frame(lines: list[str]) -> pd.DataFrame:
    rows = []
    for line in lines:
        try:
            rows.append(json.loads(line))
        except json.JSONDecodeError:
            continue  # never written whole by this module; skip rather than block every run
    frame = pd.DataFrame(rows)
    for column in TIMESTAMPS:
        if column in frame:
            frame[column] = pd.to_datetime(
                frame[column], utc=True, format="ISO8601"
            ).dt.tz_localize(None)
    return frame


def ingest_decision_log(conn: duckdb.DuckDBPyConnection, data_root: Path) -> IngestedLog:
    """Append the API's new decision rows to next_best_actions, exactly once per line."""
    folder = log_folder(data_root)
    files = sorted(folder.glob("*.jsonl")) if folder.is_dir() else []
    conn.execute(
        f"CREATE SCHEMA IF NOT EXISTS decisioning; CREATE TABLE IF NOT EXISTS {OFFSETS_TABLE} "
        "(path VARCHAR PRIMARY KEY, byte_offset BIGINT NOT NULL)"
    )
    done = dict(conn.execute(f"SELECT path, byte_offset FROM {OFFSETS_TABLE}").fetchall())
    rows = new = 0
    for path in files:
        name = path.name
        offset = int(done.get(name, 0))
        if os.path.getsize(path) <= offset:
            continue
        lines, end = _complete_lines(path, offset)
        if not lines:
            continue
        frame = _frame(lines)
        with transaction(conn):
            new += append_decisions(conn, frame) if len(frame) else 0
            conn.execute(f"INSERT OR REPLACE INTO {OFFSETS_TABLE} VALUES (?, ?)", [name, end])
        rows += len(frame)
    return IngestedLog(files=len(files), rows=rows, new=new)
