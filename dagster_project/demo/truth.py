"""Ground truth of a demo world, for evaluation code only: the pipeline never reads it.

``persons.parquet`` is who everyone really is; ``record_links.parquet`` says which person each
landing record belongs to (by the record's own id, e.g. a customer id, a call id, a device's
anonymous id, an email address); ``intents.parquet`` lists the intent episodes and how far each
got; ``grievances.parquet`` the stretches of dissatisfaction behind complaints, disengagement and
closures; ``propensities.parquet`` (see ``propensities``) drives the closed loop; ``world.json``
holds the config and the realised noise rates.
"""

from __future__ import annotations

import json
from collections import defaultdict
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from dagster_project.demo.config import WorldConfig
from dagster_project.demo.crm_records import CrmRecords
from dagster_project.demo.day_context import TIME_ZONES
from dagster_project.demo.formatting import concat, digits, epoch_day, null_where, pick
from dagster_project.demo.grievances import Grievances
from dagster_project.demo.intents import (
    APPLICATION_CHANNELS,
    JOURNEY_STAGES,
    NEVER,
    IntentEpisodes,
    window_end_us,
)
from dagster_project.demo.noise import FIRST_NAMES, e164
from dagster_project.demo.population import AFFINITY_CHANNELS, GENDERS, Population
from dagster_project.demo.truth_files import WORLD_FILE
from dagster_project.demo.vocabulary import CITIES, COUNTRY, STREET_NAMES, STREET_SUFFIXES, SURNAMES
from dagster_project.settings import PRODUCTS, DataPaths

_COMPACT_AT = 1_000_000  # pending links before duplicates are squeezed out


def _dates(epoch_days: np.ndarray, valid: np.ndarray | None = None) -> pa.Array:
    days = pa.array(np.asarray(epoch_days, dtype=np.int32), pa.int32())
    dates = days.cast(pa.date32())
    return dates if valid is None else null_where(dates, ~valid)


class RecordLinks:
    """Collects (table, record id, person) as files are written, without duplicates."""

    def __init__(self) -> None:
        self._parts: dict[str, list[pa.Table]] = defaultdict(list)
        self._pending: dict[str, int] = defaultdict(int)

    def add(self, table: str, record_ids: pa.Array, person: np.ndarray) -> None:
        present = ~np.asarray(record_ids.is_null(), dtype=bool)
        part = pa.table(
            {"record_id": record_ids.filter(pa.array(present)), "person": person[present]}
        )
        self._parts[table].append(part)
        self._pending[table] += part.num_rows
        if self._pending[table] > _COMPACT_AT:
            self._compact(table)

    def _compact(self, table: str) -> pa.Table:
        merged = (
            pa.concat_tables(self._parts[table])
            .group_by(["record_id", "person"], use_threads=False)
            .aggregate([])
        )
        self._parts[table] = [merged]
        self._pending[table] = 0
        return merged

    def table(self, person_id: pa.Array) -> pa.Table:
        parts = []
        for name in sorted(self._parts):
            links = self._compact(name)
            parts.append(
                pa.table(
                    {
                        "table": pa.array([name] * links.num_rows, pa.string()),
                        "record_id": links["record_id"],
                        "person_id": person_id.take(links["person"]),
                    }
                )
            )
        if not parts:
            empty = pa.array([], pa.string())
            return pa.table({"table": empty, "record_id": empty, "person_id": empty})
        return pa.concat_tables(parts).sort_by(
            [("table", "ascending"), ("record_id", "ascending"), ("person_id", "ascending")]
        )


def persons_table(population: Population, records: CrmRecords, config: WorldConfig) -> pa.Table:
    start = epoch_day(config.start_date)
    is_customer = records.primary >= 0
    since = np.where(
        population.customer_at_start,
        population.customer_since_day,
        start + records.first_day(records.primary),
    )
    changed = population.has_previous_email
    city = population.city
    return pa.table(
        {
            "person_id": population.person_id,
            "first_name": pick(pa.array(FIRST_NAMES), population.first_name),
            "last_name": pick(pa.array(SURNAMES), population.last_name),
            "gender": pick(pa.array(GENDERS), population.gender),
            "date_of_birth": _dates(population.birth_day),
            "email": population.email,
            "previous_email": population.previous_email,
            "email_changed_on": _dates(
                np.where(changed, start + population.email_changed_day, 0), changed
            ),
            "mobile_phone": e164(population.mobile),
            "home_phone": e164(population.home_phone),
            "street": concat(
                pc.cast(pa.array(population.street_number), pa.string()),
                " ",
                pick(pa.array(STREET_NAMES), population.street_name),
                " ",
                pick(pa.array([full for _, full in STREET_SUFFIXES]), population.street_suffix),
            ),
            "city": pick(pa.array([c.name for c in CITIES]), city),
            "state": pick(pa.array([c.state for c in CITIES]), city),
            "postcode": population.postcode,
            "country": pa.array([COUNTRY] * population.size, pa.string()),
            "household_id": concat("H", digits(population.household + 1, 8)),
            "household_size": pa.array(population.household_size),
            "time_zone": pick(pa.array(TIME_ZONES), population.time_zone),
            # Local hours of day (habits.py): online, and reading each channel's messages.
            "web_hour": pa.array(population.web_hour),
            **{
                f"read_hour_{channel}": pa.array(population.read_hour[:, c])
                for c, channel in enumerate(AFFINITY_CHANNELS)
            },
            "is_crm_customer": pa.array(is_customer),
            "customer_since": _dates(np.where(is_customer, since, 0), is_customer),
            "crm_records": pa.array(np.bincount(records.person, minlength=population.size)),
        }
    )


def intents_table(
    population: Population, episodes: IntentEpisodes, config: WorldConfig
) -> pa.Table:
    start = epoch_day(config.start_date)
    stage = episodes.stage_reached(config.days - 1, window_end_us(config))
    return pa.table(
        {
            "person_id": population.person_id.take(pa.array(episodes.person)),
            "product": pick(pa.array(PRODUCTS), episodes.product),
            "strength": pa.array(episodes.strength),
            "start_day": pa.array(episodes.start_day),
            "considering_day": pa.array(episodes.considering_day),
            "end_day": pa.array(episodes.end_day),
            "start_date": _dates(start + episodes.start_day),
            "end_date": _dates(start + episodes.end_day),
            "applied": pa.array(episodes.applied),
            "application_id": episodes.application_id,
            "application_channel": pick(
                pa.array(APPLICATION_CHANNELS), episodes.channel, valid=episodes.applied
            ),
            "amount": null_where(pa.array(episodes.amount.astype(np.float64)), ~episodes.applied),
            "converted": pa.array(episodes.converted_us != NEVER),
            "stage_at_end": pick(pa.array(JOURNEY_STAGES), stage),
        }
    )


def grievances_table(
    population: Population, grievances: Grievances, config: WorldConfig
) -> pa.Table:
    start = epoch_day(config.start_date)
    return pa.table(
        {
            "person_id": population.person_id.take(pa.array(grievances.person)),
            "start_day": pa.array(grievances.start_day),
            "end_day": pa.array(grievances.end_day),
            "start_date": _dates(start + grievances.start_day),
            "end_date": _dates(start + grievances.end_day),
            "severity": pa.array(grievances.severity),
            "complained": pa.array(grievances.complained),
        }
    )


def write_truth_table(paths: DataPaths, name: str, table: pa.Table) -> None:
    paths.truth.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, paths.truth / name, compression="zstd")


def write_world_json(paths: DataPaths, world: dict[str, Any]) -> None:
    paths.truth.mkdir(parents=True, exist_ok=True)
    text = json.dumps(world, indent=2, sort_keys=True) + "\n"
    (paths.truth / WORLD_FILE).write_text(text, encoding="utf-8")
