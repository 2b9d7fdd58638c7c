"""Policy valuations as MLflow runs (experiment ``policy_evaluation``), tagged with the versions of
the models whose scores were valued."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import duckdb

from dagster_project.settings import SCORES_TABLE

POLICY_EXPERIMENT = "policy_evaluation"
POLICY_DESCRIPTION = (
    "The contacts just decided, valued with the demo world's true propensities (demo worlds "
    "only): per contact in probability and in value, beside the oracle, random targeting and "
    "the best static rule, within the pairs each contact was permitted. Tags model.<name>: the "
    "model versions the decisions were scored by."
)


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
    with mlflow.start_run(
        experiment_id=experiment_id(client, POLICY_EXPERIMENT, data_root, POLICY_DESCRIPTION)
    ) as run:
        mlflow.set_tags({f"model.{name}": version for name, version in versions.items()})
        mlflow.set_tags(dict(tags))
        mlflow.log_metrics(dict(metrics))
    return run.info.run_id
