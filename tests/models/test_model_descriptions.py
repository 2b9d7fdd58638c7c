"""The MLflow registry says what each model holds: the experiment and registered model describe
what it predicts, its label, window and metrics; each version carries the gate's same-holdout
comparison; each run logs the rows it was trained and judged on."""

from __future__ import annotations

from pathlib import Path

import pytest

from dagster_project.settings import DataPaths
from dagster_project.warehouse import connect
from models.metrics import METRIC_NAMES
from models.mlflow_store import NOTE_TAG, connect_mlflow
from models.specs import OFFER_PROPENSITY
from models.training import TrainingParams, train_model
from models.training_run import register_and_gate
from models.training_sets import load_split
from tests.worlds import copy_world

pytestmark = pytest.mark.slow


def test_registry_descriptions_and_logged_datasets(model_world: DataPaths, tmp_path: Path) -> None:
    world = copy_world(model_world, tmp_path / "world")
    with connect(world.warehouse, read_only=True) as conn:
        split = load_split(conn, OFFER_PROPENSITY)
    params = TrainingParams()
    trained = train_model(split, OFFER_PROPENSITY, params)
    spec = OFFER_PROPENSITY
    first = register_and_gate(world.root, spec, split, trained, params, "roc_auc", 0.01)
    second = register_and_gate(world.root, spec, split, trained, params, "roc_auc", 0.01)
    assert (first.gate.decision, second.gate.decision) == ("first_champion", "kept_champion")

    client = connect_mlflow(world.root)
    experiment = client.get_experiment_by_name(spec.name)
    registered = client.get_registered_model(spec.name)
    for description in (experiment.tags[NOTE_TAG], registered.description):
        assert spec.description in description
        assert f"`{spec.label}`" in description and spec.labels_table in description
        assert f"the {split.label_days} days after" in description
        assert all(metric in description for metric in METRIC_NAMES)
        assert "by 0.01 on roc_auc" in description

    version = client.get_model_version(spec.name, second.version).description
    assert "**Gate: kept_champion**" in version
    # The same model twice: no gain on the same holdout, under the margin.
    assert "vs v1: +0.0000 < margin 0.01 (roc_auc)" in version
    assert f"{len(split.holdout):,} rows" in version
    assert "roc_auc" in client.get_model_version(spec.name, first.version).description

    inputs = client.get_run(second.run_id).inputs.dataset_inputs
    by_context = {
        next(t.value for t in i.tags if t.key == "mlflow.data.context"): i.dataset for i in inputs
    }
    assert set(by_context) == {"training", "holdout"}
    training = by_context["training"]
    assert training.name == f"{spec.name}-training-{max(split.train_as_of).date()}"
    assert spec.labels_table in training.source and "warehouse.duckdb" in training.source
    assert f'"num_rows": {len(split.train)}' in training.profile
