"""Product funnels (aware -> considering -> applying -> converted) and friction points.

The stages follow ``marts.customer_journey_stages``: aware is any interaction of the customer's
about the product (the platform's own next-best-action sends do not count);
considering is a strong signal (a calculator, a rates page, a call about it) or a third
interaction within 30 days; applying is an application started or submitted; converted is an
application converted. Someone who reached a later stage counts as having passed every earlier
one, entering it no later than the later one. Times per step are medians over the customers who
made that step.
"""

from __future__ import annotations

import itertools

import duckdb
import pandas as pd

from .journeys import TIMELINE

STEPS = ("aware", "considering", "applying", "converted")
ABANDON_DAYS = 14

_ENTERED = """
WITH product_touches AS (
    SELECT customer_key, product_topic AS product, occurred_at, interaction_type, detail,
        lag(occurred_at, 2) OVER (
            PARTITION BY customer_key, product_topic ORDER BY occurred_at
        ) AS two_before
    FROM {timeline}
    WHERE product_topic IS NOT NULL AND shows_interest
),
firsts AS (
    SELECT customer_key, product,
        min(occurred_at) AS aware_at,
        least(
            min(occurred_at) FILTER (
                detail IN ('calculator', 'rates') OR interaction_type IN ('call', 'calculator_submit')
            ),
            min(occurred_at) FILTER (two_before >= occurred_at - INTERVAL 30 DAY)
        ) AS considering_at,
        min(occurred_at) FILTER (
            interaction_type IN ('application_started', 'application_submitted')
        ) AS applying_at,
        min(occurred_at) FILTER (interaction_type = 'application_converted') AS converted_at
    FROM product_touches
    GROUP BY ALL
)
SELECT customer_key, product,
    least(aware_at, considering_at, applying_at, converted_at) AS aware,
    least(considering_at, applying_at, converted_at) AS considering,
    least(applying_at, converted_at) AS applying,
    converted_at AS converted
FROM firsts
"""


def stage_entries(conn: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Per (customer, product): when they entered each funnel step (NaT: never)."""
    return conn.execute(_ENTERED.format(timeline=TIMELINE)).df()


def funnel(entries: pd.DataFrame) -> pd.DataFrame:
    """Per product and step: customers, conversion from the previous step and from aware, and
    the median days the step took."""
    rows = []
    for product, group in entries.groupby("product", sort=True):
        aware = int(group["aware"].notna().sum())
        previous = None
        for step in STEPS:
            reached = group[step].notna()
            customers = int(reached.sum())
            if previous is None:
                from_previous, days = 1.0, float("nan")
            else:
                before = int(group[previous].notna().sum())
                from_previous = customers / before if before else float("nan")
                took = (group.loc[reached, step] - group.loc[reached, previous]).dt.total_seconds()
                days = float(took.median() / 86400) if customers else float("nan")
            rows.append(
                {
                    "product": product,
                    "step": step,
                    "customers": customers,
                    "conversion_from_previous": from_previous,
                    "conversion_from_aware": customers / aware if aware else float("nan"),
                    "median_days_from_previous": days,
                }
            )
            previous = step
    return pd.DataFrame(rows)


_ABANDONMENT = """
WITH firsts AS (
    SELECT customer_key, product_topic AS product,
        min(occurred_at) FILTER (interaction_type = 'application_started') AS started_at,
        min(occurred_at) FILTER (interaction_type = 'application_submitted') AS submitted_at,
        min(occurred_at) FILTER (interaction_type = 'application_declined') AS declined_at,
        min(occurred_at) FILTER (interaction_type = 'calculator_submit') AS calculator_at
    FROM {timeline}
    WHERE product_topic IS NOT NULL
    GROUP BY ALL
),
applications AS (
    -- the first application at or after the first calculator use
    SELECT a.*, (
        SELECT min(f.occurred_at) FROM {timeline} AS f
        WHERE f.customer_key = a.customer_key AND f.product_topic = a.product
            AND f.interaction_type IN ('application_started', 'application_submitted')
            AND f.occurred_at >= a.calculator_at
    ) AS applied_after_calculator_at
    FROM firsts AS a
),
horizon AS (SELECT max(occurred_at) - INTERVAL {days} DAY AS settled FROM {timeline})
SELECT product, 'application started, not submitted within {days} days' AS friction_point,
    count(*) AS entered,
    count(*) FILTER (submitted_at IS NULL OR submitted_at > started_at + INTERVAL {days} DAY)
        AS dropped
FROM applications, horizon WHERE started_at <= settled GROUP BY ALL
UNION ALL
SELECT product, 'calculator used, no application within {days} days', count(*),
    count(*) FILTER (
        applied_after_calculator_at IS NULL
        OR applied_after_calculator_at > calculator_at + INTERVAL {days} DAY
    )
FROM applications, horizon WHERE calculator_at <= settled GROUP BY ALL
UNION ALL
SELECT product, 'application submitted, declined', count(*), count(declined_at)
FROM applications WHERE submitted_at IS NOT NULL GROUP BY ALL
"""


def friction_points(conn: duckdb.DuckDBPyConnection, steps: pd.DataFrame) -> pd.DataFrame:
    """Where journeys stall, per product, highest drop rate first: each funnel step's drop-off,
    applications abandoned, calculators that led nowhere and declines. Only customers whose
    ``ABANDON_DAYS`` have fully passed count for the abandonment points."""
    abandonment = conn.execute(_ABANDONMENT.format(timeline=TIMELINE, days=ABANDON_DAYS)).df()
    transitions = []
    for product, group in steps.groupby("product", sort=True):
        ordered = group.set_index("step").loc[list(STEPS)]
        for before, after in itertools.pairwise(STEPS):
            entered = int(ordered.loc[before, "customers"])
            transitions.append(
                {
                    "product": product,
                    "friction_point": f"{before} -> {after}",
                    "entered": entered,
                    "dropped": entered - int(ordered.loc[after, "customers"]),
                }
            )
    points = pd.concat([pd.DataFrame(transitions), abandonment], ignore_index=True)
    points = points[points["entered"] > 0].copy()
    points["drop_rate"] = points["dropped"] / points["entered"]
    return points.sort_values(
        ["product", "drop_rate", "friction_point"], ascending=[True, False, True], ignore_index=True
    )
