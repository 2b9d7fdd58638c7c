"""The promotion gate values each model's policy off-policy and refuses a worse challenger."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from dagster_project.decisioning.config import load_marketing_config
from dagster_project.ml.policy_gate import (
    MIN_CONTACTS,
    LoggedContacts,
    check_on,
    compare_policies,
    policy_choices,
    subject_scores,
)
from dagster_project.settings import OUTBOUND_CHANNELS, PRODUCTS, DataPaths, config_dir
from dagster_project.warehouse import connect
from models.mlflow_store import connect_mlflow
from models.registry import LoadedModel
from models.specs import OFFER_PROPENSITY
from models.training import TrainingParams, train_model
from models.training_run import model_input, register_and_gate
from models.training_sets import load_split
from tests.models.test_models import _inverted


def _log(n: int, seed: int) -> tuple[LoggedContacts, np.ndarray]:
    """Two options per contact, logged uniformly; option "a/email" pays when x > 0, "b/email"
    when x <= 0 (rewards drawn, so the estimates carry real noise)."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    logged = np.where(rng.random(n) < 0.5, "a/email", "b/email").astype(object)
    pays = np.where(x > 0, "a/email", "b/email")
    reward = ((logged == pays) & (rng.random(n) < 0.6)).astype(float)
    log = LoggedContacts(
        features=pd.DataFrame({"x": x}),
        logged=logged,
        probability=np.full(n, 0.5),
        options=[["a/email", "b/email"]] * n,
        reward=reward,
        channel_means={},
    )
    return log, pays.astype(object)


def test_a_policy_worse_beyond_the_noise_is_refused_and_a_tie_is_not() -> None:
    log, right = _log(2000, seed=1)
    wrong = np.where(right == "a/email", "b/email", "a/email").astype(object)
    refused = compare_policies(log, right, wrong)
    assert refused.decision == "worse" and refused.refuses
    # Hand-checkable: the right policy earns about 0.6 per contact, the wrong one about 0.
    assert refused.champion.low < 0.6 < refused.champion.high
    assert refused.challenger.value < 0.05
    assert refused.difference.high < 0
    assert compare_policies(log, right, right).decision == "not_worse"
    assert compare_policies(log, wrong, right).decision == "not_worse"  # better is never refused
    few, _ = _log(MIN_CONTACTS - 1, seed=2)
    assert compare_policies(few, right[: len(few)], wrong[: len(few)]).decision == (
        "not_enough_data"
    )


def test_a_policy_chooses_among_the_logged_options_by_score_times_value() -> None:
    log = LoggedContacts(
        features=pd.DataFrame({"x": [0.0, 0.0]}),
        logged=np.array(["savings_bonus_rate/email", "savings_bonus_rate/sms"], dtype=object),
        probability=np.ones(2),
        options=[
            ["savings_bonus_rate/email", "mortgage_rates/email"],
            ["savings_bonus_rate/sms", "savings_bonus_rate/email"],
        ],
        reward=np.zeros(2),
        channel_means={"push": 0.3},
    )
    offers = {"savings_bonus_rate": ("savings", 150.0), "mortgage_rates": ("mortgage", 2400.0)}

    offer = np.zeros((2, len(PRODUCTS)))
    offer[:, PRODUCTS.index("savings")] = 0.2
    offer[:, PRODUCTS.index("mortgage")] = 0.01  # 0.01 x 2400 = 24 below 0.2 x 150 = 30
    channel = np.full((2, len(OUTBOUND_CHANNELS)), np.nan)
    channel[:, OUTBOUND_CHANNELS.index("email")] = 0.5
    channel[1, OUTBOUND_CHANNELS.index("sms")] = 0.9
    chosen = policy_choices(log, offer, channel, offers)
    assert list(chosen) == ["savings_bonus_rate/email", "savings_bonus_rate/sms"]


@pytest.mark.slow
def test_the_gate_refuses_a_challenger_whose_policy_is_worse(
    model_world: DataPaths, tmp_path: Path
) -> None:
    """Real models in a real MLflow store: a backwards offer model is refused by its policy's
    value on a log of contacts even when the metric gate is told to let anything through."""
    with connect(model_world.warehouse, read_only=True) as conn:
        split = load_split(conn, OFFER_PROPENSITY)
    params = TrainingParams()
    good = train_model(split, OFFER_PROPENSITY, params)
    bad = train_model(_inverted(split), OFFER_PROPENSITY, params)

    # A log of contacts: every holdout customer got one live offer on email, drawn uniformly.
    # The world here is one where the good model is right: a click is drawn with its score for
    # the logged offer (scaled so the best-scored contact clicks surely). Every offer is worth
    # the same, so each policy picks by its model's scores alone.
    offers = {o.product: o for o in load_marketing_config(config_dir()).offers.offers}
    holdout = split.holdout[split.holdout["offer"].isin(offers)]
    per_customer = holdout.groupby("customer_key")
    logged_rows = per_customer.sample(n=1, random_state=1).reset_index(drop=True)
    right = good.model.predict_proba(model_input(logged_rows, OFFER_PROPENSITY))
    reward = (np.random.default_rng(3).random(len(logged_rows)) < right / right.max()).astype(float)
    options = [[f"{offers[p].id}/email" for p in sorted(offers)] for _ in range(len(logged_rows))]
    log = LoggedContacts(
        features=logged_rows,
        logged=(logged_rows["offer"].map(lambda p: offers[p].id) + "/email").to_numpy(object),
        probability=np.full(len(logged_rows), 1 / len(offers)),
        options=options,
        reward=reward,
        channel_means={"email": 0.3},
    )
    assert len(log) >= MIN_CONTACTS and reward.sum() > 0

    same_value = {o.id: (o.product, 1.0) for o in offers.values()}
    check = check_on(log, tmp_path, "offer_propensity", same_value)

    def register(trained, margin: float) -> str:
        report = register_and_gate(
            tmp_path, OFFER_PROPENSITY, split, trained, params, "roc_auc", margin, check
        )
        return report.gate.decision

    assert register(good, 0.01) == "first_champion"
    assert register(bad, -1.0) == "refused_by_policy_value"  # the metric alone would promote
    assert register(good, -1.0) == "promoted"  # an equal-or-better policy passes
    client = connect_mlflow(tmp_path)
    refused = client.get_model_version("offer_propensity", "2")
    assert refused.tags["gate.policy_decision"] == "worse"
    assert float(refused.tags["gate.policy_difference_value"]) < 0
    assert "policy value per contact" in refused.tags["gate.note"]
    aliases = client.get_registered_model("offer_propensity").aliases
    assert str(aliases["champion"]) == "3"

    # Contacts logged before a feature existed still score: the feature is unknown for them.
    loaded = LoadedModel("offer_propensity", "1", "", good.model)
    feature = good.model.base_features[0]
    scores = subject_scores(loaded, logged_rows.drop(columns=[feature]))
    assert scores.shape == (len(logged_rows), len(PRODUCTS)) and np.isfinite(scores).any()


def test_the_log_joins_each_matured_contact_to_its_context_and_click(tmp_path: Path) -> None:
    from dagster_project.ml.policy_gate import load_logged_contacts

    with connect(tmp_path / "warehouse.duckdb") as conn:
        conn.execute("CREATE SCHEMA decisioning; CREATE SCHEMA activation")
        conn.execute(
            "CREATE TABLE decisioning.next_best_actions AS SELECT * FROM (VALUES "
            "('d1', 'contact', 'savings_bonus_rate', 'email', 0.9, "
            "['savings_bonus_rate/email', 'mortgage_rates/sms'], 0.3, 150.0), "
            "('d2', 'contact', 'mortgage_rates', 'sms', 0.1, ['mortgage_rates/sms'], 0.2, 2400.0)"
            ") AS t(decision_id, action, offer_id, channel, action_probability, options, "
            "channel_score, value)"
        )
        # d2 was sent an hour before the latest send: too young to have been answered.
        conn.execute(
            "CREATE TABLE activation.contact_history AS SELECT * FROM (VALUES "
            "('d1', TIMESTAMP '2026-03-01 17:00', true), "
            "('d2', TIMESTAMP '2026-03-03 16:00', false), "
            "('d3', TIMESTAMP '2026-03-03 17:00', false)) AS t(decision_id, sent_at, clicked)"
        )
        folder = tmp_path / "decision_log" / "contexts"
        folder.mkdir(parents=True)
        pd.DataFrame({"decision_id": ["d1", "d2"], "x": [1.0, 2.0]}).to_parquet(
            folder / "a.parquet"
        )
        log = load_logged_contacts(conn, tmp_path)
        assert len(load_logged_contacts(conn, tmp_path / "elsewhere")) == 0  # nothing there
    assert list(log.logged) == ["savings_bonus_rate/email"]
    assert list(log.reward) == [150.0] and list(log.probability) == [0.9]
    assert log.options == [["savings_bonus_rate/email", "mortgage_rates/sms"]]
    assert log.features["x"].tolist() == [1.0] and log.channel_means == {"email": 0.3}
