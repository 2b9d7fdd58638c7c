"""Every channel is learned from its own answers, and exploration logs its probabilities."""

from __future__ import annotations

from datetime import datetime

import numpy as np
import pandas as pd

from dagster_project.decisioning.channel_learning import (
    CUSTOMER_STRENGTH,
    POPULATION_STRENGTH,
    channel_response,
)
from dagster_project.decisioning.exploration import explore
from dagster_project.settings import OUTBOUND_CHANNELS

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
    estimate, population = channel_response(history, keys, model, priors, NOW)
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
