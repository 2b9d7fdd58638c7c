"""Channel response learned from each channel's own contacts, every run, between retrains.

The channel-response model scores only the channels its training data held, and its training
rows trail the data by the label windows; clicks arrive within a day. So each run estimates, per
customer and outbound channel, the chance they open or click when contacted there, as a Beta
posterior mean shrunk twice:

* the channel's **population rate**: its engaged contacts over its contacts so far, shrunk to
  the configured ``prior_response`` by ``POPULATION_STRENGTH`` pseudo-contacts (a channel with no
  history sits on the prior; one with thousands of answers on its own rate);
* the **customer's rate** on that channel: their engaged contacts over their contacts, shrunk by
  ``CUSTOMER_STRENGTH`` pseudo-contacts to the model's score where the model scores that channel
  for them, else to the population rate.

A channel that answers better for someone therefore wins their contacts as soon as the evidence
says so, and an untried channel keeps a fair prior, not a fixed constant standing in for a model.
"""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pandas as pd

from ..settings import OUTBOUND_CHANNELS

POPULATION_STRENGTH = 50.0
CUSTOMER_STRENGTH = 4.0


def channel_response(
    history: pd.DataFrame,
    keys: pd.Index,
    model_scores: np.ndarray,
    priors: np.ndarray,
    now: datetime,
) -> tuple[np.ndarray, dict[str, float]]:
    """(customers, outbound channels) response estimates, and each channel's population rate.

    ``history``: contacts sent (customer_key, channel, sent_at, engaged); ``model_scores``: the
    model's score per customer and channel, NaN where it has none; ``priors``: per channel."""
    if now.tzinfo:  # the history's timestamps are naive UTC
        now = now.astimezone(UTC).replace(tzinfo=None)
    sent = history[history["sent_at"] < now]
    n, c = len(keys), len(OUTBOUND_CHANNELS)
    contacts = np.zeros((n, c))
    engaged = np.zeros((n, c))
    population = {}
    for j, channel in enumerate(OUTBOUND_CHANNELS):
        mine = sent[sent["channel"] == channel]
        total, answered = len(mine), float(mine["engaged"].sum())
        population[channel] = (answered + POPULATION_STRENGTH * priors[j]) / (
            total + POPULATION_STRENGTH
        )
        if total:
            per = mine.groupby("customer_key")["engaged"].agg(["size", "sum"])
            rows = keys.get_indexer(per.index)
            known = rows >= 0
            contacts[rows[known], j] = per["size"].to_numpy()[known]
            engaged[rows[known], j] = per["sum"].to_numpy(dtype=float)[known]
    base = np.where(
        np.isnan(model_scores), np.array([population[ch] for ch in OUTBOUND_CHANNELS]), model_scores
    )
    estimate = (engaged + CUSTOMER_STRENGTH * base) / (contacts + CUSTOMER_STRENGTH)
    return estimate, population
