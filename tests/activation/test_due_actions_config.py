"""The due-actions sensor launches no dispatch for pending actions while marketing's config is
invalid (each would fail before claiming a row, once a minute), and says why."""

from __future__ import annotations

import shutil
from pathlib import Path

import dagster as dg

from dagster_project.activation.outbox import enqueue
from dagster_project.activation.pending import write_pending
from dagster_project.activation.sensors import due_actions_sensor
from dagster_project.settings import REPO_ROOT
from dagster_project.warehouse import connect
from tests.activation.conftest import CUSTOMERS, NOW, make_warehouse
from tests.factories import resources_for


def _evaluate(root: Path, config: Path) -> dg.SensorResult | dg.SkipReason:
    with dg.instance_for_test() as instance:
        context = dg.build_sensor_context(
            instance=instance, resources=resources_for(root, config_dir=config)
        )
        return due_actions_sensor(context)


def test_pending_actions_wait_for_a_valid_config(tmp_path: Path) -> None:
    root = tmp_path / "data"
    root.mkdir()
    warehouse = make_warehouse(root, dict.fromkeys(CUSTOMERS[:3], "push"))
    with connect(warehouse) as conn:
        enqueue(conn, NOW, "decide-run")
        write_pending(conn, root)
    config = tmp_path / "config"
    shutil.copytree(REPO_ROOT / "config", config)

    launched = _evaluate(root, config)
    assert isinstance(launched, dg.SensorResult) and len(launched.run_requests) == 1

    channels = config / "channels.yaml"
    channels.write_text(channels.read_text() + "\nemail:\n  adapter: smtp\n")  # a second block
    waiting = _evaluate(root, config)
    assert isinstance(waiting, dg.SkipReason)
    assert "wait for a valid marketing config" in waiting.skip_message
    assert "channels.yaml" in waiting.skip_message
