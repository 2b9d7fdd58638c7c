"""Policy valuations as MLflow runs (experiment ``policy_evaluation``), tagged with the versions of
the models whose scores were valued."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import duckdb

from dagster_project.settings import SCORES_TABLE

POLICY_EXPERIMENT = "policy_evaluation"


def log_policy_values(
    conn: duckdb.DuckDBPyConnection,
    data_root: Path,
    metrics: Mapping[str, float],
    tags: Mapping[str, str],
) -> str:
    """One MLflow run per valuation; returns its run id."""
    import mlflow

    from models.mlflow_store import connect_mlflow, experiment_id

    client = connect_mlflow(data_root)
    versions = dict(
        conn.execute(
            f"SELECT DISTINCT model_name, model_version FROM {SCORES_TABLE} ORDER BY 1"
        ).fetchall()
    )
    with mlflow.start_run(experiment_id=experiment_id(client, POLICY_EXPERIMENT, data_root)) as run:
        mlflow.set_tags({f"model.{name}": version for name, version in versions.items()})
        mlflow.set_tags(dict(tags))
        mlflow.log_metrics(dict(metrics))
    return run.info.run_id
