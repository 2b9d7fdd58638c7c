"""A run killed with SIGKILL does not stall the warehouse pool: with the shipped instance
config, the real daemon marks it failed, stops its step process and frees its slot, and the
next run completes, with no manual step. (A worker killed alone is reported failed by its
code server; the instance config then frees its slot the same way.) (issue 16: self-healing runs)."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import dagster as dg
import pytest
from dagster import DagsterEventType, DagsterRunStatus

from dagster_project.pipeline.run_launcher import _worker
from dagster_project.settings import REPO_ROOT

pytestmark = pytest.mark.slow
BIN = Path(os.environ.get("VIRTUAL_ENV", REPO_ROOT / ".venv")) / "bin"
LOCATION = Path(__file__).with_name("pool_holders.py")


def wait_for(what: str, condition: Callable[[], object], seconds: float) -> object:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if value := condition():
            return value
        time.sleep(0.5)
    raise AssertionError(f"gave up after {seconds:.0f} s waiting for {what}")


@pytest.fixture
def dagster(tmp_path: Path) -> Iterator[tuple[dg.DagsterInstance, Callable[[str], str], dict]]:
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copy(REPO_ROOT / "dagster_instance.yaml", home / "dagster.yaml")
    workspace = tmp_path / "workspace.yaml"
    workspace.write_text(
        f"load_from:\n  - python_file:\n      relative_path: {LOCATION}\n"
        f"      working_directory: {REPO_ROOT}\n"
    )
    env = os.environ | {"DAGSTER_HOME": str(home), "JOURNEY_DATA_DIR": str(tmp_path / "data")}
    # Create the instance's SQLite stores first: processes that all find them missing race to
    # migrate them ("more than one head present").
    instance = dg.DagsterInstance.from_config(str(home))
    instance.get_runs(limit=1)
    log = (tmp_path / "daemon.log").open("w")
    daemon = subprocess.Popen(
        [BIN / "dagster-daemon", "run", "-w", workspace],
        env=env,
        cwd=REPO_ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )

    def launch(job: str) -> str:
        before = {r.run_id for r in instance.get_runs()}
        subprocess.run(
            [BIN / "dagster", "job", "launch", "-w", workspace, "-j", job],
            env=env,
            cwd=REPO_ROOT,
            check=True,
            capture_output=True,
        )
        (run_id,) = {r.run_id for r in instance.get_runs()} - before
        return run_id

    try:
        yield instance, launch, env
    finally:
        os.killpg(daemon.pid, signal.SIGKILL)  # the daemon and the code servers it started
        daemon.wait(timeout=60)
        log.close()


HOLD_IN_THIS_PROCESS = """
import dagster as dg
from tests.pipeline.pool_holders import holds_the_warehouse
with dg.DagsterInstance.get() as instance:
    dg.materialize([holds_the_warehouse], instance=instance)
"""


def test_killed_runs_free_the_pool_for_the_next_run(dagster, tmp_path: Path) -> None:
    instance, launch, env = dagster

    def status(run_id: str) -> DagsterRunStatus:
        return instance.get_run_by_id(run_id).status

    def started(job: str) -> str | None:
        """The run of ``job`` whose step has started (holding the pool's slot)."""
        for run in instance.get_runs():
            if run.job_name != job and job not in run.job_name:
                continue
            if instance.all_logs(run.run_id, of_type=DagsterEventType.STEP_START):
                return run.run_id
        return None

    def why_failed(run_id: str) -> list[str]:
        return [e.message or "" for e in instance.all_logs(run_id)]

    # 1. A run executed in the process of a command (as `journey demo run` does), killed.
    command = subprocess.Popen(
        [BIN / "python", "-c", HOLD_IN_THIS_PROCESS],
        env=env,
        cwd=REPO_ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    in_process = wait_for("the command's run to hold the slot", lambda: started("__ephemeral"), 120)
    # 2. A run launched through the daemon, which waits for the slot meanwhile.
    launched = launch("hold")
    time.sleep(12)  # a monitoring tick: the live command's run is left alone
    assert status(in_process) == DagsterRunStatus.STARTED
    assert not instance.all_logs(launched, of_type=DagsterEventType.STEP_START)

    command.kill()
    command.wait()
    killed_at = time.monotonic()
    wait_for("the launched run to get the slot", lambda: started("hold") == launched, 120)
    assert time.monotonic() - killed_at < 120
    assert status(in_process) == DagsterRunStatus.FAILURE
    assert any("is gone" in m for m in why_failed(in_process)), why_failed(in_process)

    # 3. The launched run's worker killed; its code server reports it, and the slot is freed.
    step = int(
        instance.all_logs(launched, of_type=DagsterEventType.STEP_WORKER_STARTED)[-1]
        .dagster_event.event_specific_data.metadata["pid"]
        .value
    )
    worker, _ = _worker(instance.get_run_by_id(launched), instance)
    writer = launch("write")
    os.kill(worker, signal.SIGKILL)
    killed_at = time.monotonic()
    wait_for("the next run to complete", lambda: status(writer) == DagsterRunStatus.SUCCESS, 120)
    assert time.monotonic() - killed_at < 120
    assert status(launched) == DagsterRunStatus.FAILURE
    assert instance.event_log_storage.get_concurrency_info("warehouse").active_slot_count == 0
    os.kill(step, signal.SIGKILL)  # the launched step's process, left behind by its worker
