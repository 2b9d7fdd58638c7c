"""Latent intents: the hidden reason people browse, call, click and apply.

An intent episode is a stretch of days in which a person wants one product. It walks the journey
aware -> considering -> applying -> converted: aware people look a little, considering people look
hard (rates, calculators), call about it and click related email; some apply, and the application
goes started -> submitted -> approved/declined -> converted. A person has at most one episode at a
time. Episodes may have begun before the world's first day, so day one is not a cold start.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import numpy as np
import pyarrow as pa

from dagster_project.demo.config import WorldConfig
from dagster_project.demo.day_context import BROWSING_HOURS, BUSINESS_HOURS, utc_offsets_us
from dagster_project.demo.formatting import DAY_US, HOUR_US, MINUTE_US, epoch_day, pick
from dagster_project.demo.population import Population
from dagster_project.demo.product_catalogue import PRODUCT_PROFILES
from dagster_project.demo.random_streams import hex_ids, stream, weighted_choice

JOURNEY_STAGES = ("aware", "considering", "applying", "converted")
APPLICATION_CHANNELS = ("web", "app", "branch", "phone")
NEVER = np.iinfo(np.int64).max  # time of a stage that is never reached

_MEAN_DAYS_BETWEEN_EPISODES = 180.0
_LOOKBACK_DAYS = 45  # episodes already under way when the world starts
_AWARE_SHARE = 0.3  # first part of an episode, before the person starts comparing
_AWARE_LEVEL = 0.4  # how hard an aware person acts, relative to a considering one
_SUBMIT_SHARE = 0.78
_CONVERT_SHARE = 0.85
_CHANNEL_SHARES = {
    "mortgage": (0.35, 0.10, 0.40, 0.15),
    "default": (0.50, 0.35, 0.08, 0.07),
}


@dataclass(frozen=True)
class IntentEpisodes:
    """One row per episode, with the application it led to (if any)."""

    person: np.ndarray
    product: np.ndarray  # index into contracts.PRODUCTS
    strength: np.ndarray  # 0..1
    start_day: np.ndarray  # day index; negative when it began before the world
    considering_day: np.ndarray
    end_day: np.ndarray  # last day, inclusive: the conversion day when it converted
    applied: np.ndarray
    application_id: pa.Array  # null when the person never applied
    channel: np.ndarray  # index into APPLICATION_CHANNELS
    amount: np.ndarray  # dollars asked for
    started_us: np.ndarray  # application stage times, NEVER when not reached
    submitted_us: np.ndarray
    decided_us: np.ndarray
    approved: np.ndarray
    converted_us: np.ndarray

    @property
    def size(self) -> int:
        return len(self.person)

    def on_day(self, day: int, persons: int) -> tuple[np.ndarray, np.ndarray]:
        """Per person: the product of their active intent (-1 for none) and its level today."""
        active = (self.start_day <= day) & (day <= self.end_day)
        product = np.full(persons, -1, dtype=np.int64)
        level = np.zeros(persons)
        who = self.person[active]
        product[who] = self.product[active]
        considering = day >= self.considering_day[active]
        level[who] = self.strength[active] * np.where(considering, 1.0, _AWARE_LEVEL)
        return product, level

    def stage_reached(self, by_day: int, by_us: int) -> np.ndarray:
        """Index into JOURNEY_STAGES of how far each episode got by a day (and instant)."""
        return np.select(
            [self.converted_us < by_us, self.started_us < by_us, self.considering_day <= by_day],
            [3, 2, 1],
            0,
        )


def _local_times(
    rng: np.random.Generator,
    config: WorldConfig,
    days: np.ndarray,
    time_zone: np.ndarray,
    hours: np.ndarray,
) -> np.ndarray:
    """A UTC instant on each given day index, at a local hour drawn from ``hours``."""
    unique_days, which = np.unique(days, return_inverse=True)
    offsets = np.stack([utc_offsets_us(config.day(int(d))) for d in unique_days])
    cumulative = np.cumsum(hours)
    hour = np.searchsorted(cumulative, rng.random(len(days)) * cumulative[-1], side="right")
    local = hour * HOUR_US + (rng.random(len(days)) * HOUR_US).astype(np.int64)
    start = (epoch_day(config.start_date) + days) * DAY_US
    return start + (local - offsets[which, time_zone]) % DAY_US


def _draw_episodes(
    population: Population, config: WorldConfig, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Episode (person, product, start, planned length) as a renewal process per person."""
    persons, products, starts, lengths = [], [], [], []
    shares = np.array([p.intent_share for p in PRODUCT_PROFILES])
    low = np.array([p.episode_days[0] for p in PRODUCT_PROFILES])
    high = np.array([p.episode_days[1] for p in PRODUCT_PROFILES])
    who = np.arange(population.size)
    clock = -_LOOKBACK_DAYS + rng.exponential(_MEAN_DAYS_BETWEEN_EPISODES, len(who))
    while True:
        starts_in_world = clock < config.days
        who, clock = who[starts_in_world], clock[starts_in_world]
        if not len(who):
            break
        product = weighted_choice(rng, shares, len(who))
        length = rng.integers(low[product], high[product] + 1)
        persons.append(who)
        products.append(product)
        starts.append(np.floor(clock).astype(np.int64))
        lengths.append(length)
        # Next episode starts strictly after this one ends, so episodes never overlap.
        clock = clock + length + 1 + rng.exponential(_MEAN_DAYS_BETWEEN_EPISODES, len(who))
    person, product, start, length = (
        np.concatenate(x) if x else np.zeros(0, dtype=np.int64)
        for x in (persons, products, starts, lengths)
    )
    keep = start + length - 1 >= 0  # ended before the world began: invisible
    order = np.lexsort((start[keep], person[keep]))
    return person[keep][order], product[keep][order], start[keep][order], length[keep][order]


def plan_intents(population: Population, config: WorldConfig) -> IntentEpisodes:
    rng = stream(config.seed, "intents")
    person, product, start_day, length = _draw_episodes(population, config, rng)
    n = len(person)
    strength = rng.beta(2.0, 2.5, n)
    planned_end = start_day + length - 1
    considering_day = start_day + np.round(_AWARE_SHARE * length).astype(np.int64)

    apply_propensity = np.array([p.apply_propensity for p in PRODUCT_PROFILES])
    applied = rng.random(n) < apply_propensity[product] * strength**1.5
    apply_day = considering_day + (rng.random(n) * (planned_end - considering_day + 1)).astype(
        np.int64
    )

    mortgage = product == 0
    channel = np.where(
        mortgage,
        weighted_choice(rng, np.array(_CHANNEL_SHARES["mortgage"]), n),
        weighted_choice(rng, np.array(_CHANNEL_SHARES["default"]), n),
    )
    in_person = channel >= APPLICATION_CHANNELS.index("branch")
    tz = population.time_zone[person]
    started = np.where(
        in_person,
        _local_times(rng, config, apply_day, tz, BUSINESS_HOURS),
        _local_times(rng, config, apply_day, tz, BROWSING_HOURS),
    )
    low, high, step = (np.array([p.amount[i] for p in PRODUCT_PROFILES]) for i in range(3))
    amount = low[product] + step[product] * rng.integers(
        0, (high - low)[product] // step[product] + 1
    )

    submitted = applied & (rng.random(n) < _SUBMIT_SHARE)
    submit_delay = np.where(mortgage, 5 * DAY_US, 36 * HOUR_US) * rng.random(n) + 5 * MINUTE_US
    decision_low = np.array([p.decision_days[0] for p in PRODUCT_PROFILES])[product]
    decision_high = np.array([p.decision_days[1] for p in PRODUCT_PROFILES])[product]
    decide_delay = (decision_low + rng.random(n) * (decision_high - decision_low)) * DAY_US
    approved = submitted & (rng.random(n) < 0.5 + 0.4 * strength)
    converted = approved & (rng.random(n) < _CONVERT_SHARE)
    convert_delay = 2 * HOUR_US + rng.random(n) * 6 * DAY_US

    submitted_us = started + submit_delay.astype(np.int64)
    decided_us = submitted_us + decide_delay.astype(np.int64)
    converted_us = decided_us + convert_delay.astype(np.int64)
    world_start_us = epoch_day(config.start_date) * DAY_US
    convert_day = (converted_us - world_start_us) // DAY_US

    return IntentEpisodes(
        person=person,
        product=product,
        strength=strength,
        start_day=start_day,
        considering_day=considering_day,
        end_day=np.where(converted, np.minimum(convert_day, planned_end), planned_end),
        applied=applied,
        application_id=pick(hex_ids(rng, n, 12, prefix="APP-"), np.arange(n), valid=applied),
        channel=channel,
        amount=amount,
        started_us=np.where(applied, started, NEVER),
        submitted_us=np.where(submitted, submitted_us, NEVER),
        decided_us=np.where(submitted, decided_us, NEVER),
        approved=approved,
        converted_us=np.where(converted, converted_us, NEVER),
    )


def window_end_us(config: WorldConfig) -> int:
    """The instant the world's last day ends."""
    return epoch_day(config.end_date + timedelta(days=1)) * DAY_US
