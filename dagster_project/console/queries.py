"""What the console shows, read from the warehouse in one short read-only pass.

Everything is per *decision date*: the newest ``decision_date`` in ``decisioning.next_best_actions``
(or the one asked for). The analytics tables (incrementality, funnels, paths, attribution) are
what the latest ``analytics/journey_analytics`` run computed over all decisions so far.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import duckdb
import pandas as pd

from ..warehouse import table_exists

ACTIONS_TABLE = "decisioning.next_best_actions"
OUTBOX_TABLE = "activation.outbox"
PLAN_ACTIONS = ("contact", "advisor_task", "web")
# At most this many rows are written into a page's table (the counts and charts cover all rows;
# the full plan is in <data dir>/exports/next_best_actions/).
MAX_ROWS = 5_000

# The rule that held a row back, from its action and arbitration's words, most specific first.
HELD_BACK_RULE = """
CASE
    WHEN action = 'control' THEN 'control group'
    WHEN action = 'no_action' AND explanation = 'do not contact' THEN 'suppression: do not contact'
    WHEN action = 'no_action' AND explanation = 'no eligible offer' THEN 'eligibility: no offer'
    WHEN action = 'no_action' AND explanation = 'nothing clears min_priority'
        THEN 'min_priority: nothing worth doing'
    WHEN action = 'no_action' AND explanation LIKE 'waiting for a better channel%'
        THEN 'cap: waiting for a better channel''s cap'
    WHEN action = 'no_action' THEN 'cap: ' || coalesce(explanation, 'no action')
    WHEN action = 'web' AND explanation LIKE '%no contact: no consent%'
        THEN 'consent: no channel their offers use'
    WHEN action = 'web' AND explanation LIKE '%no contact: the channels they may get are capped%'
        THEN 'cap: channel caps reached'
    WHEN action = 'web' AND explanation LIKE '%no contact: waiting for a better channel%'
        THEN 'cap: waiting for a better channel''s cap'
    WHEN action = 'web' AND explanation LIKE '%no contact: no contact clears min_priority%'
        THEN 'min_priority: no contact worth sending'
    WHEN action = 'web' AND explanation LIKE '%no contact: %'
        THEN 'cap: ' || regexp_extract(explanation, 'no contact: (.*)$', 1)
    WHEN action = 'contact' AND explanation LIKE '%for quiet hours%'
        THEN 'quiet hours: deferred, not dropped'
    WHEN action = 'contact' AND explanation LIKE '%minimum gap%'
        THEN 'minimum gap: deferred, not dropped'
END
"""


@dataclass
class ConsoleData:
    decision_date: str | None  # the date every page describes; None before any decision
    decided_at: pd.Timestamp | None
    plan: pd.DataFrame  # the acting rows, at most MAX_ROWS, highest priority first per action
    plan_counts: pd.DataFrame  # action, channel, offer_id, rows: over every acting row
    held_back: pd.DataFrame  # rule, offer_id, rows
    held_back_rows: pd.DataFrame  # at most MAX_ROWS
    actions: pd.DataFrame  # action, rows: every row of the day
    deliveries: pd.DataFrame  # channel, state, rows
    delivery_reasons: pd.DataFrame  # channel, state, reason, rows, attempts
    delivery_rows: pd.DataFrame  # failed and dead-lettered rows, at most MAX_ROWS
    analytics: dict[str, pd.DataFrame] = field(default_factory=dict)


def _frame(conn: duckdb.DuckDBPyConnection, sql: str, params: list | None = None) -> pd.DataFrame:
    return conn.execute(sql, params or []).df()


def latest_decision_date(conn: duckdb.DuckDBPyConnection) -> str | None:
    if not table_exists(conn, ACTIONS_TABLE):
        return None
    return conn.execute(f"SELECT max(decision_date) FROM {ACTIONS_TABLE}").fetchone()[0]


ANALYTICS_TABLES = (
    "incrementality",
    "funnel_steps",
    "friction_points",
    "top_paths",
    "attribution_by_channel",
)


def read_console_data(conn: duckdb.DuckDBPyConnection, day: str | None = None) -> ConsoleData:
    """Everything the pages show for ``day`` (default: the newest decision date)."""
    day = day or latest_decision_date(conn)
    analytics = {
        name: _frame(conn, f"SELECT * FROM analytics.{name}")
        for name in ANALYTICS_TABLES
        if table_exists(conn, f"analytics.{name}")
    }
    if day is None:
        empty = pd.DataFrame()
        return ConsoleData(None, None, *[empty] * 9, analytics=analytics)  # type: ignore[arg-type]
    has_outbox = table_exists(conn, OUTBOX_TABLE)
    state = "o.state" if has_outbox else "NULL"
    outbox_join = f"LEFT JOIN {OUTBOX_TABLE} AS o USING (decision_id)" if has_outbox else ""
    acting = ", ".join(f"'{a}'" for a in PLAN_ACTIONS)
    day_rows = f"SELECT * FROM {ACTIONS_TABLE} WHERE decision_date = ?"
    decided_at = conn.execute(
        f"SELECT max(decided_at) FROM {ACTIONS_TABLE} WHERE decision_date = ?", [day]
    ).fetchone()[0]
    plan = _frame(
        conn,
        f"""
        SELECT n.decision_id, n.customer_key, n.action, n.offer_id, n.product, n.channel,
            n.scheduled_at, n.priority, n.response_score, n.offer_score, n.explored,
            n.explanation, {state} AS delivery_state
        FROM ({day_rows}) AS n {outbox_join}
        WHERE n.action IN ({acting})
        ORDER BY array_position(['contact', 'advisor_task', 'web'], n.action), n.priority DESC
            NULLS LAST, n.decision_id
        LIMIT {MAX_ROWS}
        """,
        [day],
    )
    plan_counts = _frame(
        conn,
        f"""
        SELECT action, coalesce(channel, '') AS channel, offer_id, count(*) AS rows
        FROM ({day_rows}) WHERE action IN ({acting}) GROUP BY ALL ORDER BY ALL
        """,
        [day],
    )
    held = f"SELECT *, {HELD_BACK_RULE} AS rule FROM ({day_rows})"
    held_back = _frame(
        conn,
        f"""
        SELECT rule, coalesce(offer_id, '(none)') AS offer_id, count(*) AS rows
        FROM ({held}) WHERE rule IS NOT NULL GROUP BY ALL ORDER BY rule, offer_id
        """,
        [day],
    )
    held_back_rows = _frame(
        conn,
        f"""
        SELECT customer_key, rule, action, offer_id, channel, scheduled_at, explanation
        FROM ({held}) WHERE rule IS NOT NULL
        ORDER BY rule, customer_key LIMIT {MAX_ROWS}
        """,
        [day],
    )
    actions = _frame(
        conn,
        f"SELECT action, count(*) AS rows FROM ({day_rows}) GROUP BY ALL ORDER BY rows DESC",
        [day],
    )
    if has_outbox:
        outbox = f"""
            SELECT o.*, n.offer_id AS offer FROM {OUTBOX_TABLE} AS o
            JOIN ({day_rows}) AS n USING (decision_id)
        """
        deliveries = _frame(
            conn,
            f"SELECT channel, state, count(*) AS rows FROM ({outbox}) GROUP BY ALL ORDER BY ALL",
            [day],
        )
        delivery_reasons = _frame(
            conn,
            f"""
            SELECT channel, state, coalesce(last_error, '') AS reason, count(*) AS rows,
                sum(attempts) AS attempts
            FROM ({outbox}) WHERE state <> 'delivered' GROUP BY ALL ORDER BY rows DESC
            """,
            [day],
        )
        delivery_rows = _frame(
            conn,
            f"""
            SELECT decision_id, customer_key, channel, offer, state, attempts, scheduled_at,
                next_attempt_at, updated_at, last_error
            FROM ({outbox}) WHERE state IN ('failed', 'dead_letter')
            ORDER BY state DESC, updated_at DESC LIMIT {MAX_ROWS}
            """,
            [day],
        )
    else:
        deliveries = delivery_reasons = delivery_rows = pd.DataFrame()
    return ConsoleData(
        decision_date=str(day),
        decided_at=None if decided_at is None else pd.Timestamp(decided_at),
        plan=plan,
        plan_counts=plan_counts,
        held_back=held_back,
        held_back_rows=held_back_rows,
        actions=actions,
        deliveries=deliveries,
        delivery_reasons=delivery_reasons,
        delivery_rows=delivery_rows,
        analytics=analytics,
    )
