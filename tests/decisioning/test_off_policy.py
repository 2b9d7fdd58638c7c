"""The off-policy estimators on a hand-worked log, and on a simulated one whose truth is known."""

from __future__ import annotations

import numpy as np
import pytest

from dagster_project.decisioning.off_policy import doubly_robust, ips, snips


def test_estimators_on_a_hand_worked_log() -> None:
    # Four logged contacts. The target policy would take the logged action in the first two
    # (probability 1) and never in the last two.
    reward = np.array([1.0, 0.0, 1.0, 0.0])
    logged = np.array([0.5, 0.25, 0.5, 0.8])
    target = np.array([1.0, 1.0, 0.0, 0.0])
    # IPS: weights 2, 4, 0, 0 -> terms 2, 0, 0, 0 -> mean 0.5.
    assert ips(reward, logged, target).value == pytest.approx(0.5)
    # SNIPS: (2*1 + 4*0) / (2 + 4) = 1/3.
    assert snips(reward, logged, target).value == pytest.approx(1 / 3)
    # DR with a reward model of 0.4 everywhere: terms 0.4 + w (r - 0.4):
    # 0.4 + 2*0.6 = 1.6, 0.4 + 4*(-0.4) = -1.2, 0.4, 0.4 -> mean 0.3.
    model = np.full(4, 0.4)
    assert doubly_robust(reward, logged, target, model, model).value == pytest.approx(0.3)
    with pytest.raises(ValueError, match="probability 0"):
        ips(reward, np.array([0.5, 0.0, 0.5, 0.8]), target)


def test_intervals_hold_the_true_value_of_a_policy_never_run() -> None:
    """A logging policy explores 3 actions; the target always takes action 2. Its true value is
    the mean reward of action 2, which the log never took deterministically."""
    rng = np.random.default_rng(7)
    n, truth = 30_000, np.array([0.02, 0.05, 0.12])
    logged_probability = np.array([0.2, 0.2, 0.6])
    action = rng.choice(3, size=n, p=logged_probability)
    reward = (rng.random(n) < truth[action]).astype(float)
    p = logged_probability[action]
    q = (action == 2).astype(float)
    model = np.full(3, 0.06)  # a poor reward model: DR must still hold the truth
    held = 0
    for estimate in (
        ips(reward, p, q),
        snips(reward, p, q),
        doubly_robust(reward, p, q, model[action], np.full(n, model[2])),
    ):
        held += estimate.holds(truth[2])
        assert estimate.high - estimate.low < 0.02
    assert held == 3
