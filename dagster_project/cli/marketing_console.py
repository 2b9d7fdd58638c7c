"""``journey console``: the console for marketing ops in a browser, served on 127.0.0.1."""

from __future__ import annotations

from typing import Annotated

import typer

from .common import DataDirOption, console, paths_for, stop_on_terminate


def open_console(
    port: Annotated[int, typer.Option(help="Port on 127.0.0.1 (0: any free port).")] = 8050,
    build: Annotated[
        bool,
        typer.Option(
            help="Rebuild the pages from the warehouse first (always, when there are none yet)."
        ),
    ] = False,
    data_dir: DataDirOption = None,
) -> None:
    """Serve the console's pages (built by the analytics/console asset) and print the URL."""
    from datetime import UTC, datetime

    from ..console.server import console_server, url_of
    from ..console.site import build_console, console_folder
    from ..warehouse import connect

    paths = paths_for(data_dir)
    folder = console_folder(paths.root)
    if build or not (folder / "index.html").exists():
        if not paths.warehouse.exists():
            console.print(f"[red]No warehouse at {paths.warehouse}:[/red] run `make demo` first")
            raise typer.Exit(1)
        # A short read-only connection, closed before serving: the server never holds the file.
        with connect(paths.warehouse, read_only=True) as conn:
            site = build_console(conn, paths.root, datetime.now(UTC))
        console.print(f"Built the console for decision date {site.decision_date or '-'}")
    try:
        server = console_server(folder, port=port)
    except OSError as error:  # e.g. the port is taken
        console.print(f"[red]Cannot serve on 127.0.0.1:{port}:[/red] {error.strerror or error}")
        raise typer.Exit(1) from None
    console.print(f"Console on {url_of(server)} (Ctrl-C to stop)", soft_wrap=True)
    stop_on_terminate()
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
