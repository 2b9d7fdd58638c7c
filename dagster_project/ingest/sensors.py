"""Sensor that launches ingestion when files land. It lists folders; it never opens the warehouse."""

import json

import dagster as dg

from ..settings import data_paths
from .assets import asset_key, ingest_job
from .contracts import CONTRACTS, CONTRACTS_BY_NAME
from .landing_watch import changed_sources


@dg.sensor(
    job=ingest_job,
    minimum_interval_seconds=15,
    default_status=dg.DefaultSensorStatus.STOPPED,
    description="Ingest the sources whose landing folder has new or changed files.",
)
def landing_files_sensor(context: dg.SensorEvaluationContext) -> dg.SensorResult:
    previous: dict[str, str] = json.loads(context.cursor) if context.cursor else {}
    changed = changed_sources(data_paths().landing, CONTRACTS, previous)
    if not changed:
        return dg.SensorResult(skip_reason="no new landing files")
    cursor = {**previous, **changed}
    run_key = "landing:" + ",".join(f"{k}={v}" for k, v in sorted(changed.items()))
    request = dg.RunRequest(
        run_key=run_key,
        asset_selection=[asset_key(CONTRACTS_BY_NAME[name]) for name in sorted(changed)],
        tags={"journey/trigger": "landing_files"},
    )
    return dg.SensorResult(run_requests=[request], cursor=json.dumps(cursor, sort_keys=True))
