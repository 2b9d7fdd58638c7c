"""Uplift evaluations as MLflow runs (experiment ``uplift``): Qini, AUUC and the arms' sizes."""

from __future__ import annotations

import math
from pathlib import Path

from models.uplift import UpliftEvaluation

UPLIFT_EXPERIMENT = "uplift"
UPLIFT_DESCRIPTION = (
    "How much response the contacts *cause*: a T-learner (one XGBoost classifier per arm) on "
    "the contacts and the control group's held contacts; outcome: an application for the "
    "offer's product in the outcome window after the decision. Metrics: qini and auuc on a "
    "holdout of customers (0: no better than random targeting), rows_* and responses_* per "
    "arm, uplift_<offer> the mean predicted uplift per offer. status not_enough_data: nothing "
    "was fitted."
)


def log_uplift(data_root: Path, evaluation: UpliftEvaluation) -> str:
    """One MLflow run per evaluation; returns its run id."""
    import mlflow

    from models.mlflow_store import connect_mlflow, experiment_id

    client = connect_mlflow(data_root)
    with mlflow.start_run(
        experiment_id=experiment_id(client, UPLIFT_EXPERIMENT, data_root, UPLIFT_DESCRIPTION),
        run_name="t_learner",
    ) as run:
        mlflow.set_tags({"status": evaluation.status, "reason": evaluation.reason or "fitted"})
        mlflow.log_params({"learner": "T-learner, XGBoost per arm"})
        metrics = {f"rows_{arm}": n for arm, n in evaluation.rows.items()}
        metrics |= {f"responses_{arm}": n for arm, n in evaluation.responses.items()}
        metrics |= {k: v for k, v in evaluation.metrics.items() if not math.isnan(v)}
        metrics |= {f"uplift_{offer}": v for offer, v in evaluation.by_offer.items()}
        mlflow.log_metrics({k: float(v) for k, v in metrics.items()})
    return run.info.run_id
