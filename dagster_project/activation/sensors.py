"""The due-actions sensor: launch a dispatch run when something is due or newly decided.

It never opens the warehouse. It reads ``activation/pending.json`` (what the outbox still has to
send, left by the dispatcher) and, through Dagster's own event log, the latest materialization
of ``decisioning/next_best_actions``: decisions with deliverable actions that no dispatch has
queued yet launch one (activation alone turns decisions into outbox rows). It skips while a
dispatch run is queued or running. The run key is the outbox's state plus the minute, or the
decision materialization's id, so the same state launches at most once. While marketing's config
is invalid it launches no dispatch for what is pending (each would fail before claiming a row,
once a minute) and says why; a new decision still launches one, whose failure names every
problem.
"""

import json
from datetime import UTC, datetime

import dagster as dg

from ..decisioning.assets import NEXT_BEST_ACTIONS
from ..decisioning.config import ConfigError, load_marketing_config
from ..pipeline.automation import sensor_status
from ..resources import MarketingConfigResource, WarehouseResource
from .assets import dispatch_job
from .pending import read_pending

ACTIVE_RUN_STATUSES = [
    dg.DagsterRunStatus.QUEUED,
    dg.DagsterRunStatus.NOT_STARTED,
    dg.DagsterRunStatus.STARTING,
    dg.DagsterRunStatus.STARTED,
]


def _cursor(context: dg.SensorEvaluationContext) -> dict:
    """The last decision materialization acted on, and the last dispatch key launched."""
    try:
        cursor = json.loads(context.cursor) if context.cursor else {}
    except ValueError:
        cursor = {}
    return cursor if isinstance(cursor, dict) else {}


def _latest_deliverable_decisions(context: dg.SensorEvaluationContext) -> int | None:
    """Storage id of the latest decision run, when it decided something deliverable."""
    records = context.instance.fetch_materializations(NEXT_BEST_ACTIONS, limit=1).records
    if not records or records[0].asset_materialization is None:
        return None
    deliverable = records[0].asset_materialization.metadata.get("deliverable")
    return records[0].storage_id if deliverable is not None and deliverable.value else None


@dg.sensor(
    job=dispatch_job,
    minimum_interval_seconds=2,
    default_status=sensor_status(),
    description="Launches dispatch_actions when an action in the outbox is due or a decision "
    "run has produced deliverable actions.",
)
def due_actions_sensor(
    context: dg.SensorEvaluationContext,
    warehouse: WarehouseResource,
    marketing_config: MarketingConfigResource,
) -> dg.SensorResult | dg.SkipReason:
    active = context.instance.get_runs(
        filters=dg.RunsFilter(job_name=dispatch_job.name, statuses=ACTIVE_RUN_STATUSES), limit=1
    )
    if active:
        return dg.SkipReason(f"dispatch run {active[0].run_id} is still going")
    cursor = _cursor(context)
    decisions = _latest_deliverable_decisions(context)
    if decisions is not None and decisions > cursor.get("decisions", -1):
        cursor["decisions"] = decisions
        request = dg.RunRequest(run_key=f"decisions:{decisions}")
        return dg.SensorResult(run_requests=[request], cursor=json.dumps(cursor))
    pending = read_pending(warehouse.paths.root)
    now = datetime.now(UTC)
    if pending is None or pending.count == 0 or pending.next_due is None:
        return dg.SkipReason("nothing pending")
    if pending.next_due > now:
        return dg.SkipReason(f"next action due at {pending.next_due.isoformat()}")
    try:
        load_marketing_config(marketing_config.folder)
    except ConfigError as error:
        first = str(error).splitlines()[0]
        return dg.SkipReason(f"{pending.count} actions wait for a valid marketing config: {first}")
    key = f"dispatch:{pending.fingerprint}:{now:%Y%m%dT%H%M}"
    if key == cursor.get("dispatch"):
        return dg.SkipReason("already launched for this state this minute")
    cursor["dispatch"] = key
    return dg.SensorResult(run_requests=[dg.RunRequest(run_key=key)], cursor=json.dumps(cursor))
