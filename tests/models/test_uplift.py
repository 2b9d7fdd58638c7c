"""The uplift model: the Qini measures on a hand-worked example, and a T-learner that finds who
responds because they were contacted in data where that is known."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from models.uplift import auuc, evaluate_t_learner, qini_coefficient, qini_curve


def test_qini_by_hand() -> None:
    score = np.array([4.0, 3.0, 2.0, 1.0])
    treated = np.array([True, False, True, False])
    converted = np.array([True, False, False, True])
    share, gain = qini_curve(score, treated, converted)
    assert share.tolist() == [0.0, 0.25, 0.5, 0.75, 1.0]
    # the treated responder first; the control responder last takes the gain back to 0
    assert gain.tolist() == [0.0, 1.0, 1.0, 1.0, 0.0]
    assert qini_coefficient(score, treated, converted) == pytest.approx(0.1875)
    assert auuc(score, treated, converted) == pytest.approx(0.1875)
    # ranked the wrong way round the area is below random targeting's line
    assert qini_coefficient(-score, treated, converted) == pytest.approx(-0.09375)


def _world(n: int, seed: int) -> pd.DataFrame:
    """Contact lifts response only for customers with a recent visit; the rest respond (or not)
    the same either way, some of them often."""
    rng = np.random.default_rng(seed)
    visited = rng.random(n) < 0.4
    loyal = rng.random(n) < 0.3
    control = rng.random(n) < 0.3
    base = np.where(loyal, 0.25, 0.03)
    p = base + np.where(visited & ~control, 0.2, 0.0)
    return pd.DataFrame(
        {
            "customer_key": [f"ck_{i:05d}" for i in range(n)],
            "offer": rng.choice(["mortgage", "savings"], n),
            "control": control,
            "holdout": rng.random(n) < 0.3,  # customers measured on, not fitted on
            "converted": rng.random(n) < p,
            "visited_7d": visited.astype(float),
            "loyal": loyal.astype(float),
            "noise": rng.normal(size=n),
        }
    )


def test_t_learner_ranks_the_persuadable_first() -> None:
    frame = _world(6000, seed=1)
    evaluation = evaluate_t_learner(frame, ["visited_7d", "loyal", "noise"])
    assert evaluation.status == "fitted"
    assert evaluation.metrics["qini"] > 0.01
    # against a random ranking of the same holdout
    rng = np.random.default_rng(0)
    random_qinis = [
        qini_coefficient(rng.random(len(frame)), ~frame["control"], frame["converted"])
        for _ in range(20)
    ]
    assert evaluation.metrics["qini"] > max(random_qinis)
    assert 0.03 < evaluation.metrics["predicted_uplift_mean"] < 0.15  # true mean lift 0.08


def test_too_small_a_control_group_is_said_not_fitted() -> None:
    frame = _world(6000, seed=2)
    frame = frame[~frame["control"] | (frame.index < 200)]  # a handful of control rows
    evaluation = evaluate_t_learner(frame, ["visited_7d", "loyal", "noise"])
    assert evaluation.status == "not_enough_data"
    assert "control" in evaluation.reason and evaluation.metrics == {}
