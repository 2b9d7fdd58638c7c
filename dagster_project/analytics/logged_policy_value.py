"""What other contact policies would have earned, estimated from the contacts actually made.

The treated contacts (not the control group) each logged the probability with which their offer
and channel were chosen. Off-policy estimators (``decisioning.off_policy``) value, on those rows:

* ``decided``: the policy as it ran, exploration included (its own mean: every weight is 1);
* ``best guess``: the same policy without exploration (it takes a logged action with
  probability 1 when that action was its best guess, 0 when the row explored);
* ``static <offer>/<channel>``: one offer on one channel for everyone, for every pair logged.

Per policy: IPS, self-normalised IPS and doubly robust (the reward model is each offer and
channel's mean observed reward), each with a 95% interval, in response (an application for the
offer's product within the window) and in value (response times the offer's value). Only rows
whose outcome window the data has reached count. Exploration is what makes a static rule's rows
exist: with none, a pair the policy never chose has no rows, and no estimate.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..decisioning.off_policy import doubly_robust, ips, snips

COLUMNS = ["policy", "measure", "estimator", "value", "low", "high", "decisions"]


def _targets(
    rows: pd.DataFrame, logged_model: np.ndarray, mean: float
) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Per policy: its probability of each logged action, and the reward model's expectation of
    what it would have done (for doubly robust)."""
    kept = (~rows["explored"].to_numpy(dtype=bool)).astype(float)
    targets = {
        "decided": (np.ones(len(rows)), logged_model),
        # An explored row's best guess was not logged: the model's overall mean stands in.
        "best guess": (kept, np.where(kept > 0, logged_model, mean)),
    }
    pairs = (rows["offer"].astype(str) + "/" + rows["channel"].astype(str)).to_numpy()
    for pair in sorted(set(pairs)):
        chosen = pairs == pair
        targets[f"static {pair}"] = (
            chosen.astype(float),
            np.full(len(rows), float(logged_model[chosen].mean())),
        )
    return targets


def logged_policy_values(outcomes: pd.DataFrame) -> pd.DataFrame:
    """One row per policy, measure and estimator (see the module docstring)."""
    rows = outcomes[
        ~outcomes["control"].astype(bool)
        & (outcomes["channel"] != "web")
        & (outcomes["window_days_observed"] > 0)
    ].reset_index(drop=True)
    if rows.empty:
        return pd.DataFrame(columns=COLUMNS)
    p = rows["action_probability"].to_numpy(dtype=float)
    applied = rows["converted"].to_numpy(dtype=float)
    measures = {"response": applied, "value": applied * rows["value"].fillna(0).to_numpy(float)}
    records = []
    for measure, reward in measures.items():
        # Reward model for DR: the mean reward of each (offer, channel) as logged.
        cell = rows.assign(reward=reward).groupby(["offer", "channel"])["reward"].transform("mean")
        logged_model = cell.to_numpy(dtype=float)
        for policy, (q, target_model) in _targets(rows, logged_model, float(reward.mean())).items():
            for name, estimate in (
                ("ips", ips(reward, p, q)),
                ("snips", snips(reward, p, q)),
                ("doubly_robust", doubly_robust(reward, p, q, logged_model, target_model)),
            ):
                records.append(
                    (policy, measure, name, estimate.value, estimate.low, estimate.high, len(p))
                )
    return pd.DataFrame(records, columns=COLUMNS)
