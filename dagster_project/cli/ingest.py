"""``journey ingest`` and ``journey status``: load new landing files, and what the warehouse holds."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated

import typer

from ..settings import DataPaths
from .common import DataDirOption, console, narrow_table, paths_for, progress_bar


def ingest(
    source: Annotated[
        list[str] | None, typer.Option(help="Only these tables, e.g. crm__customers.")
    ] = None,
    data_dir: DataDirOption = None,
) -> None:
    """Load new landing files into the raw tables without Dagster (same code as the assets)."""
    from ..ingest.contracts import CONTRACTS
    from ..ingest.loader import load_source
    from ..warehouse import connect

    paths = paths_for(data_dir)
    chosen = [c for c in CONTRACTS if not source or c.name in source]
    load_id = f"cli-{datetime.now(UTC):%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:6]}"
    failed: list[str] = []
    with connect(paths.warehouse) as conn, progress_bar() as progress:
        task = progress.add_task("ingesting", total=len(chosen))
        for contract in chosen:
            progress.update(task, description=contract.name)
            try:
                report = load_source(
                    conn,
                    contract,
                    paths.landing,
                    load_id,
                    on_file=lambda f: progress.update(task, description=f[-40:]),
                )
            # One source that fails (its load rolled back) must not keep the others from loading.
            except Exception as error:
                failed.append(contract.name)
                first_line = (str(error).strip().splitlines() or [type(error).__name__])[0]
                progress.console.print(
                    f"[red]{contract.name}: not loaded: {first_line[:300]}[/red]"
                )
                continue
            finally:
                progress.advance(task)
            for problem in report.problems:
                progress.console.print(f"[yellow]{problem}[/yellow]")
    print_status(paths)
    if failed:
        raise typer.Exit(1)


def print_status(paths: DataPaths) -> None:
    from ..ingest.summary import ingest_summary
    from ..warehouse import connect

    if not paths.warehouse.exists():
        console.print(f"No warehouse yet at {paths.warehouse}.")
        return
    with connect(paths.warehouse, read_only=True) as conn:
        summaries = ingest_summary(conn)
    table = narrow_table(f"Raw tables (schema raw) in {paths.warehouse}")
    for column in ("table", "rows", "quarantined", "files", "files with problems"):
        table.add_column(column, justify="left" if column == "table" else "right")
    for s in summaries:
        table.add_row(
            s.table,
            f"{s.rows:,}",
            f"{s.quarantined:,}",
            str(s.files),
            str(s.problem_files),
        )
    console.print(table)
    print_identity(paths)


def print_identity(paths: DataPaths) -> None:
    from ..demo.evaluation import identity_accuracy
    from ..warehouse import connect, table_exists

    with connect(paths.warehouse, read_only=True) as conn:
        if not table_exists(conn, "identity.customer_keys"):
            return
        customers, records, devices = conn.execute(
            "SELECT count(DISTINCT customer_key), count(*) FILTER (WHERE NOT source_table = "
            "'web__events'), count(*) FILTER (WHERE source_table = 'web__events') "
            "FROM identity.customer_keys"
        ).fetchone()
        evaluation = identity_accuracy(conn, paths.truth)
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


def status(data_dir: DataDirOption = None) -> None:
    """Row counts, quarantine and file problems per raw table; identity; the latest decisions."""
    from .decisions import print_decisions

    paths = paths_for(data_dir)
    print_status(paths)
    if paths.warehouse.exists():
        print_decisions(paths)
