"""The outbox: every deliverable decision with its delivery state, and the log of every change.

States: ``queued`` -> ``sending`` -> ``delivered``; a failed attempt goes to ``failed`` with the
next attempt time (exponential back-off) and, after ``max_attempts``, to ``dead_letter``. The
``sending`` state is committed *before* the channel is called: a dispatcher that dies mid-call
leaves the row in ``sending``, and the next run sends it again with the same idempotency key
(the ``decision_id``), which the channel uses to drop the duplicate. Every state change is a row
in ``activation.action_log``; delivered outbound contacts are the contact history that caps,
gaps and back-off count.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import duckdb
import pandas as pd

from ..decisioning.response_learning import RESPONSE_WINDOW_HOURS
from ..settings import DELIVERABLE_ACTIONS
from ..warehouse import naive_utc, table_exists, transaction

OUTBOX = "activation.outbox"
ACTION_LOG = "activation.action_log"
CONTACT_HISTORY = "activation.contact_history"
RETRYABLE = ("queued", "sending", "failed")

_DDL = f"""
CREATE SCHEMA IF NOT EXISTS activation;
CREATE TABLE IF NOT EXISTS {OUTBOX} (
    decision_id VARCHAR PRIMARY KEY,
    customer_key VARCHAR NOT NULL,
    action VARCHAR NOT NULL,
    channel VARCHAR,            -- email, sms, push; web; advisor
    offer_id VARCHAR,
    scheduled_at TIMESTAMP NOT NULL,
    state VARCHAR NOT NULL,     -- queued, sending, delivered, failed, dead_letter
    attempts INTEGER NOT NULL,
    next_attempt_at TIMESTAMP NOT NULL,
    last_error VARCHAR,
    updated_at TIMESTAMP NOT NULL
);
CREATE TABLE IF NOT EXISTS {ACTION_LOG} (
    decision_id VARCHAR NOT NULL,
    state VARCHAR NOT NULL,
    attempt INTEGER NOT NULL,
    logged_at TIMESTAMP NOT NULL,
    detail VARCHAR,
    dispatch_run_id VARCHAR
);
-- Outbound contacts delivered; whether the customer opened or clicked on that channel since, and
-- whether they clicked there within the response window (what a contact is learned on).
CREATE OR REPLACE VIEW {CONTACT_HISTORY} AS
SELECT o.decision_id, o.customer_key, o.channel, o.offer_id, l.logged_at AS sent_at,
    EXISTS (
        SELECT 1 FROM marts.fct_interactions AS f
        WHERE f.customer_key = o.customer_key AND f.channel = o.channel AND f.occurred_at >= l.logged_at
            AND f.interaction_type IN (o.channel || '_open', o.channel || '_click')
    ) AS engaged,
    EXISTS (
        SELECT 1 FROM marts.fct_interactions AS f
        WHERE f.customer_key = o.customer_key AND f.channel = o.channel
            AND f.interaction_type = o.channel || '_click'
            AND f.occurred_at >= l.logged_at
            AND f.occurred_at < l.logged_at + INTERVAL {RESPONSE_WINDOW_HOURS} HOUR
    ) AS clicked
FROM {OUTBOX} AS o
JOIN {ACTION_LOG} AS l ON l.decision_id = o.decision_id AND l.state = 'delivered'
WHERE o.action = 'contact';
"""


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 5
    first_delay_s: float = 30.0
    factor: float = 4.0  # 30 s, 2 min, 8 min, 32 min

    def delay(self, attempt: int) -> timedelta:
        return timedelta(seconds=self.first_delay_s * self.factor ** (attempt - 1))


def ensure_tables(conn: duckdb.DuckDBPyConnection) -> None:
    conn.execute(_DDL)


def enqueue(conn: duckdb.DuckDBPyConnection, now: datetime, run_id: str) -> int:
    """Queue every deliverable decision not yet in the outbox (control-group rows never are)."""
    ensure_tables(conn)
    now = naive_utc(now)
    actions = ", ".join(f"'{a}'" for a in DELIVERABLE_ACTIONS)
    with transaction(conn):
        new = conn.execute(
            f"""
            INSERT INTO {OUTBOX}
            SELECT decision_id, customer_key, action,
                CASE action WHEN 'web' THEN 'web' WHEN 'advisor_task' THEN 'advisor' ELSE channel END,
                offer_id, coalesce(scheduled_at, ?), 'queued', 0, coalesce(scheduled_at, ?), NULL, ?
            FROM decisioning.next_best_actions
            WHERE action IN ({actions}) AND NOT control
                AND decision_id NOT IN (SELECT decision_id FROM {OUTBOX})
            RETURNING decision_id
            """,
            [now, now, now],
        ).fetchall()
        if new:
            conn.executemany(
                f"INSERT INTO {ACTION_LOG} VALUES (?, 'queued', 0, ?, NULL, ?)",
                [(d, now, run_id) for (d,) in new],
            )
    return len(new)


def due(conn: duckdb.DuckDBPyConnection, now: datetime, limit: int) -> pd.DataFrame:
    """Rows to (re)send now, with what the channel needs, oldest first."""
    ensure_tables(conn)
    states = ", ".join(f"'{s}'" for s in RETRYABLE)
    return conn.execute(
        f"""
        SELECT o.decision_id, o.customer_key, o.action, o.channel, o.offer_id, o.attempts,
            o.state, n.content, n.product, n.reason_codes
        FROM {OUTBOX} AS o
        JOIN decisioning.next_best_actions AS n USING (decision_id)
        WHERE o.state IN ({states}) AND o.next_attempt_at <= ?
        ORDER BY o.scheduled_at, o.decision_id
        LIMIT ?
        """,
        [naive_utc(now), limit],
    ).df()


@dataclass(frozen=True)
class StateChange:
    decision_id: str
    state: str
    attempt: int
    detail: str | None = None
    next_attempt_at: datetime | None = None  # failed: when to try again


def record(
    conn: duckdb.DuckDBPyConnection, changes: list[StateChange], now: datetime, run_id: str
) -> None:
    """State changes of many rows: the outbox rows and their log lines, committed together."""
    if not changes:
        return
    now = naive_utc(now)
    frame = pd.DataFrame(
        {
            "decision_id": [c.decision_id for c in changes],
            "state": [c.state for c in changes],
            "attempt": [c.attempt for c in changes],
            "detail": [c.detail for c in changes],
            "next_attempt_at": [naive_utc(c.next_attempt_at or now) for c in changes],
        }
    )
    conn.register("changes", frame)
    try:
        with transaction(conn):
            conn.execute(
                f"""
                UPDATE {OUTBOX} AS o SET state = c.state, attempts = c.attempt,
                    next_attempt_at = c.next_attempt_at,
                    last_error = CASE WHEN c.state = 'delivered' THEN NULL ELSE c.detail END,
                    updated_at = ?
                FROM changes AS c WHERE o.decision_id = c.decision_id
                """,
                [now],
            )
            conn.execute(
                f"INSERT INTO {ACTION_LOG} SELECT decision_id, state, attempt, ?, detail, ? FROM changes",
                [now, run_id],
            )
    finally:
        conn.unregister("changes")


@dataclass(frozen=True)
class DeadLetters:
    recent: int  # dead-lettered within DEAD_LETTER_WINDOW of the outbox's latest change
    total: int
    by_channel: dict[str, int]  # the recent ones
    decision_ids: list[str]  # a few recent ones, to look up in the action log


# Dead letters this recent are news; older ones are history (counted, not warned about again).
# Measured on the outbox's own clock (its latest change), so a simulated day works like a real one.
DEAD_LETTER_WINDOW = timedelta(hours=24)


def dead_letters(conn: duckdb.DuckDBPyConnection, shown: int = 10) -> DeadLetters:
    """What gave up delivering lately: rows in ``dead_letter`` whose last change is within
    ``DEAD_LETTER_WINDOW`` of the outbox's latest change (keys and channels only, no PII). Reads
    only: no outbox yet, no dead letters."""
    if not table_exists(conn, OUTBOX):
        return DeadLetters(0, 0, {}, [])
    recent = f"""
        SELECT decision_id, channel FROM {OUTBOX}
        WHERE state = 'dead_letter'
            AND updated_at > (SELECT max(updated_at) FROM {OUTBOX}) - INTERVAL
                {int(DEAD_LETTER_WINDOW.total_seconds())} SECOND
    """
    by_channel = dict(
        conn.execute(f"SELECT channel, count(*) FROM ({recent}) GROUP BY 1 ORDER BY 1").fetchall()
    )
    ids = [r[0] for r in conn.execute(f"{recent} ORDER BY decision_id LIMIT {shown}").fetchall()]
    (total,) = conn.execute(f"SELECT count(*) FROM {OUTBOX} WHERE state = 'dead_letter'").fetchone()
    return DeadLetters(sum(by_channel.values()), int(total), by_channel, ids)
