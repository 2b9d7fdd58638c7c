"""The next-best-action models on a generated world: point in time, reproducible, gated,
registered in a real MLflow store, scored by alias through Dagster."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import dagster as dg
import numpy as np
import pandas as pd
import pytest
from mlflow import MlflowClient

from dagster_project.ml.assets import MODELS, POLICY_EVALUATION, customer_scores, ml_assets
from dagster_project.settings import DataPaths
from dagster_project.warehouse import connect
from models.champions import load_champion
from models.mlflow_store import connect_mlflow
from models.registry import ModelLoadError, load_model_version, rollback
from models.scoring import SCORES_TABLE
from models.specs import MODEL_SPECS, OFFER_PROPENSITY
from models.training import TrainingParams, train_model
from models.training_run import register_and_gate
from models.training_sets import TrainingSplit, load_split
from tests.factories import materialize
from tests.worlds import build_profile, copy_world, truncate_raw

pytestmark = pytest.mark.slow


@pytest.fixture
def world(model_world: DataPaths) -> DataPaths:
    return model_world


def offer_split(world: DataPaths) -> TrainingSplit:
    with connect(world.warehouse, read_only=True) as conn:
        return load_split(conn, OFFER_PROPENSITY)


def test_specs_and_dagster_wiring_name_the_same_models() -> None:
    assert [name for name, _ in MODELS] == [spec.name for spec in MODEL_SPECS]
    assert [f"training.{labels}" for _, labels in MODELS] == [s.labels_table for s in MODEL_SPECS]


def test_snapshot_features_hold_nothing_from_the_label_window(
    world: DataPaths, tmp_path: Path
) -> None:
    split = offer_split(world)
    as_of = split.holdout_as_of
    assert split.holdout["applied"].sum() > 0  # the label window has outcomes that could leak
    with connect(world.warehouse, read_only=True) as conn:
        snapshot = conn.execute(
            "SELECT * FROM training.customer_feature_snapshots WHERE as_of = ?", [as_of]
        ).df()
        later = conn.execute(
            "SELECT count(*) FROM marts.fct_interactions WHERE occurred_at >= ?", [as_of]
        ).fetchone()[0]
    assert later > 0

    # The same features rebuilt from a warehouse that never saw anything at or after as_of.
    known_then = copy_world(world, tmp_path / "truncated")
    truncate_raw(known_then, str(as_of))
    assert build_profile(known_then, as_of=str(as_of), full_refresh=True).success
    with connect(known_then.warehouse, read_only=True) as conn:
        rebuilt = conn.execute("SELECT * FROM marts.customer_features").df()
    rebuilt = rebuilt[rebuilt["customer_key"].isin(snapshot["customer_key"])]

    def ordered(frame: pd.DataFrame) -> pd.DataFrame:
        return frame.sort_values("customer_key").reset_index(drop=True)

    assert len(rebuilt) == len(snapshot)
    pd.testing.assert_frame_equal(ordered(snapshot), ordered(rebuilt), check_dtype=False)


def test_training_is_reproducible_with_a_seed(world: DataPaths) -> None:
    split = offer_split(world)
    first = train_model(split, OFFER_PROPENSITY, TrainingParams(seed=7))
    again = train_model(split, OFFER_PROPENSITY, TrainingParams(seed=7))
    other = train_model(split, OFFER_PROPENSITY, TrainingParams(seed=8))
    assert first.model.booster.save_raw("json") == again.model.booster.save_raw("json")
    np.testing.assert_array_equal(first.holdout_scores, again.holdout_scores)
    assert first.holdout_metrics == again.holdout_metrics
    assert not np.array_equal(first.holdout_scores, other.holdout_scores)
    # Calibrated: the mean score is close to the holdout's positive rate.
    assert first.holdout_scores.mean() == pytest.approx(split.holdout["applied"].mean(), abs=0.01)
    # Age is in the training rows, and a feature of other models, but never of the offer model.
    assert "age_years" in split.train.columns
    assert "age_years" not in first.model.base_features
    assert "tenure_days" in first.model.base_features


def _inverted(split: TrainingSplit) -> TrainingSplit:
    """The same rows with train and validation labels flipped: a model that ranks backwards."""

    def flip(frame: pd.DataFrame) -> pd.DataFrame:
        return frame.assign(applied=1 - frame["applied"])

    return dataclasses.replace(split, train=flip(split.train), validation=flip(split.validation))


def test_gate_promotes_a_better_challenger_only_and_rollback_restores(
    world: DataPaths, tmp_path: Path
) -> None:
    split = offer_split(world)
    params = TrainingParams()
    good = train_model(split, OFFER_PROPENSITY, params)
    bad = train_model(_inverted(split), OFFER_PROPENSITY, params)
    assert good.holdout_metrics["roc_auc"] > 0.55 > bad.holdout_metrics["roc_auc"]

    def register(trained) -> str:
        report = register_and_gate(
            tmp_path, OFFER_PROPENSITY, split, trained, params, "roc_auc", 0.01
        )
        return report.gate.decision

    assert register(bad) == "first_champion"  # version 1
    assert register(good) == "promoted"  # version 2 beats 1 on the same holdout
    assert register(bad) == "kept_champion"  # version 3 loses to 2

    client = connect_mlflow(tmp_path)
    aliases = client.get_registered_model("offer_propensity").aliases
    assert {alias: str(v) for alias, v in aliases.items()} == {"champion": "2", "challenger": "3"}
    loser = client.get_model_version("offer_propensity", "3")
    assert loser.tags["gate.decision"] == "kept_champion"
    assert loser.tags["gate.champion_version"] == "2"
    assert float(loser.tags["gate.champion_value"]) > float(loser.tags["gate.challenger_value"])
    run_tags = client.get_run(loser.run_id).data.tags
    assert run_tags["gate.decision"] == "kept_champion"
    artifacts = {a.path for a in client.list_artifacts(loser.run_id, "plots")}
    assert {
        "plots/roc.png",
        "plots/calibration.png",
        "plots/lift.png",
        "plots/feature_importance.png",
    } <= artifacts
    metrics = client.get_run(loser.run_id).data.metrics
    assert {"roc_auc", "pr_auc", "log_loss", "calibration_error", "top_decile_lift"} <= set(metrics)

    assert rollback(tmp_path, "offer_propensity") == ("2", "1")
    assert str(client.get_registered_model("offer_propensity").aliases["champion"]) == "1"
    with pytest.raises(ValueError, match="replaced no earlier champion"):
        rollback(tmp_path, "offer_propensity")


def _materialize(paths: DataPaths, assets: list) -> dg.ExecuteInProcessResult:
    return materialize(paths, assets)


def _scores(paths: DataPaths) -> pd.DataFrame:
    with connect(paths.warehouse, read_only=True) as conn:
        return conn.execute(
            f"SELECT * FROM {SCORES_TABLE} ORDER BY model_name, customer_key, subject"
        ).df()


def test_dagster_trains_and_scores_by_champion_alias(world: DataPaths, tmp_path: Path) -> None:
    paths = copy_world(world, tmp_path, truth=True)
    # Training and scoring; the policy valuation needs decisions (tests/decisioning).
    result = _materialize(paths, [a for a in ml_assets if POLICY_EVALUATION not in a.keys])
    assert result.success
    metadata = {
        e.asset_key.path[-1]: e.materialization.metadata
        for e in result.get_asset_materialization_events()
    }
    for name, _ in MODELS:
        assert metadata[name]["gate_decision"].value == "first_champion"

    scores = _scores(paths)
    with connect(paths.warehouse, read_only=True) as conn:
        customers = conn.execute("SELECT count(*) FROM marts.customer_features").fetchone()[0]
    offers = scores[scores["model_name"] == "offer_propensity"]
    assert len(offers) == customers * 5
    assert offers.groupby("customer_key")["rank"].min().eq(1).all()
    top = offers[offers["rank"] == 1]
    assert top["reason_codes"].map(len).gt(0).mean() > 0.9
    assert offers.loc[offers["rank"] > 1, "reason_codes"].isna().all()
    assert set(scores["model_version"]) == {"1"}
    assert scores["score"].between(0, 1).all()

    # A new champion by hand: the next scoring run loads it by alias and records its version.
    split = offer_split(world)
    retrained = train_model(split, OFFER_PROPENSITY, TrainingParams(seed=5))
    report = register_and_gate(
        paths.root, OFFER_PROPENSITY, split, retrained, TrainingParams(seed=5), "roc_auc", 1.0
    )
    assert report.gate.decision == "kept_champion"  # a margin of 1.0 AUC can never be met
    MlflowClient().set_registered_model_alias("offer_propensity", "champion", report.version)
    assert _materialize(paths, [customer_scores]).success
    versions = _scores(paths).groupby("model_name")["model_version"].unique().map(list).to_dict()
    assert versions == {"offer_propensity": ["2"], "channel_response": ["1"], "churn_risk": ["1"]}


def test_a_champion_that_fails_to_load_leaves_the_last_scores(
    world: DataPaths, tmp_path: Path
) -> None:
    paths = copy_world(world, tmp_path, truth=True)
    assert _materialize(paths, ml_assets).success
    before = _scores(paths)

    load_champion("churn_risk", paths.root)  # resolved through MLflow (the registry moved on)
    for booster in (paths.root / "mlflow" / "artifacts" / "churn_risk").rglob("booster.json"):
        booster.unlink()
    # The registry has not changed since the alias was resolved, so the champion still loads from
    # the scoring cache, without MLflow...
    assert load_champion("churn_risk", paths.root).version == "1"
    # ...until the registry is written: then the alias is resolved through MLflow, which fails.
    MlflowClient().set_model_version_tag("churn_risk", "1", "note", "artefacts removed")
    with pytest.raises(ModelLoadError, match=r"could not load models:/churn_risk@champion"):
        load_champion("churn_risk", paths.root)
    with pytest.raises(ModelLoadError, match=r"could not load models:/churn_risk@champion"):
        load_model_version("churn_risk", "champion", paths.root)

    result = _materialize(paths, [customer_scores])
    assert not result.success
    failure = result.get_step_failure_events()[0].step_failure_data.error
    assert "models:/churn_risk@champion" in failure.message
    assert "unchanged" in failure.message
    pd.testing.assert_frame_equal(before, _scores(paths))


def test_a_model_without_enough_fresh_labels_keeps_its_champion_and_scoring_goes_on(
    world: DataPaths, tmp_path: Path
) -> None:
    paths = copy_world(world, tmp_path)
    trained = [a for a in ml_assets if POLICY_EVALUATION not in a.keys]
    assert _materialize(paths, trained).success
    with connect(paths.warehouse) as conn:  # a later window in which nobody closed anything
        conn.execute("UPDATE training.churn_labels SET churned = 0")
    again = _materialize(paths, trained)
    assert again.success
    metadata = {
        e.asset_key.path[-1]: e.materialization.metadata
        for e in again.get_asset_materialization_events()
    }
    assert metadata["churn_risk"]["gate_decision"].value == "not_retrained"
    assert metadata["churn_risk"]["champion_version"].value == "1"
    assert "one label value" in metadata["churn_risk"]["reason"].value
    assert "customer_scores" in metadata  # the champions still scored everyone
