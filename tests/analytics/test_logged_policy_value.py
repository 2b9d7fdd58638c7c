"""Off-policy values from a logged, exploring policy: a static rule it never ran is recovered."""

from __future__ import annotations

import numpy as np
import pandas as pd

from dagster_project.analytics.logged_policy_value import logged_policy_values


def test_a_static_rule_is_valued_from_an_exploring_log() -> None:
    rng = np.random.default_rng(3)
    n = 40_000
    truth = {("loan", "email"): 0.03, ("loan", "sms"): 0.09, ("card", "push"): 0.05}
    pairs = list(truth)
    # The logged policy prefers loan/email (its best guess) and explores the others.
    share = 0.3
    best = np.zeros(n, dtype=int)
    explored = rng.random(n) < share
    picked = np.where(explored, rng.integers(0, 3, n), best)
    probability = np.where(picked == 0, 1 - share + share / 3, share / 3)
    rate = np.array([truth[p] for p in pairs])[picked]
    outcomes = pd.DataFrame(
        {
            "offer": [pairs[i][0] for i in picked],
            "channel": [pairs[i][1] for i in picked],
            "control": False,
            "window_days_observed": 14.0,
            "action_probability": probability,
            "explored": explored & (picked != best),
            "value": 100.0,
            "converted": rng.random(n) < rate,
        }
    )
    values = logged_policy_values(outcomes).set_index(["policy", "measure", "estimator"])
    for estimator in ("ips", "snips", "doubly_robust"):
        sms = values.loc[("static loan/sms", "response", estimator)]
        assert sms["low"] <= 0.09 <= sms["high"], (estimator, sms)
        worth = values.loc[("static loan/sms", "value", estimator)]
        assert worth["low"] <= 9.0 <= worth["high"], (estimator, worth)
    # The best guess (always loan/email) is worth 0.03, and the log can tell it is worse.
    guess = values.loc[("best guess", "response", "doubly_robust")]
    assert guess["low"] <= 0.03 <= guess["high"]
    assert guess["high"] < values.loc[("static loan/sms", "response", "doubly_robust")]["low"]


def test_no_treated_rows_gives_no_values() -> None:
    empty = pd.DataFrame(
        columns=[
            "offer",
            "channel",
            "control",
            "window_days_observed",
            "action_probability",
            "explored",
            "value",
            "converted",
        ]
    )
    assert logged_policy_values(empty).empty
