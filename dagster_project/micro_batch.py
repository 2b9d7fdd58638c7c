"""Micro-batches: new event files land, and within one run the platform ingests them, refreshes
the profile, rescores, decides and delivers.

``event_micro_batch_sensor`` (stopped by default) watches the event sources' landing folders (it
never opens the warehouse) and launches ``micro_batch``, which runs in one process, step after
step, to keep the latency of a small batch low. Identity is not re-run: events of known devices,
addresses and phones map to their customer at once; new people get their key at the nightly
reconcile. Run it instead of ``landing_files_sensor``, not beside it.

``customer_features`` does not need the training tables, so the micro-batch builds the dbt models
the decision reads and their tests, not the training snapshots. Each run takes only what the new
files can change: the changed sources' raw assets and everything in the job downstream of them,
with their checks (a web events file leaves the CRM loads and the customer dimension alone).
"""

import dagster as dg

from .ingest.assets import asset_key
from .ingest.contracts import (
    CONTACT_CENTRE_CALLS,
    CONTRACTS_BY_NAME,
    EMAIL_EVENTS,
    MESSAGING_EVENTS,
    OUTCOMES_APPLICATIONS,
    WEB_EVENTS,
)
from .ingest.sensors import landing_changes
from .ml.assets import POLICY_EVALUATION
from .quality.checks import gx_checks

EVENT_SOURCES = (
    WEB_EVENTS,
    EMAIL_EVENTS,
    MESSAGING_EVENTS,
    CONTACT_CENTRE_CALLS,
    OUTCOMES_APPLICATIONS,
)

micro_batch_job = dg.define_asset_job(
    "micro_batch",
    # Not in a micro-batch: the training tables, the policy valuation, and the Great Expectations
    # suites (seconds of import and validation); dbt's own tests still gate every model built,
    # and the nightly full run validates with GX.
    selection=dg.AssetSelection.groups("ingest", "profile", "scoring", "decisioning", "activation")
    - dg.AssetSelection.assets(POLICY_EVALUATION)
    - dg.AssetSelection.key_prefixes("training")
    - dg.AssetSelection.checks(*gx_checks),
    executor_def=dg.in_process_executor,
    config={
        "ops": {
            # Scores without reason codes (arbitration reads them for top offers only when
            # present), and deliveries at the wall clock.
            "ml__customer_scores": {"config": {"reason_codes": False}},
        }
    },
    description="New events -> ingest -> profile -> scores -> decisions -> deliveries, one run.",
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
