"""``journey serve-personalisation``: each customer's and device's current web offer over HTTP."""

from __future__ import annotations

import time
from typing import Annotated

import typer

from .common import DataDirOption, console, paths_for


def serve_personalisation(
    port: Annotated[int, typer.Option(help="Port on 127.0.0.1.")] = 8765,
    data_dir: DataDirOption = None,
) -> None:
    """Serve each customer's and device's current web offer: GET /offer?device=... or ?customer=..."""
    from ..activation.personalisation import start_server

    server = start_server(paths_for(data_dir).root, port=port)
    console.print(f"Serving web offers on http://127.0.0.1:{port}/offer (Ctrl-C to stop)")
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        server.shutdown()
