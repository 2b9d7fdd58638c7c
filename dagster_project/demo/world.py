"""Generate a demo world: landing files for every source plus the ground truth behind them.

The world is planned up front (people, intent episodes, applications, CRM records, grievances),
then simulated one UTC day at a time; within a day email goes first (its clicks open web sessions),
then web, calls (referrals become advisor notes), applications and finally the CRM, which also
applies the previous day's unsubscribes and conversions and closes products (mostly those of
dissatisfied customers). Memory stays proportional to people, not events.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from dagster_project.demo.applications_source import ApplicationSource
from dagster_project.demo.bad_rows import break_rows
from dagster_project.demo.config import WorldConfig
from dagster_project.demo.contact_centre_source import ContactCentreSource
from dagster_project.demo.crm_records import CrmRecords, plan_crm_records
from dagster_project.demo.crm_source import CrmSource
from dagster_project.demo.day_context import DayContext, utc_offsets_us
from dagster_project.demo.email_source import EmailSource
from dagster_project.demo.formatting import DAY_US, epoch_day
from dagster_project.demo.grievances import Grievances, plan_grievances
from dagster_project.demo.intents import IntentEpisodes, plan_intents
from dagster_project.demo.landing_files import (
    ADVISOR_NOTES,
    APPLICATIONS,
    CALLS,
    CUSTOMERS,
    EMAIL,
    LANDING_FILES,
    PRODUCTS,
    WEB,
    DayRows,
    LandingFile,
    LandingWriter,
    remove_previous_world,
)
from dagster_project.demo.noise import NoiseTally
from dagster_project.demo.population import Population, build_population
from dagster_project.demo.propensities import propensity_table
from dagster_project.demo.random_streams import stream
from dagster_project.demo.truth import (
    RecordLinks,
    grievances_table,
    intents_table,
    persons_table,
    write_truth_table,
    write_world_json,
)
from dagster_project.demo.truth_files import (
    GRIEVANCES_FILE,
    INTENTS_FILE,
    PERSONS_FILE,
    PROPENSITIES_FILE,
    RECORD_LINKS_FILE,
)
from dagster_project.demo.web_source import WebSource
from dagster_project.settings import DataPaths

__all__ = ["WorldConfig", "WorldSummary", "generate_world"]

Progress = Callable[[str, float], None]


@dataclass(frozen=True)
class WorldSummary:
    """What a generated world contains; row counts are keyed by contract name."""

    config: WorldConfig
    landing: Path
    truth: Path
    persons: int
    households: int  # with two or more members
    crm_customers: int  # people with a CRM record by the end
    crm_records: int
    rows: Mapping[str, int]
    bad_rows: Mapping[str, int]
    files: int
    realised_noise: Mapping[str, float]

    @property
    def total_rows(self) -> int:
        return sum(self.rows.values())


class _Landing:
    """Breaks a few rows on purpose, writes each day file and remembers whose rows they were."""

    def __init__(self, writer: LandingWriter, config: WorldConfig, links: RecordLinks) -> None:
        self._writer = writer
        self._config = config
        self._links = links
        self.rows = {spec.name: 0 for spec in LANDING_FILES}
        self.bad_rows = {spec.name: 0 for spec in LANDING_FILES}
        self.files = 0

    def write(self, spec: LandingFile, context: DayContext, rows: DayRows) -> None:
        # A quiet day exports nothing: ingestion treats empty and header-only repeat files as
        # problems needing a human, which a demo should not manufacture.
        if not rows.table.num_rows:
            return
        rng = stream(self._config.seed, f"bad-rows/{spec.name}", context.index)
        table, broken = break_rows(rows.table, spec.defects, rng, self._config.bad_row_rate)
        self._writer.write(spec, context.date, table)
        self._links.add(spec.name, table[spec.record_key].combine_chunks(), rows.person)
        self.rows[spec.name] += table.num_rows
        self.bad_rows[spec.name] += broken
        self.files += 1


def _day_context(
    config: WorldConfig,
    index: int,
    population: Population,
    records: CrmRecords,
    episodes: IntentEpisodes,
    grievances: Grievances,
) -> DayContext:
    day = config.day(index)
    product, level = episodes.on_day(index, population.size)
    return DayContext(
        index=index,
        date=day,
        start_us=epoch_day(day) * DAY_US,
        utc_offset_us=utc_offsets_us(day)[population.time_zone],
        intent_product=product,
        intent_level=level,
        is_customer=records.customers_on(index),
        dissatisfaction=grievances.on_day(index, population.size),
    )


def generate_world(
    paths: DataPaths, config: WorldConfig, progress: Progress | None = None
) -> WorldSummary:
    """Write a world's landing files under ``paths.landing`` and its truth under ``paths.truth``.

    Day files an earlier world left in the same landing folders are removed first. ``progress``
    is called with a stage description and the fraction of the work done.
    """
    report = progress or (lambda stage, fraction: None)
    steps = config.days + 2
    report("planning people, intents and CRM records", 0.0)
    population = build_population(config)
    episodes = plan_intents(population, config)
    records = plan_crm_records(population, episodes, config)
    grievances = plan_grievances(population, records, config)
    tally = NoiseTally()
    crm = CrmSource(population, records, episodes, grievances, config, tally)
    email = EmailSource(population, config.seed)
    web = WebSource(population, records, config.seed)
    calls = ContactCentreSource(population, records, grievances, config, tally)
    applications = ApplicationSource(population, records, episodes, config, tally)
    report("planning people, intents and CRM records", 1 / steps)

    remove_previous_world(paths.landing)
    links = RecordLinks()
    unsubscribed = np.zeros(0, dtype=np.int64)
    with LandingWriter(paths.landing) as writer:
        landing = _Landing(writer, config, links)
        for index in range(config.days):
            context = _day_context(config, index, population, records, episodes, grievances)
            report(f"simulating {context.date.isoformat()}", (1 + index) / steps)
            email_day = email.day(context)
            landing.write(EMAIL, context, email_day.events)
            landing.write(WEB, context, web.day(context, email_day.clicks))
            calls_day = calls.day(context)
            landing.write(CALLS, context, calls_day.calls)
            landing.write(APPLICATIONS, context, applications.day(context))
            crm_day = crm.day(context, unsubscribed, calls_day.referrals)
            landing.write(CUSTOMERS, context, crm_day.customers)
            landing.write(PRODUCTS, context, crm_day.products)
            landing.write(ADVISOR_NOTES, context, crm_day.advisor_notes)
            unsubscribed = email_day.unsubscribed

    report("writing ground truth", (steps - 1) / steps)
    summary = WorldSummary(
        config=config,
        landing=paths.landing,
        truth=paths.truth,
        persons=population.size,
        households=int(np.count_nonzero(np.bincount(population.household) > 1)),
        crm_customers=int(np.count_nonzero(records.primary >= 0)),
        crm_records=records.size,
        rows=dict(landing.rows),
        bad_rows=dict(landing.bad_rows),
        files=landing.files,
        realised_noise=_realised_noise(population, records, tally, landing),
    )
    write_truth_table(paths, PERSONS_FILE, persons_table(population, records, config))
    write_truth_table(paths, RECORD_LINKS_FILE, links.table(population.person_id))
    write_truth_table(paths, INTENTS_FILE, intents_table(population, episodes, config))
    write_truth_table(paths, GRIEVANCES_FILE, grievances_table(population, grievances, config))
    write_truth_table(paths, PROPENSITIES_FILE, propensity_table(population, episodes))
    write_world_json(paths, _world_json(summary))
    report("done", 1.0)
    return summary


def _realised_noise(
    population: Population, records: CrmRecords, tally: NoiseTally, landing: _Landing
) -> dict[str, float]:
    realised = tally.rates()
    start_customers = np.count_nonzero(population.customer_at_start)
    duplicates = np.count_nonzero(records.duplicate)
    total_rows = sum(landing.rows.values())
    realised |= {
        "changed_email_rate": float(np.mean(population.has_previous_email)),
        "duplicate_customer_rate": float(duplicates / max(start_customers, 1)),
        "bad_row_rate": sum(landing.bad_rows.values()) / max(total_rows, 1),
        "household_share": float(np.mean(population.household_size > 1)),
        "crm_customer_share": float(start_customers / population.size),
    }
    return {name: round(value, 6) for name, value in sorted(realised.items())}


def _world_json(summary: WorldSummary) -> dict[str, Any]:
    return {
        "config": summary.config.to_json(),
        "persons": summary.persons,
        "households": summary.households,
        "crm_customers": summary.crm_customers,
        "crm_records": summary.crm_records,
        "landing_files": summary.files,
        "rows": dict(summary.rows),
        "bad_rows": dict(summary.bad_rows),
        "realised_noise": dict(summary.realised_noise),
    }
