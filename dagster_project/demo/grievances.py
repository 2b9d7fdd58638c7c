"""Latent dissatisfaction: the hidden reason customers complain, drift away and close products.

A grievance is a stretch of weeks in which a customer is unhappy with the bank: a fee they did not
expect, a card declined abroad, a long wait in branch. The more severe ones usually begin with a
complaint call; many mild ones never reach the contact centre. While one lasts the customer may
complain again, stays off the site and app, ignores the bank's email, moves money out and is far
more likely to close a product; it holds for a while, then fades. Some people are aggrieved far more easily than others,
so past complaints hint at future ones, and new customers most easily of all. Only customers have
grievances (a prospect has nothing to be unhappy with yet), a customer has at most one at a time,
and grievances may have begun before the world's first day, so day one is not a cold start.

Nothing here is observable: the sources turn a customer's dissatisfaction of the day
(``on_day``) into complaint calls, fewer visits and reads, falling balances and closures, each
with its own noise.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from dagster_project.demo.config import WorldConfig
from dagster_project.demo.crm_records import CrmRecords
from dagster_project.demo.formatting import epoch_day
from dagster_project.demo.population import Population
from dagster_project.demo.random_streams import stream

_MEAN_DAYS_BETWEEN_GRIEVANCES = 300.0  # for a customer of average proneness
_PRONENESS_SIGMA = 0.9  # spread of how easily people are aggrieved (lognormal, mean 1)
_LOOKBACK_DAYS = 160  # grievances already under way when the world starts
_GRIEVANCE_DAYS = (40, 160)  # how long one lasts: it holds for half of this, then fades
_SEVERITY = (0.4, 1.0)
_SWITCHING_DAYS = 14  # finding another bank takes time: the urge to leave builds over these
_COMPLAINS = 0.5  # chance a grievance of severity 1 begins with a complaint call (severity²)
# New customers are far quicker to be disappointed than those who have stayed for years: extra
# proneness (relative) at tenure 0, halving every half life.
_NEW_CUSTOMER_PRONENESS = 2.0
_NEW_CUSTOMER_HALF_LIFE_DAYS = 500.0


@dataclass(frozen=True)
class Grievances:
    """One row per grievance, ordered by person and start."""

    person: np.ndarray
    start_day: np.ndarray  # day index; negative when it began before the world
    end_day: np.ndarray  # last day, inclusive
    severity: np.ndarray  # dissatisfaction while it holds, 0..1
    complained: np.ndarray  # began with a complaint call (the more severe, the likelier)

    @property
    def size(self) -> int:
        return len(self.person)

    def on_day(self, day: int, persons: int) -> np.ndarray:
        """Per person: how dissatisfied they are on ``day``, 0 (content) to 1."""
        return self._per_person(day, persons, ramp_days=1)

    def urge_to_leave(self, day: int, persons: int) -> np.ndarray:
        """Per person: how ready they are to close a product on ``day``, 0 to 1: their
        dissatisfaction, held back in a grievance's first days while they look elsewhere, and
        squared, so a mild grievance rarely ends in a closure."""
        return self._per_person(day, persons, ramp_days=_SWITCHING_DAYS) ** 2

    def _per_person(self, day: int, persons: int, ramp_days: int) -> np.ndarray:
        active = (self.start_day <= day) & (day <= self.end_day)
        since_start = day - self.start_day[active]
        length = self.end_day[active] - self.start_day[active] + 1
        fading = np.minimum(1.0, 2.0 * (1.0 - since_start / length))
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
    join_day = records.first_day(records.primary)
    who = np.flatnonzero(join_day < config.days)
    world_start = epoch_day(config.start_date)
    tenure = np.where(population.customer_at_start, world_start - population.customer_since_day, 0)
    novelty = 1.0 + _NEW_CUSTOMER_PRONENESS * 0.5 ** (tenure / _NEW_CUSTOMER_HALF_LIFE_DAYS)
    proneness = novelty * rng.lognormal(0.0, _PRONENESS_SIGMA, n)
    proneness /= proneness[who].mean() if len(who) else 1.0
    mean_gap = _MEAN_DAYS_BETWEEN_GRIEVANCES / proneness
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
    severity = rng.uniform(*_SEVERITY, len(person))
    return Grievances(
        person=person,
        start_day=start,
        end_day=start + length - 1,
        severity=severity,
        complained=rng.random(len(person)) < _COMPLAINS * severity**2,
    )
