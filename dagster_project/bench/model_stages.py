"""Benchmark stages for the models (run in child processes by ``bench_stages``)."""

from __future__ import annotations

import os
import time
from pathlib import Path

from ..settings import MODEL_LABEL_TABLES, data_paths
from ..warehouse import connect

SCORING_CUSTOMERS = 1_000_000
MODEL_NAMES = tuple(MODEL_LABEL_TABLES)


def _embedded_mlflow() -> None:
    # The benchmark keeps its runs in its own directory, never on a team's tracking server.
    os.environ.pop("MLFLOW_TRACKING_URI", None)


def train_models(bench_dir: Path) -> dict:
    """All three models trained, logged, registered and gated on the benchmark world."""
    from models.registry import GATE_MARGIN, GATE_METRIC
    from models.specs import MODEL_SPECS
    from models.training import TrainingParams
    from models.training_run import train_and_register

    _embedded_mlflow()
    phases, details = {}, {}
    rows = 0
    started = time.perf_counter()
    with connect(data_paths(bench_dir).warehouse, read_only=True) as conn:
        for spec in MODEL_SPECS:
            began = time.perf_counter()
            report = train_and_register(
                conn, bench_dir, spec, TrainingParams(), GATE_METRIC, GATE_MARGIN
            )
            phases[spec.name] = time.perf_counter() - began
            split = report.split_summary
            rows += int(split["train_rows"]) + int(split["validation_rows"])
            details[spec.name] = {
                "version": report.version,
                "gate": report.gate.decision,
                "best_rounds": report.trained.best_rounds,
                **split,
                **{k: round(v, 4) for k, v in report.trained.holdout_metrics.items()},
            }
    return {
        "seconds": time.perf_counter() - started,
        "rows": rows,
        "phases": phases,
        "models": details,
    }


def _champions(bench_dir: Path) -> dict:
    from models.registry import CHAMPION, load_model_version

    _embedded_mlflow()
    return {name: load_model_version(name, CHAMPION, bench_dir) for name in MODEL_NAMES}


def score_world(bench_dir: Path) -> dict:
    """Score the benchmark world's customers and value the policy against its truth."""
    from models.scoring import score_customers

    from ..demo.evaluation import policy_value

    paths = data_paths(bench_dir)
    champions = _champions(bench_dir)
    started = time.perf_counter()
    with connect(paths.warehouse) as conn:
        summaries = score_customers(conn, champions, "bench")
        seconds = time.perf_counter() - started
        values = policy_value(conn, paths.truth)
    return {
        "seconds": seconds,
        "rows": summaries[0].customers,
        "policy": values.as_metrics() | {"best_static_pair": values.best_static_pair}
        if values
        else None,
    }


def _million_customer_features(bench_dir: Path) -> Path:
    """A warehouse holding only marts.customer_features, the world's customers repeated to 1M."""
    target = bench_dir / "scoring_1m.duckdb"
    if target.exists():
        return target
    source = data_paths(bench_dir).warehouse
    with connect(target) as conn:
        conn.execute(f"ATTACH '{source}' AS world (READ_ONLY)")
        customers = conn.execute("SELECT count(*) FROM world.marts.customer_features").fetchone()[0]
        copies = -(-SCORING_CUSTOMERS // customers)
        conn.execute("CREATE SCHEMA marts")
        conn.execute(
            "CREATE TABLE marts.customer_features AS "
            "SELECT * REPLACE (customer_key || '-' || copy.range AS customer_key) "
            "FROM world.marts.customer_features, range(?) AS copy "
            "ORDER BY customer_key LIMIT ?",
            [copies, SCORING_CUSTOMERS],
        )
    return target


def score_million(bench_dir: Path, reason_codes: int = 1) -> dict:
    """The scoring asset's work for 1M customers: every champion, reason codes (if asked), the write."""
    from models.scoring import score_customers

    warehouse = _million_customer_features(bench_dir)
    began = time.perf_counter()
    champions = _champions(bench_dir)
    load_seconds = time.perf_counter() - began
    with connect(warehouse) as conn:
        conn.execute("DROP SCHEMA IF EXISTS scoring CASCADE")
        started = time.perf_counter()
        summaries = score_customers(conn, champions, "bench", bool(reason_codes))
        seconds = time.perf_counter() - started
    return {
        "seconds": seconds,
        "rows": summaries[0].customers,
        "scored_rows": sum(s.rows for s in summaries),
        "phases": {"load champions (not in the row)": load_seconds},
    }


def bare_predict(bench_dir: Path) -> dict:
    """The reference: the offer champion's booster predicting 1M prepared rows, nothing else."""
    import xgboost as xgb

    from models.features import design_matrix

    warehouse = _million_customer_features(bench_dir)
    offer = _champions(bench_dir)["offer_propensity"].model
    with connect(warehouse, read_only=True) as conn:
        frame = conn.execute("SELECT * FROM marts.customer_features").df()
    frame["offer"] = "mortgage"
    matrix = xgb.DMatrix(design_matrix(frame, offer.spec, offer.base_features))
    started = time.perf_counter()
    offer.booster.predict(matrix)
    return {"seconds": time.perf_counter() - started, "rows": len(frame)}


def arbitrate_million(bench_dir: Path) -> dict:
    """Arbitration for 1M customers: the benchmark world's decision rows repeated to 1M, with a
    synthetic month of contact history (two contacts per customer) so caps and back-off bite."""
    import numpy as np
    import pandas as pd

    from ..decisioning.arbitration import DecisionInputs, decide
    from ..decisioning.assets import _decision_instant
    from ..decisioning.config import load_marketing_config
    from ..decisioning.inputs import load_decision_inputs
    from ..settings import OUTBOUND_CHANNELS, config_dir

    with connect(data_paths(bench_dir).warehouse, read_only=True) as conn:
        now = _decision_instant(conn, None)
        world = load_decision_inputs(conn, now)
    copies = -(-SCORING_CUSTOMERS // len(world.customers))

    def repeat(frame: pd.DataFrame) -> pd.DataFrame:
        parts = [frame.assign(customer_key=frame["customer_key"] + f"-{i}") for i in range(copies)]
        return pd.concat(parts, ignore_index=True)

    customers = repeat(world.customers).head(SCORING_CUSTOMERS)
    rng = np.random.default_rng(7)
    contacts = 2 * len(customers)
    history = pd.DataFrame(
        {
            "customer_key": customers["customer_key"].to_numpy()[
                rng.integers(0, len(customers), contacts)
            ],
            "channel": np.array(OUTBOUND_CHANNELS)[rng.integers(0, 3, contacts)],
            "sent_at": pd.Timestamp(now).tz_convert(None)
            - pd.to_timedelta(rng.integers(1, 30 * 24 * 60, contacts), unit="m"),
            "engaged": rng.random(contacts) < 0.3,
        }
    )
    inputs = DecisionInputs(
        customers,
        repeat(world.offer_scores),
        repeat(world.channel_scores),
        history,
        now,
        world.model_versions,
        # The world's engagement hours, repeated like its customers: send times are chosen too.
        repeat(world.engagement),
    )
    config = load_marketing_config(config_dir())
    started = time.perf_counter()
    plan = decide(inputs, config)
    seconds = time.perf_counter() - started
    return {
        "seconds": seconds,
        "rows": len(customers),
        "decision_rows": len(plan),
        "actions": plan["action"].value_counts().to_dict(),
        "history_contacts": contacts,
        "engagement_rows": len(inputs.engagement),
    }
