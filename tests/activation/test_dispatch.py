"""Delivery over real protocols: SMTP (aiosmtpd), JSON webhooks (http.server), local sinks;
retries, dead letters, and a dispatcher killed mid-batch that resumes without duplicates."""

from __future__ import annotations

import socket
import subprocess
import sys
import textwrap
from email import message_from_bytes, policy
from pathlib import Path

import duckdb
import pytest
from aiosmtpd.controller import Controller

from dagster_project.activation.adapters import LocalSinkAdapter, SmtpAdapter, WebhookAdapter
from dagster_project.activation.dispatcher import dispatch
from dagster_project.activation.outbox import RetryPolicy
from dagster_project.warehouse import connect
from tests.activation.conftest import CUSTOMERS, NOW, WebhookReceiver, make_warehouse


def states(where: Path | duckdb.DuckDBPyConnection) -> dict[str, str]:
    """Outbox states, read on an open connection or from a closed warehouse file."""
    if isinstance(where, duckdb.DuckDBPyConnection):
        return dict(where.execute("SELECT decision_id, state FROM activation.outbox").fetchall())
    with connect(where, read_only=True) as conn:
        return states(conn)


def log(warehouse: Path, decision_id: str) -> list[str]:
    with connect(warehouse, read_only=True) as conn:
        rows = conn.execute(
            "SELECT state FROM activation.action_log WHERE decision_id = ? ORDER BY logged_at, attempt, "
            "CASE state WHEN 'queued' THEN 0 WHEN 'sending' THEN 1 ELSE 2 END",
            [decision_id],
        ).fetchall()
    return [state for (state,) in rows]


def local(tmp_path: Path) -> dict:
    return {
        name: LocalSinkAdapter(tmp_path / "sinks" / name) for name in ("sms", "push", "advisor")
    }


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Mailbox:
    def __init__(self) -> None:
        self.messages: list = []

    async def handle_DATA(self, server, session, envelope) -> str:
        self.messages.append(
            (envelope.rcpt_tos, message_from_bytes(envelope.content, policy=policy.default))
        )
        return "250 OK"


def test_email_goes_over_smtp_with_the_decision_id_as_message_id(tmp_path: Path) -> None:
    warehouse = make_warehouse(tmp_path, dict.fromkeys(CUSTOMERS[:4], "email"))
    mailbox = Mailbox()
    port = free_port()
    server = Controller(mailbox, hostname="127.0.0.1", port=port)
    server.start()
    try:
        endpoint = f"127.0.0.1:{port}"
        adapters = local(tmp_path) | {"email": SmtpAdapter(endpoint, "offers@bank.example")}
        with connect(warehouse) as conn:
            report = dispatch(conn, adapters, NOW, "run-1")
    finally:
        server.stop()
    ids = {m["Message-ID"] for _, m in mailbox.messages}
    assert ids == {f"<d-{k}-contact@journey-orchestrator>" for k in CUSTOMERS[:4]}
    assert sorted(r[0] for r, _ in mailbox.messages) == [f"{k}@example.com" for k in CUSTOMERS[:4]]
    assert all("4.19%" in m.get_content() for _, m in mailbox.messages)
    assert report.states == {"delivered": 9}  # 4 emails, 4 web offers, 1 advisor task
    assert "d-control" not in states(warehouse)  # the control group is never queued
    assert log(warehouse, f"d-{CUSTOMERS[0]}-contact") == ["queued", "sending", "delivered"]
    with connect(warehouse, read_only=True) as conn:
        web = conn.execute("SELECT count(*) FROM activation.web_personalisation").fetchone()[0]
    assert web == 4
    task = (tmp_path / "sinks" / "advisor" / "d-advisor.json").read_text()
    assert "asked about pre-approval" in task  # the conversation context reaches the advisor


def test_a_failing_webhook_retries_with_back_off_then_dead_letters(
    tmp_path: Path, webhook: WebhookReceiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PUSH_TOKEN", "Bearer s3cret")
    warehouse = make_warehouse(tmp_path, {CUSTOMERS[0]: "push"})
    webhook.answers = [500, 503, 502]
    adapters = local(tmp_path) | {"push": WebhookAdapter(webhook.url, "PUSH_TOKEN")}
    retry = RetryPolicy(max_attempts=3, first_delay_s=60, factor=2)
    decision = f"d-{CUSTOMERS[0]}-contact"
    with connect(warehouse) as conn:
        dispatch(conn, adapters, NOW, "run-1", retry)
        assert states(conn)[decision] == "failed"
        # Not due again until the back-off has passed.
        assert dispatch(conn, adapters, NOW.replace(second=30), "run-2", retry).attempted == 0
        dispatch(conn, adapters, NOW.replace(minute=1), "run-3", retry)  # +60 s
        dispatch(conn, adapters, NOW.replace(minute=4), "run-4", retry)  # +120 s more
    assert states(warehouse)[decision] == "dead_letter"
    assert [r["key"] for r in webhook.requests] == [decision] * 3
    assert {r["auth"] for r in webhook.requests} == {"Bearer s3cret"}
    assert log(warehouse, decision) == ["queued"] + ["sending", "failed"] * 2 + [
        "sending",
        "dead_letter",
    ]


def test_a_webhook_time_out_is_retried_and_then_delivered(
    tmp_path: Path, webhook: WebhookReceiver
) -> None:
    warehouse = make_warehouse(tmp_path, {CUSTOMERS[0]: "sms"})
    adapters = local(tmp_path) | {"sms": WebhookAdapter(webhook.url, timeout_s=0.3)}
    decision = f"d-{CUSTOMERS[0]}-contact"
    webhook.delay_s = 1.0
    with connect(warehouse) as conn:
        dispatch(conn, adapters, NOW, "run-1", RetryPolicy(first_delay_s=0))
        assert states(conn)[decision] == "failed"
        webhook.delay_s = 0.0
        dispatch(conn, adapters, NOW, "run-2", RetryPolicy(first_delay_s=0))
    assert states(warehouse)[decision] == "delivered"


def test_a_bad_request_is_not_retried(tmp_path: Path, webhook: WebhookReceiver) -> None:
    warehouse = make_warehouse(tmp_path, {CUSTOMERS[0]: "push"})
    webhook.answers = [400]
    with connect(warehouse) as conn:
        dispatch(conn, local(tmp_path) | {"push": WebhookAdapter(webhook.url)}, NOW, "run-1")
    assert states(warehouse)[f"d-{CUSTOMERS[0]}-contact"] == "dead_letter"
    assert len(webhook.requests) == 1


KILLED_DISPATCHER = textwrap.dedent(
    """
    import os, signal, sys
    from datetime import datetime
    from pathlib import Path
    from dagster_project.activation.adapters import LocalSinkAdapter, WebhookAdapter
    from dagster_project.activation.dispatcher import dispatch
    from dagster_project.warehouse import connect

    warehouse, url, sinks, kill_after = sys.argv[1], sys.argv[2], Path(sys.argv[3]), int(sys.argv[4])

    class DiesAfterDelivering(WebhookAdapter):
        sent = 0
        def deliver(self, message):
            receipt = super().deliver(message)
            DiesAfterDelivering.sent += 1
            if DiesAfterDelivering.sent == kill_after:
                os.kill(os.getpid(), signal.SIGKILL)  # delivered, not yet recorded
            return receipt

    adapters = {n: LocalSinkAdapter(sinks / n) for n in ("sms", "advisor")}
    adapters["push"] = DiesAfterDelivering(url)
    with connect(warehouse) as conn:
        dispatch(conn, adapters, datetime(2026, 3, 2, 15, 0), "killed-run")
    """
)


def test_a_dispatcher_killed_mid_batch_resumes_without_duplicates_or_losses(
    tmp_path: Path, webhook: WebhookReceiver
) -> None:
    warehouse = make_warehouse(tmp_path, dict.fromkeys(CUSTOMERS, "push"))
    killed = subprocess.run(
        [
            sys.executable,
            "-c",
            KILLED_DISPATCHER,
            str(warehouse),
            webhook.url,
            str(tmp_path / "sinks"),
            "5",
        ],
        check=False,
        cwd=Path(__file__).resolve().parents[2],
    )
    assert killed.returncode == -9
    contacts = {f"d-{k}-contact" for k in CUSTOMERS}
    in_flight = {d for d, state in states(warehouse).items() if state == "sending"}
    assert in_flight & contacts  # killed with pushes marked sending, some already received
    assert len(webhook.seen_keys) == 5
    with connect(warehouse) as conn:
        dispatch(conn, local(tmp_path) | {"push": WebhookAdapter(webhook.url)}, NOW, "resumed")
    assert webhook.seen_keys == contacts  # nothing lost...
    accepted = [r["key"] for r in webhook.requests if r["status"] == 200]
    assert sorted(accepted) == sorted(contacts)  # ...and each accepted exactly once
    refused = [r["key"] for r in webhook.requests if r["status"] == 409]
    assert len(refused) == 5  # the resent ones the receiver already had
    assert set(states(warehouse).values()) == {"delivered"}
