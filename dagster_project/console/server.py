"""``journey console``'s server: the console folder as static files on 127.0.0.1, nothing else.

A standard-library threading HTTP server: no warehouse connection, no state, so it can stay open
while the pipeline runs and rebuilds the pages under it (each file is replaced atomically).
"""

from __future__ import annotations

import functools
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

DEFAULT_PORT = 8050


class _Handler(SimpleHTTPRequestHandler):
    def end_headers(self) -> None:
        # Pages change with every build: always ask again (it is local and small).
        self.send_header("Cache-Control", "no-cache")
        self.send_header("X-Content-Type-Options", "nosniff")
        super().end_headers()

    def log_message(self, format: str, *args: object) -> None:
        """No access log: paths are page names only, but a terminal full of them helps no one."""


def console_server(
    folder: Path, host: str = "127.0.0.1", port: int = DEFAULT_PORT
) -> ThreadingHTTPServer:
    """A server bound to ``host:port`` (port 0: any free one) over ``folder``; not yet serving."""
    handler = functools.partial(_Handler, directory=str(folder))
    server = ThreadingHTTPServer((host, port), handler)
    server.daemon_threads = True
    return server


def serve_in_thread(folder: Path, host: str = "127.0.0.1", port: int = 0) -> ThreadingHTTPServer:
    """Serve ``folder`` from a background thread; ``server.shutdown()`` stops it."""
    server = console_server(folder, host, port)
    threading.Thread(target=server.serve_forever, name="console", daemon=True).start()
    return server


def url_of(server: ThreadingHTTPServer) -> str:
    host, port = server.server_address[:2]
    return f"http://{host}:{port}/"
