"""Score every customer with each model's champion and write ``ml.customer_scores``.

One row per customer and model (offer propensity: per offer; channel response: per channel the
model was trained on). Reason codes are computed, with approximate contributions, for the row
arbitration starts from: each customer's highest-scored offer. Other rows get theirs on demand
(``CalibratedBooster.reason_codes``) for the customers an action is decided for. Every
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

from dagster_project.settings import ML, SCORES_TABLE, model_scores_table
from dagster_project.warehouse import quote_literal, transaction
from models.registry import LoadedModel

FEATURES_TABLE = "marts.customer_features"
CHUNK_CUSTOMERS = 250_000

SCHEMA = ML
# Columns every model's score table has, in order; customer_scores is their union.
_COLUMNS = """
    CAST(customer_key AS VARCHAR) AS customer_key,
    CAST({name} AS VARCHAR) AS model_name,
    CAST({version} AS VARCHAR) AS model_version,
    CAST(subject AS VARCHAR) AS subject,           -- the offer or channel; NULL: one per customer
    CAST(score AS DOUBLE) AS score,                -- calibrated probability
    CAST(rank AS INTEGER) AS rank,                 -- 1 = this customer's highest from this model
    CAST(reason_codes AS VARCHAR[]) AS reason_codes,  -- features that raised it most (rank 1)
    CAST(features_as_of AS TIMESTAMP) AS features_as_of,
    CAST({scored_at} AS TIMESTAMP) AS scored_at,
    CAST({run_id} AS VARCHAR) AS scoring_run_id
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


def _repeated(values: pa.Array, indices: np.ndarray) -> pa.Array:
    """``values`` taken at ``indices`` by Arrow, without a Python string per row."""
    return values.take(pa.array(indices))


def _score_chunk(
    features: pa.RecordBatch, loaded: LoadedModel, base: np.ndarray, reason_codes: bool
) -> pa.Table:
    """The per-row columns of one chunk's scores; the constant ones are added by the INSERT.

    ``base`` is the chunk's base-feature block in the model's ``base_features`` order.
    """
    model = loaded.model
    subjects = _subjects(loaded)
    n, k = features.num_rows, len(subjects)
    # One row per customer and subject, built on a float32 block rather than a pandas copy.
    codes = None
    if model.spec.subject is not None:
        codes = np.tile(np.array([model.spec.subjects.index(s) for s in subjects]), n)
    design = model.design(base, codes, per_row=k)
    scores = model.predict_design(design).reshape(n, k)
    order = np.argsort(-scores, axis=1, kind="stable")
    rank = np.empty_like(order)
    np.put_along_axis(rank, order, np.arange(1, k + 1), axis=1)
    which = np.full(n * k, -1, dtype=np.int64)  # the reason-code row of each rank-1 row
    if reason_codes and model.spec.reasons_when_scoring:
        top_rows = np.arange(n) * k + order[:, 0]
        reasons = model.reason_codes(design[top_rows])
        which[top_rows] = np.arange(n)
    else:
        reasons = pa.array([], pa.list_(pa.string()))
    customer = np.repeat(np.arange(n), k)
    return pa.table(
        {
            "customer_key": _repeated(features.column("customer_key"), customer),
            "subject": _repeated(pa.array(list(subjects), pa.string()), np.tile(np.arange(k), n)),
            "score": pa.array(scores.ravel()),
            "rank": pa.array(rank.ravel().astype(np.int32)),
            "reason_codes": reasons.take(pa.array(which, mask=which < 0)),
            "features_as_of": features.column("as_of").take(pa.array(customer)),
        }
    )


def score_rows(
    features: pd.DataFrame, loaded: LoadedModel, reason_codes: bool = True
) -> pd.DataFrame:
    """A few customers' feature rows scored as ``score_customers`` scores every customer (the
    real-time API rescores a customer whose session changed): customer_key, subject, score,
    rank, reason_codes, features_as_of."""
    columns = list(loaded.model.base_features)
    batch = pa.RecordBatch.from_pandas(
        features[["customer_key", "as_of"]].reset_index(drop=True), preserve_index=False
    )
    base = loaded.model.base(features[columns].reset_index(drop=True))
    return _score_chunk(batch, loaded, base, reason_codes).to_pandas()


def _feature_chunks(conn: duckdb.DuckDBPyConnection) -> Iterator[pa.RecordBatch]:
    yield from conn.execute(f"SELECT * FROM {FEATURES_TABLE}").to_arrow_reader(CHUNK_CUSTOMERS)


def _replace_union_view(conn: duckdb.DuckDBPyConnection) -> None:
    """customer_scores: every model's latest scores in one long table."""
    tables = [
        f"{SCHEMA}.{table}"
        for (table,) in conn.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = ? "
            "AND table_type = 'BASE TABLE' AND table_name LIKE '%\\_scores' ESCAPE '\\' "
            "ORDER BY table_name",
            [SCHEMA],
        ).fetchall()
    ]
    if not tables:
        return
    union = " UNION ALL ".join(f"SELECT * FROM {t}" for t in tables)
    conn.execute(f"CREATE OR REPLACE VIEW {SCORES_TABLE} AS {union}")


def _write_scores(
    conn: duckdb.DuckDBPyConnection, name: str, version: str, scored_at: datetime, run_id: str
) -> None:
    """Replace the model's table with the relation ``new_scores`` (one bulk CREATE TABLE AS:
    far cheaper than deleting and inserting rows)."""
    columns = _COLUMNS.format(
        name=quote_literal(name),
        version=quote_literal(version),
        scored_at=quote_literal(scored_at.replace(tzinfo=None).isoformat()),
        run_id=quote_literal(run_id),
    )
    conn.execute(
        f"CREATE OR REPLACE TABLE {model_scores_table(name)} AS SELECT {columns} FROM new_scores"
    )


def _write_rates(
    conn: duckdb.DuckDBPyConnection,
    name: str,
    rates: Mapping[str | None, float],
    scored_at: datetime,
    run_id: str,
) -> ScoringSummary:
    """Every customer scored by the population rate of each subject (``cold_start``)."""
    from models.cold_start import PRIOR_REASON, PRIOR_VERSION

    conn.register(
        "rates",
        pd.DataFrame({"subject": list(rates), "score": list(rates.values())}),
    )
    conn.execute(
        f"""
        CREATE OR REPLACE TEMP VIEW new_scores AS
        SELECT f.customer_key, r.subject, r.score,
            rank() OVER (PARTITION BY f.customer_key ORDER BY r.score DESC, r.subject) AS rank,
            [{quote_literal(PRIOR_REASON)}] AS reason_codes, f.as_of AS features_as_of
        FROM {FEATURES_TABLE} AS f CROSS JOIN rates AS r
        """
    )
    _write_scores(conn, name, PRIOR_VERSION, scored_at, run_id)
    conn.execute("DROP VIEW new_scores")
    conn.unregister("rates")
    rows = conn.execute(f"SELECT count(*) FROM {model_scores_table(name)}").fetchone()[0]
    subjects = tuple(s for s in rates if s)
    return ScoringSummary(name, customers=rows // len(rates), rows=rows, subjects=subjects)


def score_customers(
    conn: duckdb.DuckDBPyConnection,
    models: Mapping[str, LoadedModel],
    run_id: str,
    reason_codes: bool = True,
    rates: Mapping[str, Mapping[str | None, float]] | None = None,
) -> list[ScoringSummary]:
    """Score every customer with every loaded model, and by its population rate every model in
    ``rates`` (one with no champion yet); replace each model's table in one transaction."""
    scored_at = datetime.now(UTC)
    tables: dict[str, list[pa.Table]] = {name: [] for name in models}
    for chunk in _feature_chunks(conn):
        blocks: dict[tuple[str, ...], np.ndarray] = {}  # models sharing features share a block
        for name, loaded in models.items():
            columns = tuple(loaded.model.base_features)
            if columns not in blocks:
                blocks[columns] = loaded.model.base(chunk.select(list(columns)).to_pandas())
            tables[name].append(_score_chunk(chunk, loaded, blocks[columns], reason_codes))
    summaries = []
    with transaction(conn):
        conn.execute(f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}")
        for name, parts in tables.items():
            conn.register("new_scores", pa.concat_tables(parts))
            _write_scores(conn, name, models[name].version, scored_at, run_id)
            conn.unregister("new_scores")
            subjects = _subjects(models[name])
            rows = sum(part.num_rows for part in parts)
            summaries.append(
                ScoringSummary(
                    name,
                    customers=rows // len(subjects),
                    rows=rows,
                    subjects=tuple(s for s in subjects if s),
                )
            )
        for name, model_rates in (rates or {}).items():
            summaries.append(_write_rates(conn, name, model_rates, scored_at, run_id))
        _replace_union_view(conn)
    return summaries
