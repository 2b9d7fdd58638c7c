"""The rows the uplift model learns from: each outbound decision, contacted or held out, with
what it was decided on and whether its customer applied for the offer's product after it."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pandas as pd

from ..analytics.outcomes import decision_outcomes, observed
from ..decisioning.exploration import stable_uniform
from ..decisioning.store import contexts_folder
from ..warehouse import quote_literal

KEYS = ("decision_id", "customer_key")
HOLDOUT_SHARE = 0.3  # customers the uplift model is measured on, not fitted on


def load_uplift_rows(
    conn: duckdb.DuckDBPyConnection, data_root: Path
) -> tuple[pd.DataFrame, list[str]]:
    """(rows, feature columns): outbound contacts and the control group's held contacts whose
    outcome window the data has reached, joined to their logged context by decision id."""
    folder = contexts_folder(data_root)
    files = sorted(folder.glob("*.parquet")) if folder.exists() else []
    outcomes = observed(decision_outcomes(conn))
    outcomes = outcomes[outcomes["channel"] != "web"]
    if not files or outcomes.empty:
        return pd.DataFrame(columns=[*outcomes.columns, "holdout"]), []
    listed = "[" + ", ".join(quote_literal(str(f)) for f in files) + "]"
    contexts = conn.execute(f"SELECT * FROM read_parquet({listed}, union_by_name = true)").df()
    features = [c for c in contexts.columns if c not in KEYS]
    rows = outcomes.merge(
        contexts.drop(columns=["customer_key"], errors="ignore"), on="decision_id"
    )
    # Its own salt: independent of the control group's draw on the same keys.
    holdout = stable_uniform(rows["customer_key"].astype(str).to_numpy(), "uplift holdout")
    return rows.assign(holdout=holdout < HOLDOUT_SHARE).reset_index(drop=True), features
