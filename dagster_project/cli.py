"""The ``journey`` command line: the home of every task that is not in the Dagster UI."""

from __future__ import annotations

import dataclasses
import os
import shutil
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from .models_cli import models_app, print_models, print_policy_values
from .settings import DataPaths, data_paths

app = typer.Typer(help="journey-orchestrator: customer-journey orchestration as a data platform.")
demo_app = typer.Typer(help="The demo world: generate it, or generate it and run the pipeline.")
app.add_typer(demo_app, name="demo")
app.add_typer(models_app, name="models")
console = Console()

DataDirOption = Annotated[
    Path | None,
    typer.Option(
        "--data-dir",
        envvar="JOURNEY_DATA_DIR",
        help="Data directory (landing files, warehouse, reports). Default: data/ in the repo.",
    ),
]


def _paths(data_dir: Path | None) -> DataPaths:
    paths = data_paths(data_dir)
    # Dagster resources and dbt read the same setting from the environment.
    os.environ["JOURNEY_DATA_DIR"] = str(paths.root)
    return paths


# A demo world lives in its own time: deliveries go out on the decisions' clock, not today's.
WORLD_CLOCK = {"activation__deliveries": {"use_decision_clock": True}}


def _progress() -> Progress:
    return Progress(
        TextColumn("{task.description:<40}"),
        BarColumn(),
        TextColumn("{task.percentage:>3.0f}%"),
        TimeElapsedColumn(),
        console=console,
    )


def _generate(paths: DataPaths, customers: int, days: int, seed: int) -> None:
    from .demo.world import WorldConfig, generate_world

    config = WorldConfig(customers=customers, days=days, seed=seed)
    with _progress() as progress:
        task = progress.add_task("generating demo world", total=1.0)

        def report(stage: str, fraction: float) -> None:
            progress.update(task, description=stage, completed=fraction)

        summary = generate_world(paths, config, progress=report)
        progress.update(task, description="demo world written", completed=1.0)
    console.print(
        f"{summary.persons:,} people in {summary.households:,} shared households, "
        f"{summary.crm_records:,} CRM records, {sum(summary.rows.values()):,} rows in "
        f"{summary.files} landing files under {summary.landing} (truth in {summary.truth})"
    )


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
    _generate(_paths(data_dir), customers, days, seed)


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
    from .pipeline import run_all_assets

    paths = _paths(data_dir)
    if not keep:
        # A fresh world starts a fresh embedded model registry (a team server is left alone).
        fresh = [
            paths.landing,
            paths.truth,
            *(paths.root / d for d in ("outbox", "exports", "activation", "analytics")),
        ]
        if not os.environ.get("MLFLOW_TRACKING_URI"):
            fresh.append(paths.root / "mlflow")
        for folder in fresh:
            shutil.rmtree(folder, ignore_errors=True)
        paths.warehouse.unlink(missing_ok=True)
    _generate(paths, customers, days, seed)

    console.print("[bold]Running the pipeline through Dagster...[/bold]")
    started = time.perf_counter()
    run = run_all_assets(ops_config=WORLD_CLOCK)
    elapsed = time.perf_counter() - started
    table = Table(title=f"Dagster run {run.run_id} ({elapsed:.1f} s)")
    table.add_column("step")
    table.add_column("seconds", justify="right")
    for step in run.steps:
        table.add_row(step.step, f"{step.seconds:.2f}")
    console.print(table)
    _print_status(paths)
    if run.success:
        print_models(paths)
        print_policy_values(paths)
        if loop_days:
            from .closed_loop_run import run_closed_loop

            run = dataclasses.replace(run, success=run_closed_loop(paths, loop_days, seed, console))
        _print_attribution_check(paths)
    for step, message in run.failed_steps.items():
        console.print(f"[red]step {step} failed: {message}[/red]")
    for check in run.failed_checks:
        console.print(f"[yellow]check did not pass: {check}[/yellow]")
    console.print(
        f"\n[bold]Where to look[/bold]\n"
        f"  warehouse     {paths.warehouse}\n"
        f"  landing files {paths.landing}\n"
        f"  quarantine    SELECT * FROM audit.quarantine  (in the warehouse)\n"
        f"  Dagster UI    make dev   (then open http://127.0.0.1:3000; this run is listed)\n"
        f"  MLflow UI     make mlflow   (then open http://127.0.0.1:5000)\n"
        f"  scores        SELECT * FROM scoring.customer_scores  (in the warehouse)\n"
        f"  decisions     SELECT * FROM decisioning.next_best_actions; {paths.root / 'exports'}\n"
        f"  analytics     {paths.root / 'analytics' / 'report.html'}  (and schema analytics)\n"
        f"  status        .venv/bin/journey status"
    )
    if not run.success:
        raise typer.Exit(1)


def _print_attribution_check(paths: DataPaths) -> None:
    """Attribution against the closed loop's causal truth, when the report computed it."""
    from .warehouse import connect, table_exists

    with connect(paths.warehouse, read_only=True) as conn:
        if not table_exists(conn, "analytics.attribution_validation"):
            return
        rows = conn.execute(
            "SELECT * FROM analytics.attribution_validation ORDER BY relative_error"
        ).df()
    table = Table(title="Attribution against the truth: conversions caused by email/push/sms")
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


@app.command("serve-personalisation")
def serve_personalisation(
    port: Annotated[int, typer.Option(help="Port on 127.0.0.1.")] = 8765,
    data_dir: DataDirOption = None,
) -> None:
    """Serve each customer's and device's current web offer: GET /offer?device=... or ?customer=..."""
    from .activation.personalisation import start_server

    server = start_server(_paths(data_dir).root, port=port)
    console.print(f"Serving web offers on http://127.0.0.1:{port}/offer (Ctrl-C to stop)")
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        server.shutdown()


@app.command("ingest")
def ingest(
    source: Annotated[
        list[str] | None, typer.Option(help="Only these tables, e.g. crm__customers.")
    ] = None,
    data_dir: DataDirOption = None,
) -> None:
    """Load new landing files into the raw tables without Dagster (same code as the assets)."""
    from .ingest.contracts import CONTRACTS
    from .ingest.loader import load_source
    from .warehouse import connect

    paths = _paths(data_dir)
    chosen = [c for c in CONTRACTS if not source or c.name in source]
    load_id = f"cli-{datetime.now(UTC):%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:6]}"
    with connect(paths.warehouse) as conn, _progress() as progress:
        task = progress.add_task("ingesting", total=len(chosen))
        for contract in chosen:
            progress.update(task, description=contract.name)
            report = load_source(
                conn,
                contract,
                paths.landing,
                load_id,
                on_file=lambda f: progress.update(task, description=f[-40:]),
            )
            progress.advance(task)
            for problem in report.problems:
                progress.console.print(f"[yellow]{problem}[/yellow]")
    _print_status(paths)


def _print_status(paths: DataPaths) -> None:
    from .ingest.summary import ingest_summary
    from .warehouse import connect

    if not paths.warehouse.exists():
        console.print(f"No warehouse yet at {paths.warehouse}.")
        return
    with connect(paths.warehouse, read_only=True) as conn:
        summaries = ingest_summary(conn)
    table = Table(title=f"Raw tables in {paths.warehouse}")
    for column in ("table", "rows", "quarantined", "files", "files with problems"):
        table.add_column(column, justify="left" if column == "table" else "right")
    for s in summaries:
        table.add_row(
            f"raw.{s.table}",
            f"{s.rows:,}",
            f"{s.quarantined:,}",
            str(s.files),
            str(s.problem_files),
        )
    console.print(table)
    _print_identity(paths)


def _print_identity(paths: DataPaths) -> None:
    from .identity.evaluation import evaluate_customer_keys
    from .warehouse import connect, table_exists

    with connect(paths.warehouse, read_only=True) as conn:
        if not table_exists(conn, "identity.customer_keys"):
            return
        customers, records, devices = conn.execute(
            "SELECT count(DISTINCT customer_key), count(*) FILTER (WHERE NOT source_table = "
            "'web__events'), count(*) FILTER (WHERE source_table = 'web__events') "
            "FROM identity.customer_keys"
        ).fetchone()
        evaluation = evaluate_customer_keys(conn, paths.truth)
    console.print(
        f"Identity: {records:,} person records and {devices:,} devices -> "
        f"{customers:,} customer keys (identity.customer_keys)"
    )
    if evaluation:
        overall = evaluation[0]
        console.print(
            f"  against the demo truth: pair precision {overall.pair_precision:.4f}, "
            f"recall {overall.pair_recall:.4f}, F1 {overall.pair_f1:.4f}; "
            f"cluster F1 {overall.cluster_f1:.4f}"
        )


@app.command("status")
def status(data_dir: DataDirOption = None) -> None:
    """Row counts, quarantine and file problems per raw table."""
    _print_status(_paths(data_dir))


@app.command("resolve")
def resolve(
    input_path: Annotated[
        Path, typer.Argument(metavar="INPUT", help="CSV, JSONL or Parquet file.")
    ],
    id_column: Annotated[str, typer.Option("--id", help="Column with a unique record id.")],
    out: Annotated[Path, typer.Option(help="Parquet file to write: record_id, cluster_id.")],
    role_map: Annotated[
        list[str],
        typer.Option("--map", help="ROLE=COLUMN, e.g. first_name=given_name; repeat per role."),
    ],
    date_format: Annotated[
        list[str] | None,
        typer.Option(
            help="strptime format of dates of birth, tried before ISO/YYYYMMDD/MM/DD/YYYY."
        ),
    ] = None,
    threshold: Annotated[float, typer.Option(help="Match probability to link two records.")] = 0.95,
    phone_region: Annotated[str, typer.Option(help="Region for phones without +country.")] = "US",
) -> None:
    """Deduplicate any person file: train unsupervised, cluster, one row per input record."""
    from .identity.normalise import DEFAULT_DATE_FORMATS
    from .identity.resolve_file import parse_role_map, resolve_file
    from .identity.resolver import ResolverConfig

    try:
        roles = parse_role_map(role_map)
        formats = (*(date_format or ()), *DEFAULT_DATE_FORMATS)
        with console.status(f"resolving {input_path}..."):
            report = resolve_file(
                input_path,
                id_column,
                roles,
                out,
                date_formats=formats,
                phone_region=phone_region,
                config=ResolverConfig(match_threshold=threshold),
            )
    except ValueError as error:
        console.print(f"[red]error:[/red] {error}")
        raise typer.Exit(2) from error
    console.print(
        f"{report.records:,} records -> {report.clusters:,} clusters "
        f"({report.comparisons:,} comparisons, {report.matched_pairs:,} matched pairs)"
    )
    console.print({k: f"{v:.2f}s" for k, v in report.timings.items()})
    console.print(f"written: {report.out}")


@app.command("bench")
def bench(
    customers: Annotated[int, typer.Option(help="People in the benchmark world.")] = 100_000,
    days: Annotated[int, typer.Option(help="Days of activity.")] = 90,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 42,
    repeat: Annotated[int, typer.Option(help="Runs per timed stage; medians are reported.")] = 3,
    identity_customers: Annotated[
        int, typer.Option(help="People in a separate world for identity at scale (0: skip).")
    ] = 0,
    data_dir: DataDirOption = None,
) -> None:
    """Per-stage wall time and peak memory, beside the bare DuckDB scan of the same files."""
    from .bench import render_phases, render_table, run_benchmark

    paths = _paths(data_dir)
    results = run_benchmark(
        paths,
        customers=customers,
        days=days,
        seed=seed,
        repeat=repeat,
        identity_customers=identity_customers,
    )
    wide = Console(width=max(console.width, 150))
    wide.print(render_table(results))
    for line in render_phases(results):
        wide.print(line)
    wide.print(f"JSON: {results.json_path}")


if __name__ == "__main__":
    app()
