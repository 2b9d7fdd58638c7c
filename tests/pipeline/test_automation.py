"""Automation on (``JOURNEY_AUTOMATION=on``, as ``make dev`` sets it): files land, and with no
one launching anything the real daemon ingests them, refreshes everything downstream and
decides; off, the same sensors and schedules are listed but stopped (issue 17: automation)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from dagster_project.settings import REPO_ROOT
from tests.pipeline.hand_made_landing import pipeline_env, write_landing
from tests.pipeline.test_killed_run import BIN, wait_for

AUTOMATED = {
    "landing_files_sensor",
    "refresh_after_ingest",
    "due_actions_sensor",
    "weekly_model_training",
    "nightly_journey_analytics",
}
LIST_STATUSES = """
from dagster_project.definitions import defs
for item in [*defs.sensors, *defs.schedules]:
    print(item.name, item.default_status.value)
"""


def _default_statuses(automation: str) -> dict[str, str]:
    env = os.environ | {"JOURNEY_AUTOMATION": automation}
    out = subprocess.run(
        [sys.executable, "-c", LIST_STATUSES],
        env=env,
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return dict(line.split() for line in out.splitlines())


def test_automation_runs_by_default_only_when_switched_on() -> None:
    on, off = _default_statuses("on"), _default_statuses("off")
    assert {name for name, status in on.items() if status == "RUNNING"} == AUTOMATED
    assert set(off.values()) == {"STOPPED"}
    assert set(on) == set(off)


def test_a_refresh_follows_an_ingest_of_new_rows_only_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dagster_project.ingest.assets import ingest_job
    from dagster_project.pipeline.jobs import refresh_job
    from dagster_project.pipeline.sensors import refresh_after_ingest

    monkeypatch.setenv("JOURNEY_DATA_DIR", str(tmp_path / "data"))
    write_landing(tmp_path / "data" / "landing")
    with dg.instance_for_test() as instance:

        def evaluate(run_id: str) -> dg.RunRequest | dg.SkipReason:
            run = instance.get_run_by_id(run_id)
            context = dg.build_run_status_sensor_context(
                sensor_name=refresh_after_ingest.name,
                dagster_instance=instance,
                dagster_run=run,
                dagster_event=_success_event(run),
            )
            return refresh_after_ingest(context)

        def ingest() -> str:
            result = _job(ingest_job.name).execute_in_process(instance=instance)
            assert result.success
            return result.run_id

        first = ingest()
        request = evaluate(first)
        assert isinstance(request, dg.RunRequest)
        assert request.run_key == f"refresh-after:{first}"
        # Nothing new landed: the next ingest loads nothing and asks for no refresh.
        assert isinstance(evaluate(ingest()), dg.SkipReason)
        # A refresh not started yet (queued, or created and not launched) covers new rows too.
        instance.create_run_for_job(_job(refresh_job.name), status=dg.DagsterRunStatus.NOT_STARTED)
        assert "has not started yet" in evaluate(first).skip_message


def _job(name: str) -> dg.JobDefinition:
    from dagster_project.definitions import defs

    return defs.resolve_job_def(name)


def _success_event(run: dg.DagsterRun) -> dg.DagsterEvent:
    return dg.DagsterEvent(
        event_type_value=dg.DagsterEventType.RUN_SUCCESS.value, job_name=run.job_name
    )


@pytest.mark.slow
def test_landed_files_are_ingested_refreshed_and_decided_with_no_one_launching(
    tmp_path: Path,
) -> None:
    data, home = tmp_path / "data", tmp_path / "dagster_home"
    env = pipeline_env(tmp_path, JOURNEY_AUTOMATION="on")
    instance = dg.DagsterInstance.from_config(str(home))
    instance.get_runs(limit=1)  # create the stores before the daemon's processes race to
    write_landing(data / "landing")
    log = (tmp_path / "daemon.log").open("w")
    daemon = subprocess.Popen(
        [BIN / "dagster-daemon", "run", "-w", "workspace.yaml"],
        env=env,
        cwd=REPO_ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )

    def finished(job: str):
        def run() -> dg.DagsterRun | None:
            runs = instance.get_runs(filters=dg.RunsFilter(job_name=job), limit=1)
            return runs[0] if runs and runs[0].is_finished else None

        return run

    try:
        ingest = wait_for("an ingest run", finished("ingest_landing_files"), 240)
        assert ingest.status == dg.DagsterRunStatus.SUCCESS
        assert ingest.tags["journey/trigger"] == "landing_files"
        refresh = wait_for("the refresh after it", finished("refresh"), 420)
        assert refresh.status == dg.DagsterRunStatus.SUCCESS, (tmp_path / "daemon.log").read_text()
        assert refresh.tags["journey/trigger"] == "refresh_after_ingest"
    finally:
        os.killpg(daemon.pid, signal.SIGKILL)
        daemon.wait(timeout=60)
        log.close()
        instance.dispose()
    with duckdb.connect(str(data / "warehouse.duckdb"), read_only=True) as conn:
        customers = conn.execute("SELECT count(*) FROM raw.crm__customers").fetchone()[0]
        decided = conn.execute(
            "SELECT count(DISTINCT customer_key) FROM decisioning.next_best_actions"
        ).fetchone()[0]
    assert customers == 6
    assert decided >= 6
