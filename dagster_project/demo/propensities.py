"""True response propensities: how likely each person answers an offer on a channel.

The closed loop (a later simulator answering delivered actions) draws responses from this table,
so it is person-level truth, never visible to the pipeline. A propensity is a sigmoid of the
person's intent for the offered product and their affinity for the channel: strong intent makes
any channel work better, and some people simply read email but ignore push.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from dagster_project.demo.formatting import pick
from dagster_project.demo.intents import IntentEpisodes
from dagster_project.demo.population import AFFINITY_CHANNELS, Population
from dagster_project.settings import PRODUCTS

BASE_LOGIT = -4.0  # an uninterested person with average affinity: about 2%
INTENT_WEIGHT = 3.5  # a strong intent lifts that to about 30%
CHANNEL_LOGIT = {"email": 0.0, "sms": -0.3, "push": -0.6}


def response_propensity(
    intent_strength: np.ndarray, channel_logit: np.ndarray, channel_affinity: np.ndarray
) -> np.ndarray:
    """The sigmoid every propensity comes from; shared so a simulator can vary intent by day."""
    logit = BASE_LOGIT + INTENT_WEIGHT * intent_strength + channel_logit + channel_affinity
    return 1.0 / (1.0 + np.exp(-logit))


def strongest_intent(population: Population, episodes: IntentEpisodes) -> np.ndarray:
    """(persons, products): the strongest intent each person has for each product in the world."""
    strength = np.zeros((population.size, len(PRODUCTS)))
    np.maximum.at(strength, (episodes.person, episodes.product), episodes.strength)
    return strength


def propensity_table(population: Population, episodes: IntentEpisodes) -> pa.Table:
    """One row per (person, offer, channel), persons in order."""
    n, n_offers, n_channels = population.size, len(PRODUCTS), len(AFFINITY_CHANNELS)
    intent = np.repeat(strongest_intent(population, episodes), n_channels, axis=1).ravel()
    affinity = np.tile(population.channel_affinity, (1, n_offers)).ravel()
    channel = np.tile(np.arange(n_channels), n * n_offers)
    offer = np.tile(np.repeat(np.arange(n_offers), n_channels), n)
    channel_logit = np.array([CHANNEL_LOGIT[c] for c in AFFINITY_CHANNELS])[channel]
    return pa.table(
        {
            "person_id": pick(population.person_id, np.repeat(np.arange(n), n_offers * n_channels)),
            "offer": pick(pa.array(PRODUCTS), offer),
            "channel": pick(pa.array(AFFINITY_CHANNELS), channel),
            "intent_strength": intent,
            "channel_affinity": affinity,
            "propensity": response_propensity(intent, channel_logit, affinity),
        }
    )
