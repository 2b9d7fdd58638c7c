"""The pipeline's sensors: after each ingest, a refresh of everything downstream; and the
micro-batch, where new event files land and one run ingests, profiles, scores, decides and
delivers what they can change (the jobs and their rationale are in ``jobs.py``)."""

import dagster as dg

from ..ingest.assets import asset_key, ingest_job
from ..ingest.contracts import (
    CONTACT_CENTRE_CALLS,
    CONTRACTS_BY_NAME,
    EMAIL_EVENTS,
    MESSAGING_EVENTS,
    OUTCOMES_APPLICATIONS,
    WEB_EVENTS,
)
from ..ingest.sensors import landing_changes
from .automation import sensor_status
from .jobs import micro_batch_job, refresh_job

EVENT_SOURCES = (
    WEB_EVENTS,
    EMAIL_EVENTS,
    MESSAGING_EVENTS,
    CONTACT_CENTRE_CALLS,
    OUTCOMES_APPLICATIONS,
)


@dg.run_status_sensor(
    run_status=dg.DagsterRunStatus.SUCCESS,
    monitored_jobs=[ingest_job],
    request_job=refresh_job,
    minimum_interval_seconds=5,
    default_status=sensor_status(),
    description="After each ingest that loaded new rows, refresh identity, the profile, scores, "
    "decisions and deliveries (one refresh waiting to start covers any number of ingests).",
)
def refresh_after_ingest(context: dg.RunStatusSensorContext) -> dg.RunRequest | dg.SkipReason:
    if not rows_loaded(context.instance, context.dagster_run.run_id):
        return dg.SkipReason("the ingest loaded no new rows: nothing to refresh")
    waiting = context.instance.get_runs(
        filters=dg.RunsFilter(
            job_name=refresh_job.name,
            statuses=[dg.DagsterRunStatus.QUEUED, dg.DagsterRunStatus.NOT_STARTED],
        ),
        limit=1,
    )
    if waiting:
        return dg.SkipReason(f"refresh run {waiting[0].run_id} has not started yet: it covers this")
    return dg.RunRequest(
        run_key=f"refresh-after:{context.dagster_run.run_id}",
        tags={"journey/trigger": "refresh_after_ingest"},
    )


def rows_loaded(instance: dg.DagsterInstance, run_id: str) -> int:
    """The rows an ingest run loaded, from its materializations' ``rows_loaded``."""
    total = 0
    for entry in instance.all_logs(run_id, of_type=dg.DagsterEventType.ASSET_MATERIALIZATION):
        loaded = entry.asset_materialization.metadata.get("rows_loaded")
        total += int(loaded.value) if loaded is not None else 0
    return total


@dg.sensor(
    job=micro_batch_job,
    minimum_interval_seconds=2,
    default_status=dg.DefaultSensorStatus.STOPPED,
    description="Launch a micro-batch when an event source's landing folder changes.",
)
def event_micro_batch_sensor(context: dg.SensorEvaluationContext) -> dg.SensorResult:
    changes = landing_changes(context, EVENT_SOURCES, "micro-batch")
    if changes is None:
        return dg.SensorResult(skip_reason="no new event files")
    assets, checks = affected_by(context.repository_def, changes.sources)
    request = dg.RunRequest(
        run_key=changes.run_key,
        asset_selection=assets,
        asset_check_keys=checks,
        tags={"journey/trigger": "micro_batch"},
    )
    return dg.SensorResult(run_requests=[request], cursor=changes.cursor)


def affected_by(
    repository: dg.RepositoryDefinition | None, sources: list[str]
) -> tuple[list[dg.AssetKey] | None, list[dg.AssetCheckKey] | None]:
    """The changed sources' raw assets and what depends on them within the micro-batch (a path
    through identity, which the micro-batch does not run, changes nothing), with the job's
    checks on those assets; (None, None), the whole job, without a repository to ask."""
    if repository is None:
        return None, None
    graph = repository.asset_graph
    in_job = micro_batch_job.selection.resolve(graph)
    keys = {asset_key(CONTRACTS_BY_NAME[source]) for source in sources}
    frontier = list(keys)
    while frontier:
        children = graph.get(frontier.pop()).child_keys & in_job
        frontier.extend(children - keys)
        keys |= children
    checks = [c for c in micro_batch_job.selection.resolve_checks(graph) if c.asset_key in keys]
    return sorted(keys), sorted(checks)
