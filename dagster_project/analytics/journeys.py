"""Product journeys out of the unified timeline, in one DuckDB query each.

A journey is one customer's touchpoints about one product, ending either in a conversion (the
first application started for that product: the outcome the offer model predicts) or at the end
of the data for people who touched the product and did not apply. Touchpoints are interactions
about the product (``product_topic``) on any channel, within ``lookback_days`` before the end;
the applications themselves are outcomes, not touchpoints. A touchpoint is labelled by channel
(web, app, contact_centre, email, push, sms) or, for attribution per offer, by the offer of the
platform's message that caused it, where there is one (``nba:<offer id>``; other touches keep
their channel).
"""

from __future__ import annotations

import duckdb
import pandas as pd

from ..settings import NBA_CAMPAIGN_PREFIX

TIMELINE = "marts.fct_interactions"
CONVERSION = "application_started"
LOOKBACK_DAYS = 30

_JOURNEYS = """
WITH touches AS (
    SELECT f.customer_key, f.product_topic AS product, f.occurred_at, f.channel,
        CASE
            WHEN f.channel = 'email' AND starts_with(f.detail, '{prefix}')
                THEN 'nba:' || substr(f.detail, {offer_from})
            WHEN f.channel IN ('push', 'sms') AND o.offer_id IS NOT NULL THEN 'nba:' || o.offer_id
            ELSE f.channel
        END AS offer_touch
    FROM {timeline} AS f
    LEFT JOIN ({outbox}) AS o ON f.channel IN ('push', 'sms') AND o.decision_id = f.detail
    WHERE f.product_topic IS NOT NULL AND f.interaction_type NOT LIKE 'application_%'
        AND f.is_touch
),
conversions AS (
    SELECT customer_key, product_topic AS product, min(occurred_at) AS converted_at
    FROM {timeline}
    WHERE interaction_type = '{conversion}' AND product_topic IS NOT NULL
    GROUP BY ALL
),
pairs AS (
    SELECT DISTINCT customer_key, product FROM touches
),
ends AS (
    SELECT customer_key, product, c.converted_at IS NOT NULL AS converted,
        coalesce(c.converted_at, (SELECT max(occurred_at) FROM {timeline})) AS ends_at
    FROM pairs FULL JOIN conversions AS c USING (customer_key, product)
)
SELECT e.customer_key, e.product, e.converted, e.ends_at,
    coalesce(list(t.channel ORDER BY t.occurred_at) FILTER (t.occurred_at IS NOT NULL), [])
        AS touchpoints,
    coalesce(list(t.offer_touch ORDER BY t.occurred_at) FILTER (t.occurred_at IS NOT NULL), [])
        AS offer_touchpoints,
    coalesce(list(date_diff('second', t.occurred_at, e.ends_at) / 86400.0 ORDER BY t.occurred_at)
        FILTER (t.occurred_at IS NOT NULL), []) AS days_before
FROM ends AS e
LEFT JOIN touches AS t
    ON t.customer_key = e.customer_key AND t.product = e.product
    AND t.occurred_at < e.ends_at
    AND t.occurred_at >= e.ends_at - INTERVAL ({lookback}) DAY
GROUP BY ALL
"""

_NO_OUTBOX = "SELECT NULL::VARCHAR AS decision_id, NULL::VARCHAR AS offer_id WHERE false"


def load_journeys(
    conn: duckdb.DuckDBPyConnection, lookback_days: int = LOOKBACK_DAYS
) -> pd.DataFrame:
    """One row per (customer, product) journey: ``converted``, ``ends_at``, ``touchpoints``
    (channels, oldest first), ``offer_touchpoints`` (the same touches labelled by offer where the
    platform sent them) and ``days_before`` (days from each touch to the end). A conversion with
    no touch in the window has empty lists."""
    from dagster_project.warehouse import table_exists

    outbox = (
        "SELECT decision_id, offer_id FROM activation.outbox"
        if table_exists(conn, "activation.outbox")
        else _NO_OUTBOX
    )
    sql = _JOURNEYS.format(
        timeline=TIMELINE,
        outbox=outbox,
        conversion=CONVERSION,
        lookback=int(lookback_days),
        prefix=NBA_CAMPAIGN_PREFIX,
        offer_from=len(NBA_CAMPAIGN_PREFIX) + 1,
    )
    journeys = conn.execute(sql).df()
    return journeys.sort_values(["product", "customer_key"], ignore_index=True)
