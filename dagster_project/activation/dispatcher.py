"""Deliver due outbox rows through their channel adapters, once each.

Per row: commit ``sending``, call the adapter with the decision_id as idempotency key, commit
``delivered`` (or ``failed`` with a back-off, or ``dead_letter``), whatever the adapter raised.
The adapters are built, and their endpoints checked, before any row is claimed. Recipients are read from the
warehouse at send time and never logged. Web actions update the personalisation table the site
reads; advisor tasks carry the conversation context (recent calls and their notes, pages viewed).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import duckdb
import pandas as pd

from ..decisioning.channel_endpoints import sink_folder
from ..decisioning.config import CHANNELS_FILE, ChannelsConfig, ConfigError
from ..warehouse import naive_utc
from .adapters import Adapter, DeliveryError, LocalSinkAdapter, Message, SmtpAdapter, WebhookAdapter
from .outbox import OUTBOX, RETRYABLE, RetryPolicy, StateChange, due, enqueue, record

PERSONALISATION = "activation.web_personalisation"
CONTEXT_CALLS = 3
DISPATCH_BATCH = 200  # rows marked sending, delivered and recorded together
DISPATCH_LIMIT = 10_000  # due rows one dispatch run takes; the rest wait for the next


@dataclass
class DispatchReport:
    queued: int = 0
    attempted: int = 0
    states: dict[str, int] = field(default_factory=dict)

    def count(self, state: str) -> None:
        self.states[state] = self.states.get(state, 0) + 1


def build_adapters(
    channels: ChannelsConfig, sink_root: Path, source: Path = Path(CHANNELS_FILE)
) -> dict[str, Adapter]:
    """One adapter per outbound channel and for advisor tasks, as channels.yaml (``source``)
    says; a ConfigError naming the file, key and value when one cannot be built (a local sink
    outside ``sink_root``, the data directory's outbox). Call it before claiming any row."""
    adapters: dict[str, Adapter] = {}
    settings = {name: channels.outbound(name) for name in ("email", "sms", "push")}
    settings["advisor"] = channels.advisor
    for name, channel in settings.items():
        endpoint = channel.endpoint or (name if channel.adapter == "local_sink" else "")
        try:
            if channel.adapter == "local_sink":
                adapters[name] = LocalSinkAdapter(sink_folder(sink_root, endpoint))
            elif channel.adapter == "smtp":
                sender = getattr(channel, "sender", None) or "offers@localhost"
                adapters[name] = SmtpAdapter(endpoint, sender)
            else:
                adapters[name] = WebhookAdapter(
                    endpoint,
                    channel.auth_env,
                    allow_insecure_http=channel.allow_insecure_http,
                )
        except ValueError as error:
            raise ConfigError(
                f"{source}: {name}.endpoint: {error} (value: {endpoint!r})"
            ) from error
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


def _personalise(conn: duckdb.DuckDBPyConnection, rows: pd.DataFrame, now: datetime) -> None:
    """The site's current offer per customer: the latest web decision wins."""
    conn.execute(
        f"""
        CREATE TABLE IF NOT EXISTS {PERSONALISATION} (
            customer_key VARCHAR PRIMARY KEY, offer_id VARCHAR, content VARCHAR,
            decision_id VARCHAR, updated_at TIMESTAMP)
        """
    )
    latest = rows.drop_duplicates("customer_key", keep="last")
    conn.register("web_rows", latest[["customer_key", "offer_id", "content", "decision_id"]])
    conn.execute(
        f"INSERT OR REPLACE INTO {PERSONALISATION} "
        "SELECT customer_key, offer_id, content, decision_id, ? FROM web_rows",
        [now],
    )
    conn.unregister("web_rows")


def dispatch(
    conn: duckdb.DuckDBPyConnection,
    adapters: Mapping[str, Adapter],
    now: datetime,
    run_id: str,
    retry: RetryPolicy | None = None,
    limit: int = DISPATCH_LIMIT,
) -> DispatchReport:
    """Queue new decisions, then deliver what is due, a batch at a time.

    A batch is marked ``sending`` in one commit before any of it goes out, and its outcomes are
    committed together after: a crash in between leaves the batch in ``sending``, and the next run
    sends it again under the same idempotency keys, so the channels drop what they already have.
    """
    retry = retry or RetryPolicy()
    naive_now = naive_utc(now)
    report = DispatchReport(queued=enqueue(conn, naive_now, run_id))
    rows = due(conn, naive_now, limit)
    recipients = _recipients(conn, rows["customer_key"].tolist()) if len(rows) else pd.DataFrame()
    for start in range(0, len(rows), DISPATCH_BATCH):
        batch = rows.iloc[start : start + DISPATCH_BATCH]
        attempts = batch["attempts"].to_numpy() + 1
        record(
            conn,
            [
                StateChange(d, "sending", int(a))
                for d, a in zip(batch["decision_id"], attempts, strict=True)
            ],
            naive_now,
            run_id,
        )
        report.attempted += len(batch)
        outcomes: list[StateChange] = []
        web = batch["channel"] == "web"
        if web.any():
            _personalise(conn, batch[web], naive_now)
            outcomes += [
                StateChange(d, "delivered", int(a), f"web offer {o}")
                for d, a, o in zip(
                    batch["decision_id"][web],
                    attempts[web.to_numpy()],
                    batch["offer_id"][web],
                    strict=True,
                )
            ]
        for (_, row), attempt in zip(
            batch[~web].iterrows(), attempts[~web.to_numpy()], strict=True
        ):
            outcomes.append(
                _deliver(conn, adapters, row, recipients, int(attempt), retry, naive_now)
            )
        record(conn, outcomes, naive_now, run_id)
        for change in outcomes:
            report.count(change.state)
    return report


def _deliver(
    conn: duckdb.DuckDBPyConnection,
    adapters: Mapping[str, Adapter],
    row: pd.Series,
    recipients: pd.DataFrame,
    attempt: int,
    retry: RetryPolicy,
    now: datetime,
) -> StateChange:
    """One row's outcome. Whatever goes wrong, the row leaves ``sending`` with the reason: an
    error other than a DeliveryError (a bug, an adapter that cannot work) is retried like a
    retryable failure, then dead-lettered, never left to crash the batch in ``sending``."""
    try:
        adapter = adapters.get(row["channel"])
        if adapter is None:
            raise DeliveryError(f"no adapter for channel {row['channel']}", retryable=True)
        receipt = adapter.deliver(_message(conn, row, recipients))
    except DeliveryError as error:
        reason, retryable = str(error), error.retryable
    except Exception as error:
        reason, retryable = f"{type(error).__name__}: {error}", True
    else:
        return StateChange(row["decision_id"], "delivered", attempt, receipt)
    final = not retryable or attempt >= retry.max_attempts
    return StateChange(
        row["decision_id"],
        "dead_letter" if final else "failed",
        attempt,
        reason,
        None if final else now + retry.delay(attempt),
    )


def dispatch_through(
    conn: duckdb.DuckDBPyConnection,
    adapters: Mapping[str, Adapter],
    start: datetime,
    until: datetime,
    run_id: str,
    retry: RetryPolicy | None = None,
    limit: int = DISPATCH_LIMIT,
) -> DispatchReport:
    """Deliver what is due at ``start``, then each row falling due before ``until`` at the instant
    it does: what the due-actions sensor does in real time, for a simulated clock (a demo world's
    day, whose contacts wait for their best hour)."""
    naive_until = naive_utc(until)
    at = naive_utc(start)
    total = DispatchReport()
    states = ", ".join(f"'{s}'" for s in RETRYABLE)
    while True:
        report = dispatch(conn, adapters, at, run_id, retry, limit)
        total.queued += report.queued
        total.attempted += report.attempted
        for state, count in report.states.items():
            total.states[state] = total.states.get(state, 0) + count
        (next_due,) = conn.execute(
            f"SELECT min(next_attempt_at) FROM {OUTBOX} WHERE state IN ({states})"
        ).fetchone()
        if next_due is None or next_due >= naive_until or (next_due <= at and not report.attempted):
            return total
        at = max(next_due, at)


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
