"""A small warehouse holding decisions to deliver, and real local SMTP and HTTP servers."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pandas as pd
import pytest

from dagster_project.decisioning.store import store_decisions
from dagster_project.warehouse import connect

NOW = datetime(2026, 3, 2, 15, 0)
CUSTOMERS = [f"ck_{i:03d}" for i in range(12)]


def decisions(channel_of: dict[str, str]) -> pd.DataFrame:
    """One contact per customer on the given channel, a web row each, one advisor task."""
    rows = []
    for key, channel in channel_of.items():
        for action, on in (("contact", channel), ("web", None)):
            rows.append(
                {
                    "decision_id": f"d-{key}-{action}",
                    "customer_key": key,
                    "action": action,
                    "offer_id": "mortgage_rates",
                    "product": "mortgage",
                    "channel": on,
                    "control": False,
                    "scheduled_at": NOW,
                    "content": json.dumps(
                        {"offer": {"headline": "Fixed rates from 4.19%"}, "pages_viewed": ["rates"]}
                    ),
                    "policy_hash": "test",
                    "decided_at": NOW,
                    "decision_date": "2026-03-02",
                }
            )
    rows.append(rows[1] | {"decision_id": "d-advisor", "action": "advisor_task", "channel": None})
    rows.append(rows[0] | {"decision_id": "d-control", "control": True})  # never delivered
    return pd.DataFrame(rows)


def make_warehouse(root: Path, channel_of: dict[str, str]) -> Path:
    path = root / "warehouse.duckdb"
    with connect(path) as conn:
        for schema in ("marts", "staging", "intermediate"):
            conn.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
        conn.execute(
            "CREATE TABLE marts.dim_customer AS SELECT unnest(?) AS customer_key, "
            "unnest(?) AS email, unnest(?) AS phone, 'A1' AS advisor_id",
            [
                list(channel_of),
                [f"{k}@example.com" for k in channel_of],
                [f"+1555000{i:04d}" for i in range(len(channel_of))],
            ],
        )
        conn.execute(
            "CREATE TABLE marts.fct_interactions (customer_key VARCHAR, channel VARCHAR, "
            "interaction_type VARCHAR, occurred_at TIMESTAMP)"
        )
        conn.execute(
            "CREATE TABLE staging.stg_contact_centre__calls AS SELECT 'call:1' AS record_id, "
            "TIMESTAMP '2026-03-01 10:00' AS occurred_at, 'mortgage_preapproval' AS reason_code, "
            "'asked about pre-approval' AS note"
        )
        conn.execute(
            "CREATE TABLE intermediate.int_identity_map AS SELECT 'call:1' AS record_id, ? AS customer_key",
            [next(iter(channel_of))],
        )
        store_decisions(conn, decisions(channel_of), "decide-run", root / "exports")
    return path


@dataclass
class WebhookReceiver:
    """A real HTTP server: scripted answers, and a record of every request."""

    answers: list[int] = field(default_factory=list)  # status per request; then 200
    delay_s: float = 0.0
    requests: list[dict] = field(default_factory=list)
    seen_keys: set[str] = field(default_factory=set)
    url: str = ""

    def handler(self) -> type[BaseHTTPRequestHandler]:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                key = self.headers.get("Idempotency-Key")
                time.sleep(receiver.delay_s)
                status = receiver.answers.pop(0) if receiver.answers else 200
                if status == 200 and key in receiver.seen_keys:
                    status = 409  # the idempotency key was already accepted
                elif status == 200:
                    receiver.seen_keys.add(key)
                receiver.requests.append(
                    {
                        "key": key,
                        "auth": self.headers.get("Authorization"),
                        "body": body,
                        "status": status,
                    }
                )
                self.send_response(status)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        return Handler


@pytest.fixture
def webhook() -> Iterator[WebhookReceiver]:
    receiver = WebhookReceiver()
    server = ThreadingHTTPServer(("127.0.0.1", 0), receiver.handler())
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}/deliver"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield receiver
    server.shutdown()
    server.server_close()
