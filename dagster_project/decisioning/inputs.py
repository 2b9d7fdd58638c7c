"""Read what arbitration needs from the warehouse: the customers' decision rows, the champions'
scores, and the outbound contacts already sent."""

from __future__ import annotations

from datetime import datetime, timedelta

import duckdb
import pandas as pd

from ..settings import OUTBOUND_CHANNELS, PRODUCTS, model_scores_table
from ..warehouse import naive_utc, table_exists
from .arbitration import DecisionInputs
from .contact_history import HISTORY_COLUMNS
from .send_time import (
    ENGAGEMENT_COLUMNS,
    ENGAGEMENT_LOOKBACK_DAYS,
    READ_DELAY_SCALE_HOURS,
    SESSIONS,
    empty_engagement,
)
from .store import ACTIONS_TABLE

CONTACT_HISTORY_TABLE = "activation.contact_history"
OUTBOX_TABLE = "activation.outbox"
RECENT_PAGES_DAYS = 30

_STAGES = ",\n".join(
    f"max(CASE WHEN product = '{p}' THEN journey_stage END) AS stage_{p}" for p in PRODUCTS
)

CUSTOMERS_SQL = f"""
WITH stages AS (
    SELECT customer_key, {_STAGES}
    FROM marts.customer_journey_stages
    GROUP BY customer_key
),
pages AS (
    -- What the customer looked at lately (page categories, for the template): keys, no PII.
    SELECT customer_key, list(DISTINCT detail ORDER BY detail)[1:5] AS recent_pages
    FROM marts.fct_interactions
    WHERE channel IN ('web', 'app') AND interaction_type = 'page_view' AND detail IS NOT NULL
        AND occurred_at >= (SELECT max(as_of) FROM marts.customer_features) - INTERVAL {RECENT_PAGES_DAYS} DAY
    GROUP BY customer_key
)
SELECT
    f.*,
    c.time_zone, c.do_not_contact, c.can_email, c.can_sms, c.can_push,
    d.advisor_id, d.branch_id,
    s.* EXCLUDE (customer_key),
    p.recent_pages
FROM marts.customer_features AS f
JOIN marts.customer_contactability AS c USING (customer_key)
LEFT JOIN marts.dim_customer AS d USING (customer_key)
LEFT JOIN stages AS s USING (customer_key)
LEFT JOIN pages AS p USING (customer_key)
ORDER BY f.customer_key
"""


# Each delivered contact, with what the plan expected of it when it was decided: the offer score
# times the channel score (response learning calibrates that against the clicks).
HISTORY_SQL = f"""
SELECT h.customer_key, h.channel, h.sent_at, h.engaged, h.clicked, d.product, h.decision_id,
    d.offer_score * d.channel_score AS predicted, true AS delivered, d.decided_at
FROM {CONTACT_HISTORY_TABLE} AS h
LEFT JOIN {ACTIONS_TABLE} AS d USING (decision_id)
UNION ALL
-- Contacts decided but not sent yet (waiting for their hour, or retrying) count against caps
-- and the gap at the time they will go out; nothing is learned from them until they are sent.
SELECT o.customer_key, o.channel, o.scheduled_at, false, false, d.product, o.decision_id,
    NULL, false, d.decided_at
FROM {OUTBOX_TABLE} AS o
LEFT JOIN {ACTIONS_TABLE} AS d USING (decision_id)
WHERE o.action = 'contact' AND o.state IN ('queued', 'sending', 'failed')
"""


# When each customer engages, per channel and local hour of the week (send_time's docstring):
# the first answer to each send, weighted by its delay after the send, and the hours they were
# on the site or in the app, over the lookback before the decision.
ENGAGEMENT_SQL = f"""
WITH recent AS (
    SELECT customer_key, channel, interaction_type, occurred_at
    FROM marts.fct_interactions
    WHERE occurred_at >= $since AND occurred_at < $now
        AND channel IN ({", ".join(f"'{c}'" for c in (*OUTBOUND_CHANNELS, "web", "app"))})
),
sends AS (
    SELECT customer_key, channel, occurred_at AS sent_at FROM recent
    WHERE channel NOT IN ('web', 'app') AND interaction_type = channel || '_send'
),
answers AS (
    SELECT customer_key, channel, occurred_at FROM recent
    WHERE channel NOT IN ('web', 'app')
        AND interaction_type IN (channel || '_open', channel || '_click')
),
first_answers AS (
    -- Repeat opens, and the click after the open, say nothing more about the hour.
    SELECT a.customer_key, a.channel, min(a.occurred_at) AS occurred_at,
        any_value(s.sent_at) AS sent_at
    FROM answers AS a
    ASOF LEFT JOIN sends AS s
        ON a.customer_key = s.customer_key AND a.channel = s.channel AND a.occurred_at >= s.sent_at
    GROUP BY a.customer_key, a.channel, coalesce(s.sent_at, a.occurred_at)
),
evidence AS (
    SELECT customer_key, channel, occurred_at,
        CASE WHEN sent_at IS NULL THEN 1.0
            ELSE 1 - exp(-epoch(occurred_at - sent_at) / (3600.0 * {READ_DELAY_SCALE_HOURS}))
        END AS evidence
    FROM first_answers
    UNION ALL
    SELECT DISTINCT customer_key, '{SESSIONS}', date_trunc('hour', occurred_at), 1.0
    FROM recent WHERE channel IN ('web', 'app')
),
local AS (
    SELECT e.customer_key, e.channel, e.evidence,
        timezone(coalesce(c.time_zone, $zone), e.occurred_at AT TIME ZONE 'UTC') AS local_at
    FROM evidence AS e
    JOIN marts.customer_contactability AS c USING (customer_key)
)
SELECT customer_key, channel, (isodow(local_at) - 1) * 24 + hour(local_at) AS hour_of_week,
    sum(evidence) AS evidence
FROM local
GROUP BY ALL
"""


def load_engagement(
    conn: duckdb.DuckDBPyConnection, now: datetime, default_zone: str
) -> pd.DataFrame:
    """Per customer, channel (or ``web`` for sessions) and local hour of the week: evidence."""
    if not table_exists(conn, "marts.fct_interactions"):
        return empty_engagement()
    naive = naive_utc(now)
    frame = conn.execute(
        ENGAGEMENT_SQL,
        {
            "since": naive - timedelta(days=ENGAGEMENT_LOOKBACK_DAYS),
            "now": naive,
            "zone": default_zone,
        },
    ).df()
    return frame.astype(ENGAGEMENT_COLUMNS)


def _scores(conn: duckdb.DuckDBPyConnection, model: str) -> tuple[pd.DataFrame, str | None]:
    table = model_scores_table(model)
    if not table_exists(conn, table):
        return pd.DataFrame(
            columns=["customer_key", "subject", "score", "rank", "reason_codes"]
        ), None
    frame = conn.execute(
        f"SELECT customer_key, subject, score, rank, reason_codes FROM {table}"
    ).df()
    version = conn.execute(f"SELECT any_value(model_version) FROM {table}").fetchone()[0]
    return frame, version


def load_decision_inputs(
    conn: duckdb.DuckDBPyConnection, now: datetime, default_zone: str = "America/New_York"
) -> DecisionInputs:
    """``default_zone``: the local clock of customers with no time zone (the contact policy's)."""
    customers = conn.execute(CUSTOMERS_SQL).df()
    offers, offer_version = _scores(conn, "offer_propensity")
    channels, channel_version = _scores(conn, "channel_response")
    if table_exists(conn, CONTACT_HISTORY_TABLE):
        history = conn.execute(HISTORY_SQL).df()
    else:
        history = pd.DataFrame({c: pd.Series(dtype=t) for c, t in HISTORY_COLUMNS.items()})
    versions = {
        name: version
        for name, version in (
            ("offer_propensity", offer_version),
            ("channel_response", channel_version),
        )
        if version
    }
    engagement = load_engagement(conn, now, default_zone)
    return DecisionInputs(customers, offers, channels, history, now, versions, engagement)
