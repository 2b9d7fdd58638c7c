"""``journey serve-personalisation``: each customer's and device's current web offer over HTTP."""

from __future__ import annotations

import time
from typing import Annotated

import typer

from .common import DataDirOption, console, paths_for, stop_on_terminate


def serve_personalisation(
    port: Annotated[int, typer.Option(help="Port on 127.0.0.1.")] = 8765,
    data_dir: DataDirOption = None,
) -> None:
    """Serve each customer's and device's current web offer: GET /offer?device=... or ?customer=..."""
    from ..activation.personalisation import start_server

    server = start_server(paths_for(data_dir).root, port=port)
    console.print(f"Serving web offers on http://127.0.0.1:{port}/offer (Ctrl-C to stop)")
    stop_on_terminate()
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        server.shutdown()


def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    data_dir: DataDirOption = None,
) -> None:
    """The real-time decision API over the latest published snapshot (keys: JOURNEY_API_KEYS)."""
    import uvicorn

    from ..serving.app import create_app, request_log_config
    from ..serving.guards import API_KEYS_ENV, keys_from_environment, rate_from_environment

    keys = keys_from_environment()
    if not keys:
        console.print(f"[yellow]{API_KEYS_ENV} is empty: every /v1 request will be refused")
    app, _ = create_app(paths_for(data_dir).root, keys, rate_from_environment())
    console.print(
        f"Decisions on http://{host}:{port}/v1/decisions, docs /docs, demo /demo (Ctrl-C to stop)"
    )
    uvicorn.run(
        app,
        host=host,
        port=port,
        log_config=request_log_config(),
        access_log=False,
        lifespan="on",
    )
