"""Run the Dagster pipeline in-process against the instance in ``DAGSTER_HOME``.

Runs launched here are recorded like any other, so after ``make demo`` the Dagster UI shows them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import dagster as dg


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


def run_all_assets(
    skip_groups: tuple[str, ...] = (), ops_config: dict[str, dict] | None = None
) -> PipelineRun:
    """Materialize every asset (but those in ``skip_groups``) with its checks, in dependency
    order; ``ops_config`` is run config per op (e.g. {"activation__deliveries": {...}})."""
    from .definitions import defs

    with dg.DagsterInstance.get() as instance:
        job = defs.resolve_implicit_global_asset_job_def()
        graph = defs.resolve_asset_graph()
        selection = None
        if skip_groups:
            selection = [
                key
                for key in graph.materializable_asset_keys
                if graph.get(key).group_name not in skip_groups
            ]
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
