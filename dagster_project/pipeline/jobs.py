"""Jobs that span the stages: the micro-batch, and the whole pipeline run in-process.

Runs launched in-process are recorded in the instance in ``DAGSTER_HOME`` like any other, so after
``make demo`` the Dagster UI shows them.

Micro-batches: new event files land, and within one run the platform ingests them, refreshes
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

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import dagster as dg

from ..ml.assets import MODEL_TRAINING, POLICY_EVALUATION, UPLIFT_EVALUATION
from ..quality.checks import gx_checks
from ..settings import ML

micro_batch_job = dg.define_asset_job(
    "micro_batch",
    # Not in a micro-batch: the training tables, the policy and uplift valuations, and the GX
    # suites (seconds of import and validation); dbt's own tests still gate every model built,
    # and the nightly full run validates with GX.
    selection=dg.AssetSelection.groups("ingest", "profile", ML, "decisioning", "activation")
    - MODEL_TRAINING
    - dg.AssetSelection.assets(POLICY_EVALUATION, UPLIFT_EVALUATION)
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


@dataclass(frozen=True)
class StepTiming:
    step: str
    seconds: float


@dataclass(frozen=True)
class PipelineRun:
    run_id: str
    success: bool
    steps: list[StepTiming]
    failed_checks: list[str]
    failed_steps: dict[str, str]  # step -> error message


def _root_cause(error: Any) -> str:  # Dagster's SerializableErrorInfo
    """The innermost error's message: the wrapper Dagster adds says only which op failed."""
    if error is None:
        return "failed"
    while error.cause is not None:
        error = error.cause
    return error.message.strip()


def run_all_assets(retrain: bool = True, ops_config: dict[str, dict] | None = None) -> PipelineRun:
    """Materialize every asset with its checks, in dependency order (without ``retrain``, the
    models are not retrained: scoring uses the champions as they are); ``ops_config`` is run
    config per op (e.g. {"activation__deliveries": {...}})."""
    from ..definitions import defs

    with dg.DagsterInstance.get() as instance:
        job = defs.resolve_implicit_global_asset_job_def()
        graph = defs.resolve_asset_graph()
        selection = None
        if not retrain:
            skipped = MODEL_TRAINING.resolve(graph)
            selection = [k for k in graph.materializable_asset_keys if k not in skipped]
        result = job.execute_in_process(
            instance=instance,
            raise_on_error=False,
            asset_selection=selection,
            # The run's events are in the instance (and the UI); the terminal gets warnings.
            run_config={
                "loggers": {"console": {"config": {"log_level": "WARNING"}}},
                "ops": {op: {"config": c} for op, c in (ops_config or {}).items()},
            },
        )
        starts: dict[str, float] = {}
        steps: list[StepTiming] = []
        failed_checks: list[str] = []
        failed_steps: dict[str, str] = {}
        for entry in instance.all_logs(result.run_id):
            event = entry.dagster_event
            if event is None:
                continue
            if event.event_type == dg.DagsterEventType.STEP_START:
                starts[event.step_key] = entry.timestamp
            elif event.event_type in (
                dg.DagsterEventType.STEP_SUCCESS,
                dg.DagsterEventType.STEP_FAILURE,
            ):
                started = starts.get(event.step_key, entry.timestamp)
                steps.append(StepTiming(event.step_key, entry.timestamp - started))
                if event.event_type == dg.DagsterEventType.STEP_FAILURE:
                    failed_steps[event.step_key] = _root_cause(event.step_failure_data.error)

            elif event.event_type == dg.DagsterEventType.ASSET_CHECK_EVALUATION:
                evaluation = event.event_specific_data
                if not evaluation.passed:
                    failed_checks.append(
                        f"{evaluation.asset_key.to_user_string()}:{evaluation.check_name}"
                    )
        return PipelineRun(result.run_id, result.success, steps, failed_checks, failed_steps)
