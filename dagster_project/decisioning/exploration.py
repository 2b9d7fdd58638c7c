"""Exploration with logged propensities: some contacts try another permitted offer and channel.

A policy that always takes its best guess never learns what it did not try (a channel it starts
low on stays low, an offer it rarely sends is never calibrated). With ``exploration_share`` e, a
customer whose best contact clears ``min_priority`` and who has K alternatives the caller allows
(arbitration: every offer x channel pair the contact rules permit) gets, with probability e, one
of the K drawn instead of the best. The floor is not applied to the alternatives, since it rests
on the very estimates exploration is there to correct. The draw is half uniform, half in
proportion to each pair's estimated value: every permitted pair keeps a chance of at least
``e / (2K)`` (so off-policy estimators have support everywhere), while a pair the estimates
think nearly as good is tried more often than a hopeless one, so exploring costs less. With
weights ``w`` (the value shares ``priority_j / sum(priority)``), pair j is drawn with
``q_j = 1 / (2K) + w_j / 2`` when exploring, and every decision records the probability with
which its action was chosen: ``(1 - e) + e q_best`` for the best one, ``e q_j`` for any other.
Without values the draw is uniform (``q_j = 1 / K``). The draws are a stable hash of the customer
and the day, so re-deciding the same day decides the same.
"""

from __future__ import annotations

import hashlib

import numpy as np


def stable_uniform(keys: np.ndarray, salt: str | None = None) -> np.ndarray:
    """A draw uniform on [0, 1) per key, the same on every run: a hash of ``salt|key`` (of the
    key alone without a salt). Different salts give independent draws for the same keys."""
    texts = np.asarray(keys, dtype=object)
    if salt is not None:
        texts = f"{salt}|" + texts
    sha256 = hashlib.sha256
    digests = b"".join([sha256(text.encode()).digest() for text in texts.tolist()])
    # The first 8 of each digest's 32 bytes, big-endian: one integer per key.
    return np.frombuffer(digests, dtype=">u8")[::4] / 2.0**64


def explore(
    permitted: np.ndarray,
    best: np.ndarray,
    keys: np.ndarray,
    day: str,
    share: float,
    values: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(chosen column per customer, its probability, explored?) over ``permitted`` (customers x
    flattened offer-channel pairs: permitted), the greedy ``best`` and, optionally, each pair's
    estimated ``values`` (same shape; negative counts as 0)."""
    n = len(keys)
    options = permitted.sum(axis=1)
    if share <= 0 or not n:
        return best, np.ones(n), np.zeros(n, dtype=bool)
    # Only a customer with an alternative can explore: the draws are made for them alone.
    rows = np.flatnonzero(options > 1)
    chosen, probability = best.copy(), np.ones(n)
    explored = np.zeros(n, dtype=bool)
    if not len(rows):
        return chosen, probability, explored
    permitted, best, keys = permitted[rows], best[rows], keys[rows]
    uniform = np.where(permitted, 1.0 / options[rows][:, None], 0.0)
    if values is None:
        draw = uniform
    else:
        worth = np.where(permitted, np.clip(np.nan_to_num(values[rows], neginf=0.0), 0, None), 0.0)
        total = worth.sum(axis=1, keepdims=True)
        shares = np.divide(worth, total, out=uniform.copy(), where=total > 0)
        draw = 0.5 * uniform + 0.5 * shares
    explores = stable_uniform(keys, f"explore|{day}") < share
    # The pair whose cumulative draw passes the customer's uniform: its column.
    cumulative = np.cumsum(draw, axis=1)
    u = stable_uniform(keys, f"pick|{day}") * cumulative[:, -1]
    nth = np.minimum((cumulative <= u[:, None]).sum(axis=1), draw.shape[1] - 1)
    pick = np.where(explores, nth, best)
    at = np.arange(len(rows))
    q_chosen, q_best = draw[at, pick], draw[at, best]
    chosen[rows] = pick
    probability[rows] = np.where(pick == best, 1 - share + share * q_best, share * q_chosen)
    explored[rows] = explores & (pick != best)
    return chosen, probability, explored
