"""One model's training run end to end: data, fit, MLflow run, registration, promotion gate."""

from __future__ import annotations

import json
import tempfile
from dataclasses import dataclass
from importlib.metadata import version as installed_version
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb
import numpy as np
import pandas as pd

from models import plots
from models.descriptions import model_description, version_description
from models.features import base_feature_names
from models.logged_dataset import SummarisedRows
from models.mlflow_store import connect_mlflow, experiment_id
from models.packaged_model import ARTIFACT_KEY, NextBestActionModel
from models.registry import CHALLENGER, GateResult, LoadedModel, gate_challenger
from models.specs import ModelSpec
from models.training import TrainedModel, TrainingParams, train_model
from models.training_sets import TrainingSplit, load_split

if TYPE_CHECKING:
    from models.registry import PolicyCheck

# What a loaded model needs; pinned to what trained it (no inference: it would import the model).
_REQUIREMENTS = ("mlflow", "xgboost-cpu", "numpy", "pandas", "pyarrow", "scikit-learn")


@dataclass(frozen=True)
class TrainingReport:
    name: str
    version: str
    run_id: str
    trained: TrainedModel
    split_summary: dict[str, object]
    gate: GateResult


def model_input(frame: pd.DataFrame, spec: ModelSpec) -> pd.DataFrame:
    """The columns the packaged model takes: features as float64, plus the offer or channel."""
    features = base_feature_names(
        [c for c in frame.columns if c not in (spec.label, spec.subject)], spec
    )
    columns = {name: frame[name].astype("float64") for name in features}
    if spec.subject:
        columns = {spec.subject: frame[spec.subject].astype(str), **columns}
    return pd.DataFrame(columns, index=frame.index)


def _log_plots(trained: TrainedModel, holdout: pd.DataFrame, spec: ModelSpec, out: Path) -> None:
    labels = holdout[spec.label].to_numpy(np.float64)
    scores = trained.holdout_scores
    plots.roc_plot(labels, scores, spec.name, out / "roc.png")
    plots.calibration_plot(labels, scores, spec.name, out / "calibration.png")
    plots.lift_plot(labels, scores, spec.name, out / "lift.png")
    plots.importance_plot(trained.importance, spec.name, out / "feature_importance.png")
    (out / "feature_importance.json").write_text(json.dumps(trained.importance, indent=2))


def train_and_register(
    conn: duckdb.DuckDBPyConnection,
    data_root: Path,
    spec: ModelSpec,
    params: TrainingParams,
    gate_metric: str,
    gate_margin: float,
    policy_check: PolicyCheck | None = None,
) -> TrainingReport:
    """Build the point-in-time split from the warehouse, train, then register and gate (with
    ``policy_check``, also on the value of the challenger's policy)."""
    split = load_split(conn, spec)
    trained = train_model(split, spec, params)
    return register_and_gate(
        data_root, spec, split, trained, params, gate_metric, gate_margin, policy_check
    )


def register_and_gate(
    data_root: Path,
    spec: ModelSpec,
    split: TrainingSplit,
    trained: TrainedModel,
    params: TrainingParams,
    gate_metric: str,
    gate_margin: float,
    policy_check: PolicyCheck | None = None,
) -> TrainingReport:
    """Log the run to the model's experiment, register it as challenger, and run the gate."""
    import mlflow
    from mlflow.models import infer_signature

    client = connect_mlflow(data_root)
    description = model_description(spec, split.label_days, gate_metric, gate_margin)
    experiment = experiment_id(client, spec.name, data_root, description)
    run_name = f"{spec.name}-holdout-{split.holdout_as_of.date()}"
    with (
        tempfile.TemporaryDirectory() as tmp,
        mlflow.start_run(experiment_id=experiment, run_name=run_name) as run,
    ):
        mlflow.set_tags({"model": spec.name, "label": spec.label, "description": spec.description})
        mlflow.log_params(
            {
                **params.as_dict(),
                **split.describe(),
                "best_rounds": trained.best_rounds,
                "platt_slope": round(trained.model.platt_slope, 6),
                "platt_intercept": round(trained.model.platt_intercept, 6),
                "features": len(trained.model.feature_names),
                "trained_subjects": ",".join(trained.model.trained_subjects) or "-",
            }
        )
        for context, frame in (("training", split.train), ("holdout", split.holdout)):
            mlflow.log_input(_dataset(frame, spec, context, split, data_root), context=context)
        mlflow.log_metrics(trained.holdout_metrics)
        mlflow.log_metrics({f"validation_{k}": v for k, v in trained.validation_metrics.items()})
        mlflow.log_metrics(
            {f"uncalibrated_{k}": v for k, v in trained.uncalibrated_holdout_metrics.items()}
        )
        plot_dir = Path(tmp) / "plots"
        plot_dir.mkdir()
        _log_plots(trained, split.holdout, spec, plot_dir)
        mlflow.log_artifacts(str(plot_dir), "plots")

        example = model_input(split.holdout.head(5), spec)
        info = mlflow.pyfunc.log_model(
            name="model",
            python_model=NextBestActionModel(),
            artifacts={ARTIFACT_KEY: str(trained.model.save(Path(tmp) / ARTIFACT_KEY))},
            signature=infer_signature(example, trained.model.predict_proba(example)),
            input_example=example,
            registered_model_name=spec.name,
            pip_requirements=[f"{p}=={installed_version(p)}" for p in _REQUIREMENTS],
        )
    version = str(info.registered_model_version)
    client.update_registered_model(spec.name, description=description)
    client.set_registered_model_alias(spec.name, CHALLENGER, version)
    challenger = LoadedModel(spec.name, version, run.info.run_id, trained.model)
    gate = gate_challenger(
        client,
        data_root,
        spec.name,
        challenger,
        split.holdout,
        gate_metric,
        gate_margin,
        policy_check,
    )
    client.update_model_version(spec.name, version, description=version_description(split, gate))
    return TrainingReport(spec.name, version, run.info.run_id, trained, split.describe(), gate)


def _dataset(
    frame: pd.DataFrame, spec: ModelSpec, context: str, split: TrainingSplit, data_root: Path
) -> SummarisedRows:
    """The rows a run trained or was judged on, as an MLflow dataset (keys and features, no PII),
    named by model, part and snapshot, with the warehouse tables it was read from as its source."""
    as_of = split.holdout_as_of if context == "holdout" else max(split.train_as_of)
    warehouse = (data_root / "warehouse.duckdb").resolve()
    return SummarisedRows(
        frame,
        source=f"{warehouse}#training.customer_feature_snapshots+{spec.labels_table}",
        name=f"{spec.name}-{context}-{as_of.date()}",
    )
