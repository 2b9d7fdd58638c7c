"""Deliver due outbox rows through their channel adapters, once each.

Per row: commit ``sending``, call the adapter with the decision_id as idempotency key, commit
``delivered`` (or ``failed`` with a back-off, or ``dead_letter``). Recipients are read from the
warehouse at send time and never logged. Web actions update the personalisation table the site
reads; advisor tasks carry the conversation context (recent calls and their notes, pages viewed).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import duckdb
import pandas as pd

from ..decisioning.config import ChannelsConfig
from .adapters import Adapter, DeliveryError, LocalSinkAdapter, Message, SmtpAdapter, WebhookAdapter
from .outbox import RetryPolicy, due, enqueue, record

PERSONALISATION = "activation.web_personalisation"
CONTEXT_CALLS = 3


@dataclass
class DispatchReport:
    queued: int = 0
    attempted: int = 0
    states: dict[str, int] = field(default_factory=dict)

    def count(self, state: str) -> None:
        self.states[state] = self.states.get(state, 0) + 1


def build_adapters(channels: ChannelsConfig, sink_root: Path) -> dict[str, Adapter]:
    """One adapter per outbound channel and for advisor tasks, as channels.yaml says."""
    adapters: dict[str, Adapter] = {}
    settings = {name: channels.outbound(name) for name in ("email", "sms", "push")}
    settings["advisor"] = channels.advisor
    for name, channel in settings.items():
        if channel.adapter == "local_sink":
            adapters[name] = LocalSinkAdapter(sink_root / (channel.endpoint or name))
        elif channel.adapter == "smtp":
            sender = getattr(channel, "sender", None) or "offers@localhost"
            adapters[name] = SmtpAdapter(channel.endpoint or "", sender)
        else:
            adapters[name] = WebhookAdapter(channel.endpoint or "", channel.auth_env)
    return adapters


def render(content: str | None, channel: str) -> tuple[str, str]:
    """Subject and body from the decision's content: the offer's facts and the customer's context."""
    data = json.loads(content) if content else {}
    offer = data.get("offer", {})
    subject = offer.get("headline", "An offer for you")
    lines = [subject]
    if data.get("pages_viewed"):
        lines.append(f"Picked for you after you looked at: {', '.join(data['pages_viewed'])}.")
    facts = {k: v for k, v in offer.items() if k != "headline"}
    lines += [f"{k.replace('_', ' ')}: {v}" for k, v in sorted(facts.items())]
    body = "\n".join(lines)
    return subject, body[:160] if channel == "sms" else body


def _recipients(conn: duckdb.DuckDBPyConnection, keys: list[str]) -> pd.DataFrame:
    return (
        conn.execute(
            "SELECT customer_key, email, phone, advisor_id FROM marts.dim_customer "
            "WHERE customer_key IN (SELECT unnest(?))",
            [keys],
        )
        .df()
        .set_index("customer_key")
    )


def _conversation(conn: duckdb.DuckDBPyConnection, customer_key: str) -> list[dict]:
    rows = conn.execute(
        """
        SELECT c.occurred_at, c.reason_code, c.note
        FROM staging.stg_contact_centre__calls AS c
        JOIN intermediate.int_identity_map AS m ON m.record_id = c.record_id
        WHERE m.customer_key = ?
        ORDER BY c.occurred_at DESC LIMIT ?
        """,
        [customer_key, CONTEXT_CALLS],
    ).fetchall()
    return [{"at": str(at), "reason": reason, "note": note} for at, reason, note in rows]


def _personalise(conn: duckdb.DuckDBPyConnection, row: pd.Series, now: datetime) -> str:
    conn.execute(
        f"""
        CREATE TABLE IF NOT EXISTS {PERSONALISATION} (
            customer_key VARCHAR PRIMARY KEY, offer_id VARCHAR, content VARCHAR,
            decision_id VARCHAR, updated_at TIMESTAMP)
        """
    )
    conn.execute(
        f"INSERT OR REPLACE INTO {PERSONALISATION} VALUES (?, ?, ?, ?, ?)",
        [row["customer_key"], row["offer_id"], row["content"], row["decision_id"], now],
    )
    return f"web offer {row['offer_id']}"


def dispatch(
    conn: duckdb.DuckDBPyConnection,
    adapters: Mapping[str, Adapter],
    now: datetime,
    run_id: str,
    retry: RetryPolicy | None = None,
    limit: int = 10_000,
    after_each: Callable[[str], None] | None = None,
) -> DispatchReport:
    """Queue new decisions, then deliver what is due. ``after_each`` is a test hook."""
    retry = retry or RetryPolicy()
    naive_now = now.replace(tzinfo=None) if now.tzinfo else now
    report = DispatchReport(queued=enqueue(conn, naive_now, run_id))
    rows = due(conn, naive_now, limit)
    recipients = _recipients(conn, rows["customer_key"].tolist()) if len(rows) else pd.DataFrame()
    for _, row in rows.iterrows():
        attempt = int(row["attempts"]) + 1
        record(conn, row["decision_id"], "sending", attempt, naive_now, run_id)
        report.attempted += 1
        try:
            if row["channel"] == "web":
                receipt = _personalise(conn, row, naive_now)
            else:
                receipt = adapters[row["channel"]].deliver(_message(conn, row, recipients))
        except DeliveryError as error:
            final = not error.retryable or attempt >= retry.max_attempts
            state = "dead_letter" if final else "failed"
            record(
                conn,
                row["decision_id"],
                state,
                attempt,
                naive_now,
                run_id,
                str(error),
                None if final else naive_now + retry.delay(attempt),
            )
            report.count(state)
        else:
            record(conn, row["decision_id"], "delivered", attempt, naive_now, run_id, receipt)
            report.count("delivered")
        if after_each:
            after_each(row["decision_id"])
    return report


def _message(conn: duckdb.DuckDBPyConnection, row: pd.Series, recipients: pd.DataFrame) -> Message:
    channel = row["channel"]
    subject, body = render(row["content"], channel)
    person = (
        recipients.loc[row["customer_key"]] if row["customer_key"] in recipients.index else None
    )
    recipient = None
    context: dict = {}
    if person is not None:
        recipient = {"email": person["email"], "sms": person["phone"]}.get(channel)
        if channel == "advisor":
            recipient = person["advisor_id"]
    if channel == "advisor":
        content = json.loads(row["content"]) if row["content"] else {}
        context = {
            "calls": _conversation(conn, row["customer_key"]),
            "pages_viewed": content.get("pages_viewed", []),
            "journey_stage": content.get("journey_stage"),
            "products_considered": content.get("products_considered", []),
        }
        subject = f"Follow up: {subject}"
    return Message(
        decision_id=row["decision_id"],
        customer_key=row["customer_key"],
        action=row["action"],
        channel=channel,
        offer_id=row["offer_id"],
        subject=subject,
        body=body,
        recipient=None if pd.isna(recipient) else recipient,
        context=context,
    )
