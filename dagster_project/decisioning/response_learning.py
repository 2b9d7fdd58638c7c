"""What a contact will earn, learned from the contacts already made, every run, between retrains.

The models are retrained weekly, score only the channels their training data held, and their
training rows trail the data by the label windows; clicks arrive within a day. So every decision
run updates two estimates from the contact history (each delivered contact, with whether the
customer engaged and whether they clicked within ``RESPONSE_WINDOW_HOURS``):

**Channel engagement per customer** (``channel``): a Beta posterior mean shrunk twice. The
channel's *population rate* (its engaged contacts over its contacts, shrunk to the configured
``prior_response`` by ``POPULATION_STRENGTH`` pseudo-contacts), then the *customer's rate* on the
channel, shrunk by ``CUSTOMER_STRENGTH`` pseudo-contacts to the model's score where the model
scores that channel for them, else to the population rate. Someone who answers SMS better wins
their contacts there as soon as their own answers say so.

**Calibration per product and channel** (``calibration``): the offer propensity (applications)
times channel engagement (opens count for email and push, SMS has none) is a ranking, not the
chance that a contact is clicked, and its scale differs by channel and offer. Each matured contact
logged what the plan expected of it (offer score x channel score); clicks over that expectation,
per product and channel, is a factor that turns the ranking into a click probability. Factors
are Gamma-Poisson posterior means shrunk up a hierarchy with the weight of
``CALIBRATION_STRENGTH`` contacts: pair -> channel -> all contacts -> 1 (no evidence: the
models as they are). A channel
whose contacts click less than the models think loses contacts within days, and one that answers
better gains them, whatever the channel model has seen.

The expected click of customer i, offer o, channel c is then
``calibration[product(o), c] * offer_score[i, o] * channel[i, c]``.

The population rates and the calibration are properties of all contacts, not of one customer.
A decision for a few customers (the real-time API) reuses those the batch learned
(``PopulationEvidence``) and computes only the customers' own engagement, so one customer
decided alone gets the row the batch would give them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
import pandas as pd

from ..settings import OUTBOUND_CHANNELS, PRODUCTS
from ..warehouse import naive_utc

POPULATION_STRENGTH = 50.0
CUSTOMER_STRENGTH = 4.0
CALIBRATION_STRENGTH = 100.0  # contacts' worth of belief in the level above
RESPONSE_WINDOW_HOURS = 72  # a click this long after the send still answers it
MATURE_HOURS = 12  # contacts younger than this have not had time to be answered


@dataclass(frozen=True)
class ResponseEstimates:
    channel: np.ndarray  # (customers, outbound channels): engagement estimate
    population: dict[str, float]  # channel -> population engagement rate
    calibration: np.ndarray  # (products, outbound channels): clicks per expected click
    summary: list[dict]  # per product and channel with contacts: the evidence behind each factor


@dataclass(frozen=True)
class PopulationEvidence:
    """What all contacts taught: per channel the population rate; per product and channel the
    calibration factor. Published with the batch's snapshot for decisions made one at a time."""

    population: dict[str, float]
    calibration: np.ndarray  # (products, outbound channels)

    def as_json(self) -> dict:
        return {"population": self.population, "calibration": self.calibration.tolist()}

    @classmethod
    def from_json(cls, data: dict) -> PopulationEvidence:
        return cls(
            {str(k): float(v) for k, v in data["population"].items()},
            np.asarray(data["calibration"], dtype=float),
        )


def _shrunk(clicks: float, expected: float, contacts: float, toward: float) -> float:
    """clicks / expected, shrunk to ``toward`` as if CALIBRATION_STRENGTH more contacts (at this
    group's mean expectation) had clicked at exactly that factor."""
    if contacts <= 0 or expected <= 0:
        return toward
    pseudo = CALIBRATION_STRENGTH * expected / contacts
    return (clicks + pseudo * toward) / (expected + pseudo)


def _calibration(history: pd.DataFrame, now: datetime) -> tuple[np.ndarray, list[dict]]:
    """(products, channels) factors and their evidence, from matured contacts with a logged
    expectation."""
    factors = np.ones((len(PRODUCTS), len(OUTBOUND_CHANNELS)))
    if "predicted" not in history or "clicked" not in history:
        return factors, []
    matured = history[
        (history["sent_at"] <= now - timedelta(hours=MATURE_HOURS))
        & history["predicted"].notna()
        & history["product"].isin(PRODUCTS)
    ]
    if matured.empty:
        return factors, []
    clicks = matured["clicked"].astype(float)
    overall = _shrunk(float(clicks.sum()), float(matured["predicted"].sum()), len(matured), 1.0)

    def totals(by: list[str]) -> pd.DataFrame:
        return (
            matured.assign(clicks=clicks)
            .groupby(by)
            .agg(
                contacts=("clicks", "size"),
                clicks=("clicks", "sum"),
                expected=("predicted", "sum"),
            )
        )

    by_channel, pairs = totals(["channel"]), totals(["product", "channel"])
    summary = []
    for c, channel in enumerate(OUTBOUND_CHANNELS):
        level = overall
        if channel in by_channel.index:
            row = by_channel.loc[channel]
            level = _shrunk(row["clicks"], row["expected"], row["contacts"], overall)
        for p, product in enumerate(PRODUCTS):
            if (product, channel) in pairs.index:
                row = pairs.loc[(product, channel)]
                factors[p, c] = _shrunk(row["clicks"], row["expected"], row["contacts"], level)
                summary.append(
                    {
                        "product": product,
                        "channel": channel,
                        "contacts": int(row["contacts"]),
                        "clicks": int(row["clicks"]),
                        "expected": round(float(row["expected"]), 2),
                        "factor": round(float(factors[p, c]), 4),
                    }
                )
            else:
                factors[p, c] = level
    return factors, summary


def _channel_engagement(
    sent: pd.DataFrame,
    keys: pd.Index,
    model_scores: np.ndarray,
    priors: np.ndarray,
    known_population: dict[str, float] | None = None,
) -> tuple[np.ndarray, dict[str, float]]:
    n, c = len(keys), len(OUTBOUND_CHANNELS)
    # Each contact's customer row and channel position, looked up once; counts are bincounts.
    row = keys.get_indexer(sent["customer_key"])
    channel = pd.Index(OUTBOUND_CHANNELS).get_indexer(sent["channel"])
    answered = sent["engaged"].to_numpy(dtype=bool)
    population = {}
    for j, name in enumerate(OUTBOUND_CHANNELS):
        mine = channel == j
        total, engaged_total = int(mine.sum()), float(answered[mine].sum())
        population[name] = (
            known_population[name]
            if known_population is not None
            else (engaged_total + POPULATION_STRENGTH * priors[j]) / (total + POPULATION_STRENGTH)
        )
    known = (row >= 0) & (channel >= 0)
    cell = row[known] * c + channel[known]
    contacts = np.bincount(cell, minlength=n * c).reshape(n, c).astype(float)
    engaged = np.bincount(cell, weights=answered[known], minlength=n * c).reshape(n, c)
    base = np.where(
        np.isnan(model_scores), np.array([population[ch] for ch in OUTBOUND_CHANNELS]), model_scores
    )
    estimate = (engaged + CUSTOMER_STRENGTH * base) / (contacts + CUSTOMER_STRENGTH)
    return estimate, population


def learn_responses(
    history: pd.DataFrame,
    keys: pd.Index,
    model_scores: np.ndarray,
    priors: np.ndarray,
    now: datetime,
    evidence: PopulationEvidence | None = None,
) -> ResponseEstimates:
    """The estimates of the module docstring.

    ``history``: contacts sent (customer_key, channel, sent_at, engaged; for calibration also
    product, clicked and predicted, the expectation logged when it was decided);
    ``model_scores``: the channel model's score per customer and channel, NaN where it has none;
    ``priors``: per channel, the configured prior response; ``evidence``: the population rates
    and calibration to use instead of learning them from ``history`` (which then need only
    hold these customers' contacts)."""
    now = naive_utc(now)
    delivered = history.get("delivered", pd.Series(True, index=history.index))
    delivered = delivered.astype("boolean").fillna(True).to_numpy(dtype=bool)
    sent = history[(history["sent_at"] < now).to_numpy() & delivered]
    if evidence is not None:
        channel, population = _channel_engagement(
            sent, keys, model_scores, priors, evidence.population
        )
        return ResponseEstimates(channel, population, evidence.calibration, [])
    channel, population = _channel_engagement(sent, keys, model_scores, priors)
    calibration, summary = _calibration(sent, now)
    return ResponseEstimates(channel, population, calibration, summary)
