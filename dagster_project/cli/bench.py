"""``journey bench``: what ``make bench`` runs."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console

from .common import DataDirOption, console, paths_for


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
    from ..bench.runner import render_phases, render_table, run_benchmark

    paths = paths_for(data_dir)
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
