"""Hour-of-day habits: when each person is online and when they read each channel's messages.

Everyone has a local hour they like to be on the site or app (``web_hour``) and, per channel, an
hour they usually read its messages (``read_hour``: email, SMS, push), heterogeneous across people
and partly the same as their web hour (``SHARED_WITH_WEB``): the evening browser often reads mail
in the evening too. A message sent near the reading hour is read (and clicked) more: the odds
rise by up to ``HABIT_ODDS`` at the habit against far from it, centred so that a message sent at
a random hour keeps the person's base rate (the propensity table stays the mean response). Many
reads happen at the habit hour itself (``READ_AT_HABIT``), the rest soon after the message comes.
The platform never sees any of this; it must discover the hours from the timing of opens, clicks
and sessions.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from dagster_project.demo.random_streams import stream, weighted_choice

HABIT_ODDS = 1.5  # odds of a read or click sent at the habit hour, over one sent far from it
HABIT_WIDTH_HOURS = 1.5  # how fast the lift falls off with the distance to the habit hour
READ_AT_HABIT = 0.6  # of reads, those that wait for the habit hour (the rest come soon)
READ_JITTER_HOURS = 0.5
SHARED_WITH_WEB = 0.5  # chance a channel's reading hour is (about) the person's web hour
WEB_AT_HABIT = 0.5  # of organic sessions, those at the person's own web hour
WEB_JITTER_HOURS = 1.0

# Relative popularity of each local hour 0..23 as a habit, per reading channel and for the web.
_HOURS = {
    "web": [0.2, 0.1, 0, 0, 0, 0.1, 0.4, 1.0, 1.2, 1.0, 0.8, 0.8,
            1.2, 1.2, 0.8, 0.8, 0.9, 1.2, 1.8, 2.4, 2.6, 2.2, 1.4, 0.6],
    "email": [0, 0, 0, 0, 0, 0, 0.6, 1.8, 2.2, 1.4, 0.8, 0.8,
              1.4, 1.4, 0.8, 0.6, 0.6, 0.9, 1.4, 1.8, 1.8, 1.2, 0.5, 0.1],
    "sms": [0, 0, 0, 0, 0, 0, 0.2, 0.8, 1.0, 1.0, 1.0, 1.2,
            1.8, 1.6, 1.0, 1.0, 1.2, 1.8, 2.0, 1.4, 0.8, 0.4, 0.1, 0],
    "push": [0.1, 0, 0, 0, 0, 0, 0.4, 1.4, 1.4, 0.8, 0.6, 0.6,
             1.2, 1.2, 0.6, 0.6, 0.8, 1.2, 1.6, 2.2, 2.6, 2.4, 1.2, 0.4],
}  # fmt: skip
READING_CHANNELS = ("email", "sms", "push")  # population.AFFINITY_CHANNELS


@dataclass(frozen=True)
class Habits:
    web_hour: np.ndarray  # per person: local hour (float, 0..24) they like to be online
    read_hour: np.ndarray  # (persons, READING_CHANNELS): local hour they read that channel


def _hours(rng: np.random.Generator, table: str, n: int) -> np.ndarray:
    return weighted_choice(rng, np.array(_HOURS[table]), n) + rng.random(n)


def plan_habits(size: int, seed: int) -> Habits:
    """Each person's habits, from their own stream (the rest of the world draws as before)."""
    rng = stream(seed, "population/habits")
    web = _hours(rng, "web", size)
    read = np.empty((size, len(READING_CHANNELS)))
    for c, channel in enumerate(READING_CHANNELS):
        shared = rng.random(size) < SHARED_WITH_WEB
        near_web = (web + rng.normal(0.0, 0.5, size)) % 24
        read[:, c] = np.where(shared, near_web, _hours(rng, channel, size))
    return Habits(web, read)


def hour_distance(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Hours between two local times of day, the short way round the clock (0..12)."""
    d = np.abs(np.asarray(a, float) - np.asarray(b, float)) % 24
    return np.minimum(d, 24 - d)


def _closeness(distance: np.ndarray) -> np.ndarray:
    return np.exp(-0.5 * (distance / HABIT_WIDTH_HOURS) ** 2)


# The mean closeness of a uniformly random send hour, so the lift averages out to nothing.
_MEAN_CLOSENESS = float(_closeness(hour_distance(np.arange(0, 24, 0.25), 0.0)).mean())


def habit_logit(send_hour: np.ndarray, habit_hour: np.ndarray) -> np.ndarray:
    """Logit shift of a read or click of a message sent at local ``send_hour``: log(HABIT_ODDS)
    between the habit hour and far from it, zero on average over the clock."""
    closeness = _closeness(hour_distance(send_hour, habit_hour))
    return np.log(HABIT_ODDS) * (closeness - _MEAN_CLOSENESS)


def read_delay_hours(
    rng: np.random.Generator, send_hour: np.ndarray, habit_hour: np.ndarray, soon: np.ndarray
) -> np.ndarray:
    """How long after the send each read comes: at the next habit hour for ``READ_AT_HABIT`` of
    them, else ``soon`` (hours, drawn by the caller)."""
    n = len(send_hour)
    wait = (habit_hour + rng.normal(0.0, READ_JITTER_HOURS, n) - send_hour) % 24
    return np.where(rng.random(n) < READ_AT_HABIT, wait, soon)
