"""``journey run``: the whole pipeline on the landing files already in the data directory.

It executes the Dagster job ``pipeline`` in this process (``pipeline/in_process_run.py``): the
run is an ordinary run of the code location, listed in the Dagster UI and re-executable there.
The terminal shows a progress bar and one summary line per stage; the tools' own output goes
to a log file under ``<data>/logs/``. ``journey demo run`` generates a world and calls the same.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated

import typer

from ..pipeline.in_process_run import PipelineRun, run_pipeline
from ..settings import DataPaths
from .common import DataDirOption, console, paths_for, progress_bar
from .stage_summary import stage_summary
from .tool_output import ToolLog, new_log_path, tool_output_to

# What a step of the pipeline does, in words, by the first part of its step key.
_STEP_WORDS = {
    "raw": "ingest",
    "identity": "identity",
    "profile_models": "profile (dbt models and tests)",
    "marts": "quality (Great Expectations)",
    "training": "training sets",
    "ml": "models",
    "decisioning": "decisions",
    "activation": "deliveries",
    "analytics": "analytics",
    "console": "console",
}


def step_in_words(step_key: str) -> str:
    """``raw__crm__customers`` -> "ingest: crm customers"; a GX suite's step -> "quality: ..."."""
    head, _, rest = step_key.partition("__")
    if "_gx_" in step_key:
        return f"quality: {step_key.rsplit('_gx_', 1)[1].replace('_', ' ')}"
    stage = _STEP_WORDS.get(head if rest else step_key, head)
    detail = rest.replace("__", " ").replace("_", " ")
    return f"{stage}: {detail}" if detail else stage


def execute_pipeline(
    paths: DataPaths,
    log: ToolLog,
    *,
    retrain: bool = True,
    ops_config: Mapping[str, dict] | None = None,
    title: str = "pipeline",
    trigger: str = "journey_run",
) -> PipelineRun:
    """Run the ``pipeline`` job with a progress bar, the tools' output going to ``log``."""
    with tool_output_to(log) as terminal, progress_bar(terminal) as progress:
        task = progress.add_task(title, total=None)

        def on_step(run: PipelineRun, step: str | None) -> None:
            progress.update(
                task,
                total=run.step_count or None,
                completed=len(run.steps),
                description=f"{title}: {step_in_words(step)}" if step else title,
            )

        run = run_pipeline(
            retrain=retrain, ops_config=ops_config, listener=on_step, trigger=trigger
        )
        progress.update(task, description=f"{title}: done", completed=run.step_count)
    return run


def print_run(paths: DataPaths, run: PipelineRun, retrained: bool = True) -> None:
    """The run in a line, a line per stage, and what failed."""
    verdict = "succeeded" if run.success else "FAILED"
    console.print(
        f"Dagster run {run.run_id[:8]} of job pipeline {verdict}: {len(run.steps)} of "
        f"{run.step_count} steps in {run.seconds:.0f} s"
    )
    for line in stage_summary(paths, retrained):  # each fits 80 columns but for a path
        console.print(f"  {line}", highlight=False, soft_wrap=True)
    for step, message in run.failed_steps.items():
        console.print(f"[red]  step {step_in_words(step)} failed: {message[:300]}[/red]")
    for check in run.failed_checks:
        console.print(f"[yellow]  check did not pass: {check}[/yellow]")


def run(
    retrain: Annotated[
        bool, typer.Option(help="Retrain and gate the models (else score with the champions).")
    ] = True,
    data_dir: DataDirOption = None,
) -> None:
    """Run the whole pipeline on the landing files in the data directory, through Dagster."""
    paths = paths_for(data_dir)
    if not paths.landing.exists():
        console.print(
            f"No landing folder at {paths.landing}: put the sources' files there "
            "(see README, 'Your own data'), or run `journey demo run`."
        )
        raise typer.Exit(2)
    log = ToolLog(new_log_path(paths.root, "run"))
    result = execute_pipeline(paths, log, retrain=retrain)
    print_run(paths, result, retrained=retrain)
    log.print_summary()
    console.print("Dagster UI: make dev, then http://127.0.0.1:3000/runs (to re-execute it)")
    if not result.success:
        raise typer.Exit(1)
