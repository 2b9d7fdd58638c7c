"""Product applications and their outcomes, with the applicant's details as they typed them.

Applications come from intent episodes (see ``intents``): each is typed once when started, and the
same details repeat on every later stage row (submitted, approved or declined, converted), each
stage landing in the file of the day it happened. Applicants who are already customers are usually
recognised and carry their customer id.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from dagster_project.demo.config import WorldConfig
from dagster_project.demo.crm_records import CrmRecords
from dagster_project.demo.day_context import DayContext
from dagster_project.demo.formatting import DAY_US, epoch_day, iso_dates, iso_timestamps, pick
from dagster_project.demo.intents import APPLICATION_CHANNELS, NEVER, IntentEpisodes, window_end_us
from dagster_project.demo.landing_files import APPLICATIONS, DayRows, contract_table
from dagster_project.demo.noise import (
    NoiseTally,
    blank,
    copy_from_household,
    type_names,
    type_phones,
    with_birthday_errors,
)
from dagster_project.demo.population import Population
from dagster_project.demo.random_streams import stream
from dagster_project.ingest.contracts import OUTCOMES_APPLICATIONS
from dagster_project.settings import PRODUCTS

STAGES = next(f.allowed for f in OUTCOMES_APPLICATIONS.fields if f.name == "stage")
_RECOGNISED = 0.9  # applications by customers that carry their customer id
_OLD_EMAIL = 0.1  # applicants who moved email but typed the old one
_HOME_PHONE = 0.1


class ApplicationSource:
    """Renders every in-window application stage once, then hands out one day at a time."""

    def __init__(
        self,
        population: Population,
        records: CrmRecords,
        episodes: IntentEpisodes,
        config: WorldConfig,
        tally: NoiseTally,
    ) -> None:
        rng = stream(config.seed, "applications")
        world_start = epoch_day(config.start_date) * DAY_US
        world_end = window_end_us(config)
        in_world = (episodes.started_us >= world_start) & (episodes.started_us < world_end)
        application = np.flatnonzero(in_world)
        person = episodes.person[application]
        n = len(application)
        day = (episodes.started_us[application] - world_start) // DAY_US

        # Own streams for the register noise, so its rates never shift the other fields' draws.
        copy_rng = stream(config.seed, "applications/household-copy")
        first_name, birth_day = copy_from_household(
            population,
            person,
            copy_rng,
            config,
            tally,
        )
        birth_day = with_birthday_errors(
            birth_day, stream(config.seed, "applications/dob-errors"), config, tally
        )
        names = type_names(first_name, population.last_name[person], rng, config)
        names.tally(tally)
        moved_on = population.has_previous_email[person] & (
            population.email_changed_day[person] <= day
        )
        before_change = population.has_previous_email[person] & ~moved_on
        old = before_change | (moved_on & (rng.random(n) < _OLD_EMAIL))
        email = pc.if_else(
            pa.array(old),
            population.previous_email.take(pa.array(person)),
            population.email.take(pa.array(person)),
        )
        home = population.home_phone[person]
        number = np.where(
            (home > 0) & (rng.random(n) < _HOME_PHONE), home, population.mobile[person]
        )
        recognised = rng.random(n) < _RECOGNISED
        record = np.where(recognised, records.look_up(rng, person, day), -1)
        typed = {
            "application_id": episodes.application_id.take(pa.array(application)),
            "product": pick(pa.array(PRODUCTS), episodes.product[application]),
            "channel": pick(pa.array(APPLICATION_CHANNELS), episodes.channel[application]),
            "customer_id": pick(records.customer_id, np.maximum(record, 0), valid=record >= 0),
            "first_name": names.first,
            "last_name": names.last,
            "email": blank(email, rng, config, tally),
            "phone": type_phones(number, rng, config, tally),
            "date_of_birth": blank(iso_dates(birth_day), rng, config, tally),
            "amount": pa.array(episodes.amount[application].astype(np.float64)),
        }

        # One row per stage reached inside the world.
        decided = np.where(episodes.approved, STAGES.index("approved"), STAGES.index("declined"))
        stages = (
            (np.full(episodes.size, STAGES.index("started")), episodes.started_us),
            (np.full(episodes.size, STAGES.index("submitted")), episodes.submitted_us),
            (decided, episodes.decided_us),
            (np.full(episodes.size, STAGES.index("converted")), episodes.converted_us),
        )
        row_app, row_stage, row_at = [], [], []
        for stage, at in stages:
            reached = (at[application] != NEVER) & (at[application] < world_end)
            row_app.append(np.flatnonzero(reached))
            row_stage.append(stage[application][reached])
            row_at.append(at[application][reached])
        app, stage, at = (np.concatenate(x) for x in (row_app, row_stage, row_at))
        order = np.lexsort((stage, app, at))
        app, stage, at = app[order], stage[order], at[order]

        columns = {name: values.take(pa.array(app)) for name, values in typed.items()}
        columns["event_ts"] = iso_timestamps(at)
        columns["stage"] = pick(pa.array(STAGES), stage)
        self._table = contract_table(APPLICATIONS.contract, columns)
        self._person = person[app]
        self._day_bounds = np.searchsorted(
            (at - world_start) // DAY_US, np.arange(config.days + 1), side="left"
        )

    def day(self, context: DayContext) -> DayRows:
        start, end = self._day_bounds[context.index], self._day_bounds[context.index + 1]
        return DayRows(self._table.slice(start, end - start), self._person[start:end])
