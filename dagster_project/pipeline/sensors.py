"""The micro-batch sensor: new event files land, and one run ingests, profiles, scores, decides and
delivers what they can change (the job and its rationale are in ``jobs.py``)."""

import dagster as dg

from ..ingest.assets import asset_key
from ..ingest.contracts import (
    CONTACT_CENTRE_CALLS,
    CONTRACTS_BY_NAME,
    EMAIL_EVENTS,
    MESSAGING_EVENTS,
    OUTCOMES_APPLICATIONS,
    WEB_EVENTS,
)
from ..ingest.sensors import landing_changes
from .jobs import micro_batch_job

EVENT_SOURCES = (
    WEB_EVENTS,
    EMAIL_EVENTS,
    MESSAGING_EVENTS,
    CONTACT_CENTRE_CALLS,
    OUTCOMES_APPLICATIONS,
)


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
