"""What every command shares: the console, the data-directory option and progress bars."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from ..settings import DataPaths, data_paths

console = Console()

DataDirOption = Annotated[
    Path | None,
    typer.Option(
        "--data-dir",
        envvar="JOURNEY_DATA_DIR",
        help="Data directory (landing files, warehouse, reports). Default: data/ in the repo.",
    ),
]


def paths_for(data_dir: Path | None) -> DataPaths:
    paths = data_paths(data_dir)
    # Dagster resources and dbt read the same setting from the environment.
    os.environ["JOURNEY_DATA_DIR"] = str(paths.root)
    return paths


def progress_bar() -> Progress:
    return Progress(
        TextColumn("{task.description:<40}"),
        BarColumn(),
        TextColumn("{task.percentage:>3.0f}%"),
        TimeElapsedColumn(),
        console=console,
    )
