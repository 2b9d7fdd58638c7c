"""What every command shares: the console, the data-directory option and progress bars."""

from __future__ import annotations

import os
import signal
from pathlib import Path
from typing import Annotated

import typer
from rich import box
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

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


def stop_on_terminate() -> None:
    """SIGTERM (a service manager, a test's terminate) stops a server as Ctrl-C does, also when
    the process started with SIGTERM ignored, as a backgrounded or nohup'd shell passes it on."""

    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupt)


def paths_for(data_dir: Path | None) -> DataPaths:
    paths = data_paths(data_dir)
    # Dagster resources and dbt read the same setting from the environment.
    os.environ["JOURNEY_DATA_DIR"] = str(paths.root)
    return paths


def progress_bar(on: Console | None = None) -> Progress:
    """A bar with its description and elapsed time, on ``on`` (default: the terminal)."""
    return Progress(
        TextColumn("{task.description:<40}"),
        BarColumn(),
        TextColumn("{task.percentage:>3.0f}%"),
        TimeElapsedColumn(),
        console=on or console,
    )


def narrow_table(title: str) -> Table:
    """A table with rules under the header only, so that more columns fit in 80."""
    return Table(
        title=title, box=box.SIMPLE_HEAD, show_edge=False, padding=(0, 1), title_justify="left"
    )


def print_path(label: str, path: Path) -> None:
    """``label path`` on one line, the path never folded (a path cut in two cannot be pasted)."""
    console.print(f"{label} {path}", highlight=False, soft_wrap=True)
