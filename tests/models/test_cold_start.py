"""A new deployment with too little history to train: the models say so, scoring falls back to
population rates, and decisioning still decides (issue 16: a cold start that still decides)."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pandas as pd
import pytest

from dagster_project.cli.common import console
from dagster_project.cli.decisions import print_decisions
from dagster_project.decisioning.assets import next_best_actions
from dagster_project.demo import WorldConfig
from dagster_project.ml.assets import customer_scores, ml_assets
from dagster_project.settings import REPO_ROOT, DataPaths, model_scores_table
from dagster_project.warehouse import connect
from models.cold_start import PRIOR_REASON
from tests.factories import materialize
from tests.worlds import build_world, copy_world

pytestmark = pytest.mark.slow

NOTHING_CLEARS = "nothing clears min_priority"


def test_forty_days_of_history_still_decide_on_population_rates(tmp_path: Path) -> None:
    paths, profile = build_world(tmp_path, WorldConfig(customers=800, days=40, seed=5))
    assert profile.success
    result = materialize(paths, [*ml_assets, next_best_actions])
    assert result.success, [e.message for e in result.all_events if e.is_failure]

    metadata = {
        e.asset_key.path[-1]: e.materialization.metadata
        for e in result.get_asset_materialization_events()
    }
    for model in ("offer_propensity", "channel_response", "churn_risk"):
        assert metadata[model]["gate_decision"].value == "cold_start"
        assert "validation split" in metadata[model]["reason"].value
    assert sorted(metadata["customer_scores"]["untrained_models"].value) == [
        "channel_response",
        "churn_risk",
        "offer_propensity",
    ]

    with connect(paths.warehouse, read_only=True) as conn:
        versions = conn.execute(
            f"SELECT DISTINCT model_version FROM {model_scores_table('offer_propensity')}"
        ).fetchall()
        rates = dict(
            conn.execute(
                f"SELECT subject, any_value(score) FROM {model_scores_table('offer_propensity')} "
                "GROUP BY 1"
            ).fetchall()
        )
        applied = dict(
            conn.execute(
                "SELECT offer, avg(applied) FROM training.offer_response_labels GROUP BY 1"
            ).fetchall()
        )
        plan = conn.execute("SELECT * FROM decisioning.next_best_actions").df()
    assert versions == [("prior",)]
    # each offer's prior is its observed take-up rate (smoothed by one pseudo-observation)
    assert set(rates) == set(applied)
    for offer, rate in rates.items():
        assert rate == pytest.approx(applied[offer], abs=0.01)
    # Everyone gets a plan or a reason; at these rates no contact is worth the policy's floor.
    with connect(paths.warehouse, read_only=True) as conn:
        customers = conn.execute("SELECT count(*) FROM marts.customer_features").fetchone()[0]
    assert plan["customer_key"].nunique() == customers
    assert (plan.loc[plan["action"] == "no_action", "explanation"] == NOTHING_CLEARS).any()
    # and the command line says what was decided on what
    with console.capture() as printed:
        print_decisions(paths)
    assert f"{(plan['action'] == 'no_action').sum():,} no action" in printed.get()
    assert "population take-up rates: no model trained yet" in printed.get()

    # With a floor the priors clear, the same decisioning contacts people on them.
    config = tmp_path / "config"
    shutil.copytree(REPO_ROOT / "config", config)
    policy = config / "contact_policy.yaml"
    policy.write_text(
        re.sub(r"^min_priority: [\d.]+", "min_priority: 0.05", policy.read_text(), flags=re.M)
    )
    again = materialize(paths, [next_best_actions], config_dir=config)
    assert again.success
    with connect(paths.warehouse, read_only=True) as conn:
        plan = conn.execute("SELECT * FROM decisioning.next_best_actions").df()
    contacts = plan[plan["action"] == "contact"]
    assert len(contacts) > 0
    assert contacts["offer_model"].eq("offer_propensity@prior").all()
    assert all(list(codes) == [PRIOR_REASON] for codes in contacts["reason_codes"])


def test_a_lost_registry_is_not_a_cold_start(
    model_world: DataPaths, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Trained scores and no champion (the registry recreated or another tracking URI): scoring
    fails and keeps the trained scores rather than replacing them with population rates."""
    paths = copy_world(model_world, tmp_path / "world")
    assert materialize(paths, ml_assets[:4]).success  # the three models and their scores
    # Another, empty registry: every alias lookup finds no champion.
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'other' / 'mlflow.db'}")
    (tmp_path / "other").mkdir()
    with connect(paths.warehouse, read_only=True) as conn:
        before = conn.execute(f"SELECT * FROM {model_scores_table('offer_propensity')}").df()
    result = materialize(paths, [customer_scores])
    assert not result.success
    message = result.get_step_failure_events()[0].step_failure_data.user_failure_data.description
    assert "No champion in the model registry" in message and "unchanged" in message
    with connect(paths.warehouse, read_only=True) as conn:
        after = conn.execute(f"SELECT * FROM {model_scores_table('offer_propensity')}").df()
    pd.testing.assert_frame_equal(after, before)
