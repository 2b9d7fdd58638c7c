"""Sensor that launches ingestion when files land. It lists folders; it never opens the warehouse."""

import json
from dataclasses import dataclass

import dagster as dg

from ..pipeline.automation import sensor_status
from ..settings import data_paths
from .assets import asset_key, ingest_job
from .contracts import CONTRACTS, CONTRACTS_BY_NAME, SourceContract
from .landing_watch import changed_sources


@dataclass(frozen=True)
class LandingChanges:
    sources: list[str]  # contract names whose landing folder changed, sorted
    cursor: str  # the sensor's next cursor
    run_key: str  # unique per set of fingerprints, so a change launches once


def landing_changes(
    context: dg.SensorEvaluationContext, contracts: tuple[SourceContract, ...], prefix: str
) -> LandingChanges | None:
    """What changed in these sources' landing folders since the cursor, or None."""
    previous: dict[str, str] = json.loads(context.cursor) if context.cursor else {}
    changed = changed_sources(data_paths().landing, contracts, previous)
    if not changed:
        return None
    return LandingChanges(
        sources=sorted(changed),
        cursor=json.dumps({**previous, **changed}, sort_keys=True),
        run_key=f"{prefix}:" + ",".join(f"{k}={v}" for k, v in sorted(changed.items())),
    )


@dg.sensor(
    job=ingest_job,
    minimum_interval_seconds=15,
    default_status=sensor_status(),
    description="Ingest the sources whose landing folder has new or changed files.",
)
def landing_files_sensor(context: dg.SensorEvaluationContext) -> dg.SensorResult:
    changes = landing_changes(context, CONTRACTS, "landing")
    if changes is None:
        return dg.SensorResult(skip_reason="no new landing files")
    request = dg.RunRequest(
        run_key=changes.run_key,
        asset_selection=[asset_key(CONTRACTS_BY_NAME[name]) for name in changes.sources],
        tags={"journey/trigger": "landing_files"},
    )
    return dg.SensorResult(run_requests=[request], cursor=changes.cursor)
