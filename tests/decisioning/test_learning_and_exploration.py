"""Every channel is learned from its own answers, and exploration logs its probabilities."""

from __future__ import annotations

from datetime import datetime

import numpy as np
import pandas as pd

from dagster_project.decisioning.exploration import explore
from dagster_project.decisioning.response_learning import (
    CALIBRATION_STRENGTH,
    CUSTOMER_STRENGTH,
    MATURE_HOURS,
    POPULATION_STRENGTH,
    learn_responses,
)
from dagster_project.settings import OUTBOUND_CHANNELS, PRODUCTS

NOW = datetime(2026, 3, 2, 12, 0)


def _history(rows: list[tuple[str, str, bool]]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "customer_key": [r[0] for r in rows],
            "channel": [r[1] for r in rows],
            "sent_at": pd.Timestamp("2026-03-01"),
            "engaged": [r[2] for r in rows],
        }
    )


def test_a_channel_that_answers_better_for_someone_wins_their_estimate() -> None:
    keys = pd.Index(["ck_a", "ck_b"])
    # ck_a ignored four emails and answered three of four SMS; ck_b was never contacted.
    history = _history(
        [("ck_a", "email", False)] * 4 + [("ck_a", "sms", True)] * 3 + [("ck_a", "sms", False)]
    )
    model = np.full((2, 3), np.nan)
    model[:, 0] = 0.2  # the model scores email only
    priors = np.array([0.1, 0.1, 0.1])
    learned = learn_responses(history, keys, model, priors, NOW)
    estimate, population = learned.channel, learned.population
    email, sms, push = (OUTBOUND_CHANNELS.index(c) for c in ("email", "sms", "push"))
    assert estimate[0, sms] > estimate[0, email]
    # Hand-worked: the SMS population rate is (3 + 50 * 0.1) / (4 + 50); ck_a's SMS estimate
    # shrinks their 3 of 4 to it with 4 pseudo-contacts.
    sms_rate = (3 + POPULATION_STRENGTH * 0.1) / (4 + POPULATION_STRENGTH)
    assert population["sms"] == sms_rate
    assert estimate[0, sms] == (3 + CUSTOMER_STRENGTH * sms_rate) / (4 + CUSTOMER_STRENGTH)
    # The untried customer keeps the model's email score and the channels' population rates.
    assert estimate[1, email] == 0.2 and estimate[1, sms] == sms_rate
    assert estimate[1, push] == 0.1  # no push history anywhere: the prior


def test_exploration_probabilities_add_up_and_match_their_frequency() -> None:
    n = 20_000
    keys = np.array([f"ck_{i}" for i in range(n)])
    worth = np.zeros((n, 6), dtype=bool)
    worth[:, [0, 2, 5]] = True  # three pairs worth sending; the best is column 2
    worth[:10, :] = False
    worth[:10, 2] = True  # ten customers have only the best one
    best = np.full(n, 2)
    chosen, probability, explored = explore(worth, best, keys, "2026-03-02", 0.3)
    assert set(np.unique(chosen)) == {0, 2, 5}
    # Hand-worked: the best one with probability 0.7 + 0.3 / 3 = 0.8, the others 0.1 each.
    many = slice(10, None)
    assert np.allclose(probability[many][chosen[many] == 2], 0.8)
    assert np.allclose(probability[many][chosen[many] != 2], 0.1)
    assert np.allclose(probability[:10], 1.0) and (chosen[:10] == 2).all()
    assert abs((chosen[many] == 2).mean() - 0.8) < 0.01  # the logged probability is the truth
    assert (explored == (chosen != best)).all()
    again = explore(worth, best, keys, "2026-03-02", 0.3)
    assert (again[0] == chosen).all()  # the same day decides the same
    assert (explore(worth, best, keys, "2026-03-02", 0.0)[0] == best).all()


def test_exploration_draws_by_value_and_logs_the_probability_it_drew_with() -> None:
    n = 40_000
    keys = np.array([f"ck_{i}" for i in range(n)])
    worth = np.zeros((n, 6), dtype=bool)
    worth[:, [0, 2, 5]] = True
    values = np.full((n, 6), -np.inf)
    values[:, [0, 2, 5]] = [6.0, 3.0, 1.0]  # the best is column 0
    best = np.zeros(n, dtype=np.int64)
    chosen, probability, explored = explore(worth, best, keys, "2026-03-02", 0.3, values)
    # Hand-worked: exploring draws pair j with 1/(2K) + share_of_value_j / 2, K = 3.
    q = {0: 1 / 6 + 0.6 / 2, 2: 1 / 6 + 0.3 / 2, 5: 1 / 6 + 0.1 / 2}
    expected = {0: 0.7 + 0.3 * q[0], 2: 0.3 * q[2], 5: 0.3 * q[5]}  # 0.84, 0.095, 0.065
    for column, chance in expected.items():
        assert np.allclose(probability[chosen == column], chance)
        assert abs((chosen == column).mean() - chance) < 0.006  # the logged probability is true
    assert (explored == (chosen != best)).all()
    # A better-valued alternative is tried more often than a worse one, and none is never tried.
    assert (chosen == 2).mean() > (chosen == 5).mean() > 0


def _contacts(product: str, channel: str, n: int, clicks: int, predicted: float) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "customer_key": [f"ck_{product}_{channel}_{i}" for i in range(n)],
            "channel": channel,
            "sent_at": pd.Timestamp(NOW) - pd.Timedelta(hours=MATURE_HOURS + 1),
            "engaged": [i < clicks for i in range(n)],
            "clicked": [i < clicks for i in range(n)],
            "product": product,
            "predicted": predicted,
        }
    )


def test_clicks_calibrate_each_product_and_channel_up_a_hierarchy() -> None:
    # The plan expected 0.1 clicks of every contact. Savings SMS clicked 30 of 100 (three times
    # that), savings email 5 of 100 (half); push and the mortgage were never tried.
    history = pd.concat(
        [
            _contacts("savings", "sms", 100, 30, 0.1),
            _contacts("savings", "email", 100, 5, 0.1),
            # too young to have been answered: left out of the calibration
            _contacts("mortgage", "sms", 50, 0, 0.1).assign(
                sent_at=pd.Timestamp(NOW) - pd.Timedelta(hours=1)
            ),
        ],
        ignore_index=True,
    )
    keys = pd.Index(history["customer_key"].unique())
    model = np.full((len(keys), 3), np.nan)
    learned = learn_responses(history, keys, model, np.full(3, 0.1), NOW)
    factors = pd.DataFrame(learned.calibration, index=PRODUCTS, columns=OUTBOUND_CHANNELS)
    # Hand-worked: each level's pseudo-contacts click at the level above, at 0.1 expected each.
    k = CALIBRATION_STRENGTH * 0.1
    overall = (35 + k * 1.0) / (20 + k)  # all matured contacts, shrunk to "as the models say"
    sms = (30 + k * overall) / (10 + k)
    email = (5 + k * overall) / (10 + k)
    assert np.isclose(factors.loc["savings", "sms"], (30 + k * sms) / (10 + k))
    assert np.isclose(factors.loc["savings", "email"], (5 + k * email) / (10 + k))
    assert factors.loc["savings", "sms"] > 2.0 > 1.0 > factors.loc["savings", "email"]
    # An untried pair borrows its channel's level; an untried channel the overall level.
    assert np.isclose(factors.loc["mortgage", "sms"], sms)
    assert np.isclose(factors.loc["mortgage", "push"], overall)
    evidence = {(r["product"], r["channel"]): r for r in learned.summary}
    assert evidence[("savings", "sms")]["clicks"] == 30
    assert ("mortgage", "sms") not in evidence


def test_without_logged_expectations_the_models_stand_as_they_are() -> None:
    history = _history([("ck_a", "email", True)])  # an old log: no clicks or expectations
    learned = learn_responses(history, pd.Index(["ck_a"]), np.full((1, 3), 0.2), np.ones(3), NOW)
    assert (learned.calibration == 1.0).all() and learned.summary == []
