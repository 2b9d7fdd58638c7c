"""The due-actions sensor: launch a dispatch run when the outbox has something due.

It reads only ``activation/pending.json`` (never the warehouse) and skips while a dispatch run
is already queued or running. The run key is the outbox's state plus the minute, so the same
state launches at most once a minute: a run that failed is retried, a finished one is not
repeated.
"""

from datetime import UTC, datetime

import dagster as dg

from ..resources import WarehouseResource
from .assets import dispatch_job
from .pending import read_pending

_ACTIVE = [
    dg.DagsterRunStatus.QUEUED,
    dg.DagsterRunStatus.NOT_STARTED,
    dg.DagsterRunStatus.STARTING,
    dg.DagsterRunStatus.STARTED,
]


@dg.sensor(
    job=dispatch_job,
    minimum_interval_seconds=2,
    default_status=dg.DefaultSensorStatus.STOPPED,
    description="Launches dispatch_actions when an action in the outbox is due.",
)
def due_actions_sensor(
    context: dg.SensorEvaluationContext, warehouse: WarehouseResource
) -> dg.SensorResult | dg.SkipReason:
    pending = read_pending(warehouse.paths.root)
    now = datetime.now(UTC)
    if pending is None or pending.count == 0 or pending.next_due is None:
        return dg.SkipReason("nothing pending")
    if pending.next_due > now:
        return dg.SkipReason(f"next action due at {pending.next_due.isoformat()}")
    active = context.instance.get_runs(
        filters=dg.RunsFilter(job_name=dispatch_job.name, statuses=_ACTIVE), limit=1
    )
    if active:
        return dg.SkipReason(f"dispatch run {active[0].run_id} is still going")
    key = f"dispatch:{pending.fingerprint}:{now:%Y%m%dT%H%M}"
    if key == context.cursor:
        return dg.SkipReason("already launched for this state this minute")
    return dg.SensorResult(run_requests=[dg.RunRequest(run_key=key)], cursor=key)
