"""Web and app personalisation: the current offer per customer and per known device.

After each dispatch the warehouse's ``activation.web_personalisation`` is exported as one JSON
snapshot (``<data dir>/activation/web_personalisation.json``), which a small HTTP endpoint serves
to the site: ``GET /offer?device=<anonymous id>`` or ``?customer=<key>`` answers the offer and
its content, or 204 when there is none. The site never touches the warehouse.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import duckdb

SNAPSHOT = Path("activation") / "web_personalisation.json"


def export_snapshot(conn: duckdb.DuckDBPyConnection, data_root: Path) -> int:
    """Write the snapshot atomically; returns how many customers have an offer."""
    offers = conn.execute(
        "SELECT customer_key, offer_id, content, decision_id FROM activation.web_personalisation"
    ).fetchall()
    devices = conn.execute(
        "SELECT k.source_id, k.customer_key FROM identity.customer_keys AS k "
        "JOIN activation.web_personalisation AS w USING (customer_key) "
        "WHERE k.source_table = 'web__events' AND NOT coalesce(k.shared_device, false)"
    ).fetchall()
    snapshot = {
        "customers": {
            key: {
                "offer_id": offer,
                "content": json.loads(content) if content else {},
                "decision_id": decision,
            }
            for key, offer, content, decision in offers
        },
        "devices": dict(devices),
    }
    path = data_root / SNAPSHOT
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".partial")
    partial.write_text(json.dumps(snapshot), encoding="utf-8")
    partial.replace(path)
    return len(offers)


def _handler(data_root: Path) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            url = urlparse(self.path)
            if url.path != "/offer":
                self.send_error(404)
                return
            query = {k: v[0] for k, v in parse_qs(url.query).items()}
            path = data_root / SNAPSHOT
            snapshot = (
                json.loads(path.read_text()) if path.exists() else {"customers": {}, "devices": {}}
            )
            key = query.get("customer") or snapshot["devices"].get(query.get("device", ""))
            offer = snapshot["customers"].get(key) if key else None
            if offer is None:
                self.send_response(204)
                self.end_headers()
                return
            body = json.dumps(offer).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    return Handler


def start_server(data_root: Path, host: str = "127.0.0.1", port: int = 8765) -> ThreadingHTTPServer:
    """Serve the snapshot in a background thread (each request reads the latest file)."""
    server = ThreadingHTTPServer((host, port), _handler(data_root))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server
