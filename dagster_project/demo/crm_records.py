"""Which CRM records exist, whose they are, and from which day.

About ``crm_customer_share`` of people are customers when the world starts; prospects whose
application converts become customers the day after. A few customers were entered twice (a second
branch, a second channel) and own a duplicate record that identity resolution must merge.
Every source that knows a customer id (verified calls, logins, applications) asks this registry.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from dagster_project.demo.config import WorldConfig
from dagster_project.demo.formatting import DAY_US, concat, digits, epoch_day
from dagster_project.demo.intents import NEVER, IntentEpisodes
from dagster_project.demo.population import NO_DAY, Population
from dagster_project.demo.random_streams import stream

# How often a person with two records is looked up under the duplicate instead of the original.
DUPLICATE_RECORD_USE = 0.3
_MEAN_DAYS_TO_WALK_IN = 400.0


@dataclass(frozen=True)
class CrmRecords:
    """One row per CRM customer record, plus each person's records."""

    person: np.ndarray
    duplicate: np.ndarray  # the person's second record
    from_day: np.ndarray  # day index the record first appears; 0 = in the snapshot
    customer_id: pa.Array
    primary: np.ndarray  # per person: index of their original record, -1 for none
    second: np.ndarray  # per person: index of their duplicate record, -1 for none

    @property
    def size(self) -> int:
        return len(self.person)

    def first_day(self, record: np.ndarray) -> np.ndarray:
        """The day each record appears; -1 (no record) reads as never."""
        return np.append(self.from_day, NO_DAY)[record]

    def customers_on(self, day: int) -> np.ndarray:
        """Per person: holds a CRM record on ``day``."""
        return self.first_day(self.primary) <= day

    def look_up(
        self, rng: np.random.Generator, people: np.ndarray, day: int | np.ndarray
    ) -> np.ndarray:
        """The record a system finds for each person on ``day`` (per person if an array):
        -1 when they are not a customer then."""
        second = self.second[people]
        use_second = (second >= 0) & (rng.random(len(people)) < DUPLICATE_RECORD_USE)
        record = np.where(use_second, second, self.primary[people])
        return np.where(self.first_day(record) <= day, record, -1)


def plan_crm_records(
    population: Population, episodes: IntentEpisodes, config: WorldConfig
) -> CrmRecords:
    rng = stream(config.seed, "crm-records")
    n = population.size

    # A prospect becomes a customer the day after their first conversion, or when they walk
    # into a branch and open an account.
    walk_in = 1 + np.floor(rng.exponential(_MEAN_DAYS_TO_WALK_IN, n)).astype(np.int64)
    join_day = np.where(population.customer_at_start, 0, walk_in)
    conversion_day = (episodes.converted_us - epoch_day(config.start_date) * DAY_US) // DAY_US
    in_world = (episodes.converted_us != NEVER) & (conversion_day >= 0)
    np.minimum.at(join_day, episodes.person[in_world], conversion_day[in_world] + 1)
    has_record = join_day < config.days
    doubled = population.customer_at_start & (rng.random(n) < config.duplicate_customer_rate)

    owners = np.concatenate([np.flatnonzero(has_record), np.flatnonzero(doubled)])
    duplicate = np.concatenate(
        [np.zeros(has_record.sum(), dtype=bool), np.ones(doubled.sum(), dtype=bool)]
    )
    from_day = np.concatenate([join_day[has_record], np.zeros(doubled.sum(), dtype=np.int64)])
    order = np.lexsort((duplicate, owners, from_day))
    owners, duplicate, from_day = owners[order], duplicate[order], from_day[order]

    # Snapshot records carry scrambled numbers; later records count up from there, as in a CRM.
    in_snapshot = int(np.count_nonzero(from_day == 0))
    number = np.concatenate([rng.permutation(in_snapshot), np.arange(in_snapshot, len(owners))]) + 1
    primary = np.full(n, -1, dtype=np.int64)
    second = np.full(n, -1, dtype=np.int64)
    primary[owners[~duplicate]] = np.flatnonzero(~duplicate)
    second[owners[duplicate]] = np.flatnonzero(duplicate)
    return CrmRecords(
        person=owners,
        duplicate=duplicate,
        from_day=from_day,
        customer_id=concat("C", digits(number, 8)),
        primary=primary,
        second=second,
    )
