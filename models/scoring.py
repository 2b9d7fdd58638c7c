"""Score every customer with each model's champion and write ``scoring.customer_scores``.

One row per customer and model (offer propensity: per offer; channel response: per channel the
model was trained on). Reason codes are computed for the row that matters to arbitration, each
customer's highest-scored offer, and for churn risk, with approximate contributions. Every
champion is loaded before anything is written, and each model's rows are replaced in one
transaction, so a model that fails to load leaves the previous scores in place.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa

from models.registry import LoadedModel
from models.specs import ModelSpec

SCORES_TABLE = "scoring.customer_scores"
FEATURES_TABLE = "marts.customer_features"
CHUNK_CUSTOMERS = 250_000

_SCHEMA = pa.schema(
    [
        ("customer_key", pa.string()),
        ("model_name", pa.string()),
        ("model_version", pa.string()),
        ("subject", pa.string()),
        ("score", pa.float64()),
        ("rank", pa.int32()),
        ("reason_codes", pa.list_(pa.string())),
        ("features_as_of", pa.timestamp("us")),
        ("scored_at", pa.timestamp("us")),
        ("scoring_run_id", pa.string()),
    ]
)

_DDL = f"""
CREATE SCHEMA IF NOT EXISTS scoring;
CREATE TABLE IF NOT EXISTS {SCORES_TABLE} (
    customer_key VARCHAR NOT NULL,
    model_name VARCHAR NOT NULL,
    model_version VARCHAR NOT NULL,
    subject VARCHAR,            -- the offer or channel scored; NULL for one score per customer
    score DOUBLE NOT NULL,      -- calibrated probability
    rank INTEGER NOT NULL,      -- 1 = this customer's highest score from this model
    reason_codes VARCHAR[],     -- features that raised the score most (rank-1 rows)
    features_as_of TIMESTAMP,
    scored_at TIMESTAMP NOT NULL,
    scoring_run_id VARCHAR NOT NULL
)
"""


@dataclass(frozen=True)
class ScoringSummary:
    model: str
    customers: int
    rows: int
    subjects: tuple[str, ...]


def _subjects(loaded: LoadedModel) -> tuple[str | None, ...]:
    spec = loaded.model.spec
    if spec.subject is None:
        return (None,)
    return loaded.model.trained_subjects or spec.subjects


def _score_chunk(
    features: pd.DataFrame, loaded: LoadedModel, run_id: str, scored_at: datetime
) -> pa.Table:
    spec: ModelSpec = loaded.model.spec
    subjects = _subjects(loaded)
    n, k = len(features), len(subjects)
    expanded = features.loc[features.index.repeat(k)].reset_index(drop=True)
    if spec.subject is not None:
        expanded[spec.subject] = np.tile(np.array(subjects, dtype=object), n)
    scores = loaded.model.predict_proba(expanded).reshape(n, k)
    order = np.argsort(-scores, axis=1, kind="stable")
    rank = np.empty_like(order)
    np.put_along_axis(rank, order, np.arange(1, k + 1), axis=1)
    top_rows = np.arange(n) * k + order[:, 0]
    reasons = loaded.model.reason_codes(expanded.iloc[top_rows])
    which = np.full(n * k, -1, dtype=np.int64)  # the reason-code row of each rank-1 row
    which[top_rows] = np.arange(n)
    return pa.table(
        {
            "customer_key": pa.array(np.repeat(features["customer_key"].to_numpy(object), k)),
            "model_name": pa.array(np.full(n * k, loaded.name, dtype=object)),
            "model_version": pa.array(np.full(n * k, loaded.version, dtype=object)),
            "subject": pa.array(np.tile(np.array(subjects, dtype=object), n), pa.string()),
            "score": pa.array(scores.ravel()),
            "rank": pa.array(rank.ravel().astype(np.int32)),
            "reason_codes": reasons.take(pa.array(which, mask=which < 0)),
            "features_as_of": pa.array(np.repeat(features["as_of"].to_numpy("datetime64[us]"), k)),
            "scored_at": pa.array(
                np.full(n * k, np.datetime64(scored_at.replace(tzinfo=None), "us"))
            ),
            "scoring_run_id": pa.array(np.full(n * k, run_id, dtype=object)),
        },
        schema=_SCHEMA,
    )


def _feature_chunks(conn: duckdb.DuckDBPyConnection) -> Iterator[pd.DataFrame]:
    reader = conn.execute(
        f"SELECT * FROM {FEATURES_TABLE} ORDER BY customer_key"
    ).fetch_record_batch(CHUNK_CUSTOMERS)
    for batch in reader:
        yield batch.to_pandas()


def score_customers(
    conn: duckdb.DuckDBPyConnection, models: Mapping[str, LoadedModel], run_id: str
) -> list[ScoringSummary]:
    """Score every customer with every loaded model and replace their rows in one transaction."""
    scored_at = datetime.now(UTC)
    tables: dict[str, list[pa.Table]] = {name: [] for name in models}
    for chunk in _feature_chunks(conn):
        for name, loaded in models.items():
            tables[name].append(_score_chunk(chunk, loaded, run_id, scored_at))
    conn.execute(_DDL)
    summaries = []
    conn.execute("BEGIN TRANSACTION")
    try:
        for name, parts in tables.items():
            scores = pa.concat_tables(parts) if parts else _SCHEMA.empty_table()
            conn.execute(f"DELETE FROM {SCORES_TABLE} WHERE model_name = ?", [name])
            conn.register("new_scores", scores)
            conn.execute(f"INSERT INTO {SCORES_TABLE} SELECT * FROM new_scores")
            conn.unregister("new_scores")
            summaries.append(
                ScoringSummary(
                    name,
                    customers=scores.num_rows // max(1, len(_subjects(models[name]))),
                    rows=scores.num_rows,
                    subjects=tuple(s for s in _subjects(models[name]) if s),
                )
            )
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    return summaries
