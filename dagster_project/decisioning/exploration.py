"""Exploration with logged propensities: some contacts try another permitted offer and channel.

A policy that always takes its best guess never learns what it did not try (a channel it starts
low on stays low). With ``exploration_share`` e, a customer whose best contact clears
``min_priority`` and who has K alternatives the caller allows (arbitration: the best offer on
every channel the contact rules permit) gets, with probability e, one of the K drawn uniformly
instead: the floor is not applied to the alternatives, since it rests on the very estimates
exploration is there to correct. Every decision records the probability with
which its action was chosen, so off-policy estimators can value other policies from the log:
``(1 - e) + e / K`` for the best one, ``e / K`` for any other. The draws are a stable hash of the
customer and the day, so re-deciding the same day decides the same.
"""

from __future__ import annotations

import hashlib

import numpy as np


def stable_uniform(keys: np.ndarray, salt: str | None = None) -> np.ndarray:
    """A draw uniform on [0, 1) per key, the same on every run: a hash of ``salt|key`` (of the
    key alone without a salt). Different salts give independent draws for the same keys."""
    texts = keys if salt is None else (f"{salt}|{k}" for k in keys)
    return np.fromiter(
        (int.from_bytes(hashlib.sha256(t.encode()).digest()[:8], "big") / 2.0**64 for t in texts),
        dtype=np.float64,
        count=len(keys),
    )


def explore(
    permitted: np.ndarray, best: np.ndarray, keys: np.ndarray, day: str, share: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(chosen column per customer, its probability, explored?) over ``permitted`` (customers x
    flattened offer-channel pairs: permitted) and the greedy ``best``."""
    n = len(keys)
    options = permitted.sum(axis=1)
    if share <= 0 or not n:
        return best, np.ones(n), np.zeros(n, dtype=bool)
    explores = (stable_uniform(keys, f"explore|{day}") < share) & (options > 1)
    pick = np.minimum((stable_uniform(keys, f"pick|{day}") * options).astype(np.int64), options - 1)
    # The pick-th permitted pair of each row: its column in the flattened matrix.
    ranks = np.cumsum(permitted, axis=1) - 1
    nth = np.argmax(permitted & (ranks == pick[:, None]), axis=1)
    chosen = np.where(explores, nth, best)
    spread = np.where(options > 0, share / np.maximum(options, 1), 0.0)
    probability = np.where(chosen == best, np.where(options > 1, 1 - share + spread, 1.0), spread)
    return chosen, probability, explores & (chosen != best)
