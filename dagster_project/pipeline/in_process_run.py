"""Runs of the ``pipeline`` job executed in the calling process, recorded as runs of the code
location.

``journey run`` and ``journey demo run`` need no daemon or code server: the run executes here,
so the tools' output goes wherever this process's file descriptors point (the commands send it
to a log file). Yet each run carries the origin a run launched from the Dagster UI has (code
location ``journey_orchestrator`` of ``workspace.yaml``, job ``pipeline``), so the UI lists it
beside the others and can re-execute it, whole, from a failure or one step at a time.

The run monitor's health check finds such a run's worker (this process) by the process that
logged the run's start (``run_launcher.py``).
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import dagster as dg

CODE_LOCATION = "journey_orchestrator"  # workspace.yaml's location_name
DEFINITIONS_MODULE = "dagster_project.definitions"


@dataclass(frozen=True)
class StepTiming:
    step: str
    seconds: float


@dataclass
class PipelineRun:
    run_id: str
    success: bool = False
    steps: list[StepTiming] = field(default_factory=list)
    failed_checks: list[str] = field(default_factory=list)
    failed_steps: dict[str, str] = field(default_factory=dict)  # step -> error message
    step_count: int = 0  # steps the run was planned to execute
    seconds: float = 0.0


# Called with the run so far and the step that just started (None once a step has ended).
StepListener = Callable[[PipelineRun, str | None], None]


def _root_cause(error: Any) -> str:  # Dagster's SerializableErrorInfo
    """The innermost error's message: the wrapper Dagster adds says only which op failed."""
    if error is None:
        return "failed"
    while error.cause is not None:
        error = error.cause
    return error.message.strip()


def _origins(job_name: str, asset_selection: frozenset[dg.AssetKey] | None):
    """The job, reconstructable from this code location's module, and the origin the UI knows
    it by (the same location and repository names as the workspace's)."""
    from dagster._core.definitions.reconstruct import ReconstructableRepository
    from dagster._core.definitions.repository_definition.valid_definitions import (
        SINGLETON_REPOSITORY_NAME,
    )
    from dagster._core.remote_origin import (
        ManagedGrpcPythonEnvCodeLocationOrigin,
        RemoteRepositoryOrigin,
    )
    from dagster._core.types.loadable_target_origin import LoadableTargetOrigin

    working_directory = os.getcwd()
    repository = ReconstructableRepository.for_module(DEFINITIONS_MODULE, "defs", working_directory)
    job = repository.get_reconstructable_job(job_name)
    if asset_selection is not None:
        job = job.get_subset(asset_selection=asset_selection)
    location = ManagedGrpcPythonEnvCodeLocationOrigin(
        LoadableTargetOrigin(
            executable_path=sys.executable,
            module_name=DEFINITIONS_MODULE,
            working_directory=working_directory,
        ),
        CODE_LOCATION,
    )
    remote = RemoteRepositoryOrigin(location, SINGLETON_REPOSITORY_NAME).get_job_origin(job_name)
    return job, remote


def run_pipeline(
    retrain: bool = True,
    ops_config: Mapping[str, dict] | None = None,
    listener: StepListener | None = None,
    trigger: str = "journey_run",
) -> PipelineRun:
    """Execute the ``pipeline`` job here: every asset with its checks, in dependency order
    (without ``retrain``, the models are not retrained: scoring uses the champions as they are);
    ``ops_config`` is run config per op (e.g. {"activation__deliveries": {...}})."""
    from dagster._core.execution.api import execute_run_iterator

    from ..definitions import defs
    from ..ml.assets import MODEL_TRAINING
    from .jobs import PIPELINE_JOB

    selection = None
    if not retrain:
        graph = defs.resolve_asset_graph()
        skipped = MODEL_TRAINING.resolve(graph)
        selection = frozenset(k for k in graph.materializable_asset_keys if k not in skipped)
    job, remote_origin = _origins(PIPELINE_JOB, selection)
    run_config = {
        # The run's events are in the instance (and the UI); the process's output gets warnings.
        "loggers": {"console": {"config": {"log_level": "WARNING"}}},
        "ops": {op: {"config": c} for op, c in (ops_config or {}).items()},
    }
    started = time.perf_counter()
    with dg.DagsterInstance.get() as instance:
        dagster_run = instance.create_run_for_job(
            job_def=job.get_definition(),
            run_config=run_config,
            asset_selection=selection,
            remote_job_origin=remote_origin,
            job_code_origin=job.get_python_origin(),
            tags={"journey/trigger": trigger},
        )
        plan = instance.get_execution_plan_snapshot(dagster_run.execution_plan_snapshot_id)
        run = PipelineRun(dagster_run.run_id, step_count=len(plan.step_keys_to_execute))
        step_started: dict[str, float] = {}
        for event in execute_run_iterator(job, dagster_run, instance):
            _record(run, event, step_started, listener)
        final = instance.get_run_by_id(dagster_run.run_id)
        run.success = final is not None and final.status == dg.DagsterRunStatus.SUCCESS
    run.seconds = time.perf_counter() - started
    return run


def _record(
    run: PipelineRun,
    event: dg.DagsterEvent,
    step_started: dict[str, float],
    listener: StepListener | None,
) -> None:
    kind = event.event_type
    if kind == dg.DagsterEventType.STEP_START:
        step_started[event.step_key] = time.perf_counter()
        if listener:
            listener(run, event.step_key)
    elif kind in (dg.DagsterEventType.STEP_SUCCESS, dg.DagsterEventType.STEP_FAILURE):
        began = step_started.get(event.step_key, time.perf_counter())
        run.steps.append(StepTiming(event.step_key, time.perf_counter() - began))
        if kind == dg.DagsterEventType.STEP_FAILURE:
            run.failed_steps[event.step_key] = _root_cause(event.step_failure_data.error)
        if listener:
            listener(run, None)
    elif kind == dg.DagsterEventType.ASSET_CHECK_EVALUATION:
        evaluation = event.event_specific_data
        if not evaluation.passed:
            run.failed_checks.append(
                f"{evaluation.asset_key.to_user_string()}:{evaluation.check_name}"
            )
