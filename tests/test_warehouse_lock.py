"""Two processes and one DuckDB file: the second waits for the first, says whom it waits for,
and gives up with a clear message (a command: exit code 3, no traceback) if it is not released
in time (issue 16: concurrency)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from dagster_project.settings import REPO_ROOT
from dagster_project.warehouse import WarehouseBusyError, connect

BIN = Path(os.environ.get("VIRTUAL_ENV", REPO_ROOT / ".venv")) / "bin"
HOLD = """
import sys, time, duckdb
conn = duckdb.connect(sys.argv[1])
print("holding", flush=True)
time.sleep(float(sys.argv[2]))
"""


@contextmanager
def held(path: Path, seconds: float) -> Iterator[subprocess.Popen]:
    """Another process with the warehouse open for writing for ``seconds``."""
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(path), str(seconds)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout.readline().strip() == "holding"
        yield holder
    finally:
        holder.kill()
        holder.wait()


def test_a_writer_waits_for_the_holder_and_says_whom_for(tmp_path: Path) -> None:
    path = tmp_path / "warehouse.duckdb"
    notices: list[str] = []
    with held(path, 3) as holder:
        started = time.monotonic()
        with connect(path, wait_seconds=60, on_wait=notices.append) as conn:
            waited = time.monotonic() - started
            conn.execute("CREATE TABLE t AS SELECT 1 AS x")
    assert 1.0 < waited < 30
    assert len(notices) == 1
    assert f"waiting for process {holder.pid} (python" in notices[0]
    assert "to release the warehouse warehouse.duckdb" in notices[0]


def test_a_reader_gives_up_with_the_holder_named(tmp_path: Path) -> None:
    path = tmp_path / "warehouse.duckdb"
    with connect(path) as conn:
        conn.execute("CREATE TABLE t AS SELECT 1 AS x")
    with (
        held(path, 60) as holder,
        pytest.raises(WarehouseBusyError) as raised,
        connect(path, read_only=True, wait_seconds=1.5, on_wait=lambda _: None),
    ):
        pass
    assert f"in use by process {holder.pid}" in str(raised.value)
    assert "within 2 s" in str(raised.value)


def test_a_command_on_a_busy_warehouse_exits_with_a_message(tmp_path: Path) -> None:
    root = tmp_path / "data"
    with connect(root / "warehouse.duckdb") as conn:
        conn.execute("CREATE SCHEMA raw")
    env = os.environ | {"JOURNEY_WAREHOUSE_WAIT_SECONDS": "1", "COLUMNS": "200"}
    with held(root / "warehouse.duckdb", 60) as holder:
        done = subprocess.run(
            [BIN / "journey", "status", "--data-dir", root],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
    assert done.returncode == 3, done.stdout + done.stderr
    assert "Warehouse busy" in done.stdout
    assert f"process {holder.pid}" in done.stdout
    assert "Traceback" not in done.stdout + done.stderr


@pytest.mark.parametrize("raw", ["soon", "-1", "inf"])
def test_a_wrong_wait_setting_is_named(raw: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from dagster_project.settings import warehouse_wait_seconds

    monkeypatch.setenv("JOURNEY_WAREHOUSE_WAIT_SECONDS", raw)
    with pytest.raises(ValueError, match="JOURNEY_WAREHOUSE_WAIT_SECONDS"):
        warehouse_wait_seconds()
