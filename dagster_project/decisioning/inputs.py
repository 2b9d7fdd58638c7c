"""Read what arbitration needs from the warehouse: the customers' decision rows, the champions'
scores, and the outbound contacts already sent."""

from __future__ import annotations

from datetime import datetime

import duckdb
import pandas as pd

from ..settings import PRODUCTS, model_scores_table
from ..warehouse import table_exists
from .arbitration import DecisionInputs
from .contact_history import HISTORY_COLUMNS
from .store import ACTIONS_TABLE

CONTACT_HISTORY_TABLE = "activation.contact_history"
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
    d.offer_score * d.channel_score AS predicted
FROM {CONTACT_HISTORY_TABLE} AS h
LEFT JOIN {ACTIONS_TABLE} AS d USING (decision_id)
"""


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


def load_decision_inputs(conn: duckdb.DuckDBPyConnection, now: datetime) -> DecisionInputs:
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
    return DecisionInputs(customers, offers, channels, history, now, versions)
