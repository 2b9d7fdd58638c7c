"""Dagster for the benchmark: a code location of its own whose sensor launches a no-op run when a
trigger file changes. Its trigger-to-run-finished time is the bare latency of the Dagster daemon
on this machine, the floor any sensor-driven micro-batch stands on. Also what the latency stage
asks the instance (is a micro-batch still going?)."""

from pathlib import Path

import dagster as dg

from ..activation.sensors import ACTIVE_RUN_STATUSES
from ..settings import data_paths

PROBE_DIR = Path("bench_probe")


@dg.op
def touch_marker() -> None:
    marker = data_paths().root / PROBE_DIR / "done"
    trigger = (data_paths().root / PROBE_DIR / "trigger").read_text()
    marker.write_text(trigger)


@dg.job(executor_def=dg.in_process_executor)
def probe_job() -> None:
    touch_marker()


@dg.sensor(job=probe_job, minimum_interval_seconds=2)
def probe_sensor(context: dg.SensorEvaluationContext) -> dg.SensorResult:
    trigger = data_paths().root / PROBE_DIR / "trigger"
    value = trigger.read_text() if trigger.exists() else ""
    if not value or value == context.cursor:
        return dg.SensorResult(skip_reason="no new trigger")
    return dg.SensorResult(run_requests=[dg.RunRequest(run_key=value)], cursor=value)


defs = dg.Definitions(jobs=[probe_job], sensors=[probe_sensor])


def micro_batch_idle() -> bool:
    """Some micro-batch has run, and none is queued or going now, in ``DAGSTER_HOME``'s instance."""
    with dg.DagsterInstance.get() as instance:
        active = instance.get_runs(
            filters=dg.RunsFilter(job_name="micro_batch", statuses=ACTIVE_RUN_STATUSES), limit=1
        )
        done = instance.get_runs(filters=dg.RunsFilter(job_name="micro_batch"), limit=1)
    return not active and bool(done)
