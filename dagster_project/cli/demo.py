"""``journey demo``: generate a demo world, or generate it and run every stage through Dagster."""

from __future__ import annotations

import os
import shutil
from typing import Annotated

import typer

from ..settings import SCORES_TABLE, DataPaths
from .common import (
    DataDirOption,
    console,
    narrow_table,
    paths_for,
    print_path,
    progress_bar,
)
from .models import print_policy_values
from .run import execute_pipeline, print_run
from .tool_output import ToolLog, new_log_path

demo_app = typer.Typer(help="The demo world: generate it, or generate it and run the pipeline.")


# A demo world lives in its own time: deliveries go out on the decisions' clock, not today's.
# Each contact goes out when it falls due (its best hour) before the next day's decision.
WORLD_CLOCK = {"activation__deliveries": {"use_decision_clock": True, "simulate_hours": 24}}


def _generate(paths: DataPaths, customers: int, days: int, seed: int) -> None:
    from ..demo.world import WorldConfig, generate_world

    config = WorldConfig(customers=customers, days=days, seed=seed)
    with progress_bar() as progress:
        task = progress.add_task("generating demo world", total=1.0)

        def report(stage: str, fraction: float) -> None:
            progress.update(task, description=stage, completed=fraction)

        summary = generate_world(paths, config, progress=report)
        progress.update(task, description="demo world written", completed=1.0)
    console.print(
        f"{summary.persons:,} people ({summary.households:,} shared households), "
        f"{summary.crm_records:,} CRM records, {sum(summary.rows.values()):,} rows in "
        f"{summary.files} files",
        highlight=False,
    )
    print_path("landing files in", summary.landing)
    print_path("truth (for evaluation only) in", summary.truth)


@demo_app.command("generate")
def demo_generate(
    customers: Annotated[int, typer.Option(help="People in the world.")] = 2000,
    days: Annotated[int, typer.Option(help="Days of activity.")] = 70,
    seed: Annotated[
        int, typer.Option(help="Random seed; the same seed gives the same files.")
    ] = 42,
    data_dir: DataDirOption = None,
) -> None:
    """Write landing files (and the truth the pipeline never reads) for a demo world."""
    _generate(paths_for(data_dir), customers, days, seed)


@demo_app.command("run")
def demo_run(
    customers: Annotated[int, typer.Option(help="People in the world.")] = 2000,
    days: Annotated[int, typer.Option(help="Days of activity.")] = 70,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 42,
    keep: Annotated[
        bool, typer.Option(help="Keep the existing landing files and warehouse.")
    ] = False,
    loop_days: Annotated[
        int, typer.Option(help="Simulated days after the world in which it answers deliveries.")
    ] = 2,
    data_dir: DataDirOption = None,
) -> None:
    """Generate a demo world, run every pipeline stage through Dagster, and say where to look."""
    paths = paths_for(data_dir)
    if not keep:
        # A fresh world starts a fresh embedded model registry (a team server is left alone).
        fresh = [
            paths.landing,
            paths.truth,
            *(
                paths.root / d
                for d in ("outbox", "exports", "activation", "analytics", "decision_log")
            ),
        ]
        if not os.environ.get("MLFLOW_TRACKING_URI"):
            fresh.append(paths.root / "mlflow")
        for folder in fresh:
            shutil.rmtree(folder, ignore_errors=True)
        paths.warehouse.unlink(missing_ok=True)
    _generate(paths, customers, days, seed)

    log = ToolLog(new_log_path(paths.root, "demo"))
    run = execute_pipeline(paths, log, ops_config=WORLD_CLOCK, trigger="journey_demo")
    print_run(paths, run)
    success = run.success
    if success:
        print_policy_values(paths)
        if loop_days:
            from .closed_loop import run_closed_loop

            success = run_closed_loop(paths, log, loop_days, seed)
        _print_attribution_check(paths)
    log.print_summary()
    console.print("[bold]Where to look[/bold]")
    console.print(
        "  Dagster UI  make dev, then http://127.0.0.1:3000/runs (re-execute from there)\n"
        "  MLflow UI   make mlflow, then http://127.0.0.1:5000; or journey models list\n"
        "  console     journey console, then http://127.0.0.1:8050 (plan, results)\n"
        "  next        .venv/bin/journey status, or journey run on new landing files",
        highlight=False,
    )
    print_path("  warehouse  ", paths.warehouse)
    console.print(
        f"              raw, audit.quarantine, identity, marts, {SCORES_TABLE},\n"
        "              decisioning, activation, analytics",
        highlight=False,
    )
    if not success:
        raise typer.Exit(1)


def _print_attribution_check(paths: DataPaths) -> None:
    """Attribution against the closed loop's causal truth, when the report computed it."""
    from ..warehouse import connect, table_exists

    with connect(paths.warehouse, read_only=True) as conn:
        if not table_exists(conn, "analytics.attribution_validation"):
            return
        rows = conn.execute(
            "SELECT * FROM analytics.attribution_validation ORDER BY relative_error"
        ).df()
    table = narrow_table("Attribution against the truth: conversions caused by e/p/s")
    for column in ("model", "credited (email/push/sms)", "caused", "relative error"):
        table.add_column(column, justify="right")
    for row in rows.itertuples():
        table.add_row(
            row.model,
            "/".join(f"{getattr(row, f'credited_{c}'):.1f}" for c in ("email", "push", "sms")),
            "/".join(f"{getattr(row, f'caused_{c}'):.0f}" for c in ("email", "push", "sms")),
            f"{row.relative_error:.3f}",
        )
    console.print(table)
