"""The ``journey`` command line: the home of every task that is not in the Dagster UI.

One module per command group; this one only assembles them.
"""

from __future__ import annotations

import typer

from .bench import bench
from .common import console
from .demo import demo_app
from .identity import resolve
from .ingest import ingest, status
from .marketing_console import open_console
from .models import models_app
from .privacy import forget
from .run import run
from .serve import serve, serve_personalisation

app = typer.Typer(help="journey-orchestrator: customer-journey orchestration as a data platform.")
app.add_typer(demo_app, name="demo")
app.add_typer(models_app, name="models")
app.command("run")(run)
app.command("ingest")(ingest)
app.command("status")(status)
app.command("resolve")(resolve)
app.command("serve")(serve)
app.command("serve-personalisation")(serve_personalisation)
app.command("bench")(bench)
app.command("forget")(forget)
app.command("console")(open_console)


def main() -> None:
    """The ``journey`` entry point: a warehouse held too long by another process is a message,
    not a traceback."""
    from ..warehouse import WarehouseBusyError

    try:
        app()
    except WarehouseBusyError as error:
        console.print(f"[red]Warehouse busy:[/red] {error}", soft_wrap=False)
        raise SystemExit(3) from None


if __name__ == "__main__":
    main()
