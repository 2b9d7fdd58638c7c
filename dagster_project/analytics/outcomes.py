"""Who was treated, who was held out, and who applied: the rows incrementality is measured on.

Each (customer, offer, channel, arm) counts once, at its first decision: an outbound contact is
treated on its channel; a customer shown the offer on the web without a contact that day is
treated on ``web``; the global control group's ``control`` rows hold what they would have
received (``web`` where that was the web offer only). The outcome is an application started for
the offer's product within ``WINDOW_DAYS`` of the decision (intention to treat: a decided contact
counts whether or not the channel delivered it). ``window_days_observed`` says how much of the
window the data covers yet. Both arms are decided at the same moments (the control group is a
hash of the key), so comparing them over the observed part of the window is fair; it measures a
shorter horizon while decisions are recent. Decisions the data has not reached yet say nothing
and are left out by ``observed``.
"""

from __future__ import annotations

import duckdb
import pandas as pd

from .journeys import CONVERSION, TIMELINE

WINDOW_DAYS = 14
ACTIONS = "decisioning.next_best_actions"

_OUTCOMES = """
WITH decided AS (
    SELECT *, bool_or(action = 'contact') OVER (PARTITION BY customer_key, decision_date)
        AS contacted_that_day
    FROM {actions}
    WHERE offer_id IS NOT NULL AND action IN ('contact', 'web', 'control')
),
assigned AS (
    SELECT customer_key, offer_id AS offer, product, coalesce(channel, 'web') AS channel, control,
        min(decided_at) AS decided_at,
        -- the first decision's logged choice: its probability and value, for off-policy values
        coalesce(arg_min(action_probability, decided_at), 1.0) AS action_probability,
        coalesce(arg_min(explored, decided_at), false) AS explored,
        arg_min(value, decided_at) AS value,
        arg_min(decision_id, decided_at) AS decision_id
    FROM decided
    WHERE action <> 'web' OR NOT contacted_that_day
    GROUP BY ALL
),
data_end AS (SELECT max(occurred_at) AS ends_at FROM {timeline})
SELECT a.customer_key, a.offer, a.channel, a.control, a.decided_at,
    a.action_probability, a.explored, a.value, a.decision_id,
    least({window}, date_diff('second', a.decided_at, d.ends_at) / 86400.0)
        AS window_days_observed,
    EXISTS (
        SELECT 1 FROM {timeline} AS f
        WHERE f.customer_key = a.customer_key AND f.product_topic = a.product
            AND f.interaction_type = '{conversion}'
            AND f.occurred_at >= a.decided_at
            AND f.occurred_at < a.decided_at + INTERVAL {window} DAY
    ) AS converted
FROM assigned AS a, data_end AS d
"""


def observed(outcomes: pd.DataFrame) -> pd.DataFrame:
    """The assignments the data has seen at least part of the window of."""
    return outcomes[outcomes["window_days_observed"] > 0]


def first_per_customer(outcomes: pd.DataFrame) -> pd.DataFrame:
    """Each customer's first assignment in each arm: the rows for an overall effect."""
    ordered = outcomes.sort_values("decided_at", kind="stable")
    return ordered.drop_duplicates(["customer_key", "control"])


def decision_outcomes(conn: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """One row per customer's first assignment to an offer on a channel in either arm."""
    from dagster_project.warehouse import table_exists

    if not table_exists(conn, ACTIONS):
        columns = ["customer_key", "offer", "channel", "control", "decided_at"]
        columns += ["action_probability", "explored", "value", "decision_id"]
        return pd.DataFrame(columns=[*columns, "window_days_observed", "converted"])
    sql = _OUTCOMES.format(
        actions=ACTIONS, timeline=TIMELINE, conversion=CONVERSION, window=WINDOW_DAYS
    )
    return conn.execute(sql).df()
