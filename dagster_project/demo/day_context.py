"""One simulated day as every source sees it: its UTC bounds, local clocks and who wants what.

The world runs on UTC days: everything a source emits for day d is stamped inside that UTC day and
lands in day d's file. People still keep local habits (evening browsing, business-hours calls), so
local times of day are drawn from habit curves and placed on the UTC day through the person's time
zone offset for that date (daylight saving included).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import numpy as np

from dagster_project.demo.formatting import DAY_US, HOUR_US, SECOND_US
from dagster_project.demo.vocabulary import CITIES

TIME_ZONES: tuple[str, ...] = tuple(sorted({city.time_zone for city in CITIES}))


@functools.cache
def city_time_zones() -> np.ndarray:
    """Index into ``TIME_ZONES`` of each city in ``CITIES``."""
    return np.array([TIME_ZONES.index(city.time_zone) for city in CITIES], dtype=np.int64)


def utc_offsets_us(day: date) -> np.ndarray:
    """Each of ``TIME_ZONES``' UTC offset at local noon of ``day``, in microseconds."""
    return np.array(_utc_offsets_us(day), dtype=np.int64)


@functools.cache
def _utc_offsets_us(day: date) -> tuple[int, ...]:
    noon = datetime.combine(day, time(12))
    offsets = [ZoneInfo(name).utcoffset(noon) for name in TIME_ZONES]
    return tuple(int(o.total_seconds()) * SECOND_US for o in offsets)


# Relative activity per local hour 0..23.
BROWSING_HOURS = np.array(
    [0.6, 0.3, 0.2, 0.15, 0.15, 0.3, 0.8, 1.6, 2.4, 2.8, 3.0, 3.2,
     3.8, 3.6, 3.0, 3.0, 3.2, 3.6, 4.4, 5.4, 6.0, 5.4, 3.6, 1.6]
)  # fmt: skip
BUSINESS_HOURS = np.array(
    [0, 0, 0, 0, 0, 0, 0, 0, 2.0, 4.0, 4.5, 4.2,
     3.5, 3.8, 4.0, 3.8, 3.4, 3.0, 2.2, 1.2, 0, 0, 0, 0]
)  # fmt: skip


@dataclass(frozen=True)
class DayContext:
    """What is true of the world on one simulated day, per person where it varies by person."""

    index: int  # days since the world's start date
    date: date
    start_us: int  # UTC midnight opening the day
    utc_offset_us: np.ndarray  # per person, for their time zone on this date
    intent_product: np.ndarray  # per person: product index of their active intent, -1 for none
    intent_level: np.ndarray  # per person: how strongly it drives behaviour today, 0..1
    is_customer: np.ndarray  # per person: holds a CRM record today
    dissatisfaction: np.ndarray  # per person: how unhappy with the bank today, 0..1 (grievances)

    @property
    def end_us(self) -> int:
        return self.start_us + DAY_US

    @property
    def weekday(self) -> int:
        return self.date.weekday()

    def local_times(
        self, rng: np.random.Generator, people: np.ndarray, hours: np.ndarray
    ) -> np.ndarray:
        """A UTC time on this day for each person, at a local hour drawn from ``hours``."""
        cumulative = np.cumsum(hours)
        hour = np.searchsorted(cumulative, rng.random(len(people)) * cumulative[-1], side="right")
        local = (hour * HOUR_US + rng.integers(0, 3600, len(people)) * SECOND_US).astype(np.int64)
        # Wrap rather than spill: a 9pm Los Angeles evening lands early in the same UTC day.
        return self.start_us + (local - self.utc_offset_us[people]) % DAY_US

    def local_hours(self, people: np.ndarray, at_us: np.ndarray) -> np.ndarray:
        """Each person's local time of day (hours, 0..24) at the UTC instants ``at_us``."""
        return ((at_us + self.utc_offset_us[people]) % DAY_US) / HOUR_US

    def at_local_hours(self, people: np.ndarray, hours: np.ndarray) -> np.ndarray:
        """A UTC time on this day for each person at local time of day ``hours`` (0..24)."""
        local = (np.asarray(hours) % 24 * HOUR_US).astype(np.int64)
        return self.start_us + (local - self.utc_offset_us[people]) % DAY_US
