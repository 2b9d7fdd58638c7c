"""Off-policy evaluation: the value of a policy that was not run, from the decisions that were.

Every logged decision carries the probability with which its action was chosen (exploration,
``exploration.py``), so the value of another policy can be estimated from the log alone, with no
ground truth (as at a bank). For each logged decision ``i``: its reward ``r`` (did the contact
lead to the outcome), the logging probability ``p`` of its action, the target policy's
probability ``q`` of that same action, and, for the doubly robust estimate, a reward model's
prediction for the logged action (``logged_model``) and its expectation under the target policy
(``target_model``). Each estimate comes with a 95% interval (normal approximation over the
per-decision terms; SNIPS by the delta method):

* IPS: mean of ``w r`` with ``w = q / p``: unbiased, noisy when weights are large;
* self-normalised IPS: ``sum(w r) / sum(w)``: a little biased, far steadier;
* doubly robust: mean of ``target_model + w (r - logged_model)``: unbiased if either the
  weights or the reward model are right, and the steadiest when the model is decent.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

Z95 = 1.959963984540054


@dataclass(frozen=True)
class Estimate:
    value: float
    low: float
    high: float
    n: int

    def holds(self, true_value: float) -> bool:
        return self.low <= true_value <= self.high


def mean_interval(terms: np.ndarray) -> Estimate:
    n = len(terms)
    if n == 0:
        return Estimate(float("nan"), float("nan"), float("nan"), 0)
    mean = float(terms.mean())
    half = Z95 * float(terms.std(ddof=1)) / np.sqrt(n) if n > 1 else float("inf")
    return Estimate(mean, mean - half, mean + half, n)


def _weights(logged_probability: np.ndarray, target_probability: np.ndarray) -> np.ndarray:
    if (logged_probability <= 0).any():
        raise ValueError("a logged action has probability 0: it cannot have been chosen")
    return np.asarray(target_probability, float) / np.asarray(logged_probability, float)


def ips(reward: np.ndarray, logged_probability: np.ndarray, target_probability: np.ndarray):
    w = _weights(logged_probability, target_probability)
    return mean_interval(w * np.asarray(reward, float))


def snips(reward: np.ndarray, logged_probability: np.ndarray, target_probability: np.ndarray):
    w = _weights(logged_probability, target_probability)
    r = np.asarray(reward, float)
    n, total = len(w), float(w.sum())
    if n == 0 or total <= 0:
        return Estimate(float("nan"), float("nan"), float("nan"), n)
    value = float((w * r).sum() / total)
    # Delta method: the ratio's influence terms are w (r - value) / mean(w).
    spread = w * (r - value) / (total / n)
    half = Z95 * float(spread.std(ddof=1)) / np.sqrt(n) if n > 1 else float("inf")
    return Estimate(value, value - half, value + half, n)


def doubly_robust_terms(
    reward: np.ndarray,
    logged_probability: np.ndarray,
    target_probability: np.ndarray,
    logged_model: np.ndarray,
    target_model: np.ndarray,
) -> np.ndarray:
    """Each decision's doubly robust term; their mean is the estimate, and two policies' terms
    on the same log can be differenced row by row for a paired interval."""
    w = _weights(logged_probability, target_probability)
    return np.asarray(target_model, float) + w * (
        np.asarray(reward, float) - np.asarray(logged_model, float)
    )


def doubly_robust(
    reward: np.ndarray,
    logged_probability: np.ndarray,
    target_probability: np.ndarray,
    logged_model: np.ndarray,
    target_model: np.ndarray,
) -> Estimate:
    return mean_interval(
        doubly_robust_terms(
            reward, logged_probability, target_probability, logged_model, target_model
        )
    )
