"""Latent dissatisfaction: the hidden reason customers complain, drift away and close products.

A grievance is a stretch of days in which a customer is unhappy with the bank: a fee they did not
expect, a card declined abroad, a long wait in branch. Most begin with a complaint call. While one
lasts the customer may complain again, logs in and reads the bank's email less, and is far more
likely to close a product; it fades over some weeks. Some people are aggrieved far more easily
than others, so past complaints hint at future ones. Only customers have grievances (a prospect
has nothing to be unhappy with yet), a customer has at most one at a time, and grievances may have
begun before the world's first day, so day one is not a cold start.

Nothing here is observable: the sources turn a customer's dissatisfaction of the day
(``on_day``) into complaint calls, fewer visits and opens, and closures, each with its own noise.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from dagster_project.demo.config import WorldConfig
from dagster_project.demo.crm_records import CrmRecords
from dagster_project.demo.population import Population
from dagster_project.demo.random_streams import stream

_MEAN_DAYS_BETWEEN_GRIEVANCES = 900.0  # for a customer of average proneness
_PRONENESS_SIGMA = 0.9  # spread of how easily people are aggrieved (lognormal, mean 1)
_LOOKBACK_DAYS = 60  # grievances already under way when the world starts
_GRIEVANCE_DAYS = (21, 70)  # how long one lasts before it has faded completely
_SEVERITY = (0.4, 1.0)
_COMPLAINS_AT_START = 0.8  # share of grievances that begin with a complaint call
_SWITCHING_DAYS = 10  # finding another bank takes time: the urge to leave builds over these


@dataclass(frozen=True)
class Grievances:
    """One row per grievance, ordered by person and start."""

    person: np.ndarray
    start_day: np.ndarray  # day index; negative when it began before the world
    end_day: np.ndarray  # last day, inclusive
    severity: np.ndarray  # dissatisfaction on the first day, 0..1; it fades linearly to 0
    complained: np.ndarray  # began with a complaint call on its first day

    @property
    def size(self) -> int:
        return len(self.person)

    def on_day(self, day: int, persons: int) -> np.ndarray:
        """Per person: how dissatisfied they are on ``day``, 0 (content) to 1."""
        return self._per_person(day, persons, ramp_days=1)

    def urge_to_leave(self, day: int, persons: int) -> np.ndarray:
        """Per person: how ready they are to close a product on ``day``, 0 to 1: their
        dissatisfaction, held back in a grievance's first days while they look elsewhere."""
        return self._per_person(day, persons, ramp_days=_SWITCHING_DAYS)

    def _per_person(self, day: int, persons: int, ramp_days: int) -> np.ndarray:
        active = (self.start_day <= day) & (day <= self.end_day)
        since_start = day - self.start_day[active]
        length = self.end_day[active] - self.start_day[active] + 1
        fading = 1.0 - since_start / length
        ramp = np.minimum(1.0, (since_start + 1) / ramp_days)
        level = np.zeros(persons)
        level[self.person[active]] = self.severity[active] * fading * ramp
        return level

    def complaining_on(self, day: int) -> np.ndarray:
        """The people whose grievance begins on ``day`` with a complaint call."""
        return self.person[(self.start_day == day) & self.complained]


def plan_grievances(population: Population, records: CrmRecords, config: WorldConfig) -> Grievances:
    """A renewal process per customer, from the lookback (or the day they join) to the end."""
    rng = stream(config.seed, "grievances")
    n = population.size
    proneness = rng.lognormal(0.0, _PRONENESS_SIGMA, n) / np.exp(_PRONENESS_SIGMA**2 / 2)
    mean_gap = _MEAN_DAYS_BETWEEN_GRIEVANCES / proneness
    join_day = records.first_day(records.primary)
    who = np.flatnonzero(join_day < config.days)
    origin = np.where(join_day[who] == 0, -_LOOKBACK_DAYS, join_day[who])
    clock = origin + rng.exponential(mean_gap[who])
    persons, starts, lengths = [], [], []
    while True:
        in_world = clock < config.days
        who, clock = who[in_world], clock[in_world]
        if not len(who):
            break
        length = rng.integers(_GRIEVANCE_DAYS[0], _GRIEVANCE_DAYS[1] + 1, len(who))
        persons.append(who)
        starts.append(np.floor(clock).astype(np.int64))
        lengths.append(length)
        clock = clock + length + rng.exponential(mean_gap[who])
    person, start, length = (
        np.concatenate(x) if x else np.zeros(0, dtype=np.int64) for x in (persons, starts, lengths)
    )
    keep = start + length - 1 >= 0  # faded before the world began: invisible
    order = np.lexsort((start[keep], person[keep]))
    person, start, length = person[keep][order], start[keep][order], length[keep][order]
    count = len(person)
    return Grievances(
        person=person,
        start_day=start,
        end_day=start + length - 1,
        severity=rng.uniform(*_SEVERITY, count),
        complained=rng.random(count) < _COMPLAINS_AT_START,
    )
