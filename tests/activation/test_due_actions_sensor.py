"""The real Dagster daemon runs the due-actions sensor: due actions are delivered exactly once."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from dagster_project.activation.outbox import enqueue
from dagster_project.activation.pending import read_pending, write_pending
from dagster_project.settings import REPO_ROOT
from dagster_project.warehouse import connect
from tests.activation.conftest import CUSTOMERS, NOW, make_warehouse

pytestmark = pytest.mark.slow
BIN = Path(os.environ.get("VIRTUAL_ENV", REPO_ROOT / ".venv")) / "bin"


def test_the_daemon_delivers_due_actions_once(tmp_path: Path) -> None:
    root = tmp_path / "data"
    root.mkdir()
    warehouse = make_warehouse(root, dict.fromkeys(CUSTOMERS[:6], "push"))
    with connect(warehouse) as conn:
        queued = enqueue(conn, NOW, "decide-run")
        write_pending(conn, root)  # what the decision asset leaves for the sensor
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copy(REPO_ROOT / "dagster_instance.yaml", home / "dagster.yaml")
    env = os.environ | {"DAGSTER_HOME": str(home), "JOURNEY_DATA_DIR": str(root)}
    workspace = ["-w", str(REPO_ROOT / "workspace.yaml")]
    subprocess.run(
        [BIN / "dagster", "sensor", "start", "due_actions_sensor", *workspace],
        env=env,
        cwd=REPO_ROOT,
        check=True,
        capture_output=True,
    )
    daemon = subprocess.Popen(
        [BIN / "dagster-daemon", "run", *workspace],
        env=env,
        cwd=REPO_ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            pending = read_pending(root)
            if pending is not None and pending.count == 0:
                break
            time.sleep(1)
        time.sleep(6)  # a few more sensor ticks: nothing more may be launched for this state
    finally:
        daemon.terminate()
        daemon.wait(timeout=60)

    assert read_pending(root).count == 0, "the sensor never got the actions delivered"
    with connect(warehouse, read_only=True) as conn:
        states = dict(
            conn.execute("SELECT state, count(*) FROM activation.outbox GROUP BY 1").fetchall()
        )
        deliveries = conn.execute(
            "SELECT decision_id, count(*) FROM activation.action_log WHERE state = 'delivered' GROUP BY 1"
        ).fetchall()
        runs = conn.execute(
            "SELECT count(DISTINCT dispatch_run_id) FROM activation.action_log "
            "WHERE state = 'delivered'"
        ).fetchone()[0]
    assert states == {"delivered": queued}
    assert {count for _, count in deliveries} == {1}  # each action delivered exactly once
    assert len(list((root / "outbox" / "push").glob("*.json"))) == 6
    assert runs == 1  # one dispatch run did it all; the sensor launched no second one
    advisor = json.loads((root / "outbox" / "advisor_tasks" / "d-advisor.json").read_text())
    assert advisor["context"]["calls"][0]["note"] == "asked about pre-approval"
