"""Scores before a model can be trained: each model's population rate, from its own labels.

A new deployment holds too little history for a time-based validation split (at 40 days, no
snapshot's label window closes before the holdout snapshot), so no model can be trained or
checked. Decisioning still runs: every customer gets the rate at which customers took each
offer up (or churned) in the label windows there are, smoothed towards one half by one
pseudo-observation (Jeffreys), written to the model's score table under the version ``prior``.
Arbitration then ranks offers by value x rate, exploration spreads contacts, and the first
trained champion replaces these rows. Channel response has no such rows: arbitration already
falls back to each channel's configured prior, updated by the responses it sees.
"""

from __future__ import annotations

import duckdb

from dagster_project.settings import model_scores_table
from dagster_project.warehouse import table_exists
from models.specs import ModelSpec

PRIOR_VERSION = "prior"
PRIOR_REASON = "population_rate"  # the one reason code of a prior score
# The models whose scores decisioning cannot do without; channel response has its own prior.
MODELS_WITH_PRIOR_SCORES = ("offer_propensity", "churn_risk")


def population_rates(
    conn: duckdb.DuckDBPyConnection, spec: ModelSpec
) -> dict[str | None, float] | None:
    """Per subject (or one rate, for a model of one row per customer), the smoothed share of
    positive labels in the model's labels table; None where there are no labels at all."""
    if not table_exists(conn, spec.labels_table):
        return None
    subject = spec.subject or "NULL"
    rows = conn.execute(
        f"SELECT {subject}, sum({spec.label}), count(*) FROM {spec.labels_table} GROUP BY 1"
    ).fetchall()
    if not rows:
        return None
    return {s: (float(positive) + 0.5) / (count + 1.0) for s, positive, count in rows}


def trained_version_scored(conn: duckdb.DuckDBPyConnection, name: str) -> str | None:
    """The trained version whose scores the model's table holds, if any: a model with no
    champion but such scores has lost its registry (recreated, emptied, another tracking URI),
    which is not a cold start."""
    table = model_scores_table(name)
    if not table_exists(conn, table):
        return None
    version = conn.execute(
        f"SELECT any_value(model_version) FROM {table} WHERE model_version <> ?", [PRIOR_VERSION]
    ).fetchone()[0]
    return None if version is None else str(version)
