"""The CRM: customer records, product holdings and advisor notes.

Day one delivers a full snapshot; every later day delivers only what changed that day, each
changed record in full with its new ``updated_at``: email changes, consent flips (random ones and
those following an email unsubscribe), new customers (walk-ins and converted prospects), products
opened and closed, and each holding's monthly statement with its new balance. A few closures are
random (a move, a loan paid off); most follow a grievance: the more dissatisfied a customer is
that day, the likelier they close a product. Dissatisfied customers also move money out first:
their current account and savings balances fall and their card goes quiet.
A record's typed values (names, phone, address) are fixed when it is created; a delta repeats
them verbatim, the way a real CRM export would.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from dagster_project.demo.config import WorldConfig
from dagster_project.demo.crm_records import CrmRecords
from dagster_project.demo.day_context import BUSINESS_HOURS, TIME_ZONES, DayContext
from dagster_project.demo.formatting import (
    DAY_US,
    HOUR_US,
    MINUTE_US,
    SECOND_US,
    concat,
    digits,
    epoch_day,
    fill_templates,
    iso_dates,
    iso_timestamps,
    null_where,
    pick,
    thousands,
)
from dagster_project.demo.grievances import Grievances
from dagster_project.demo.intents import IntentEpisodes
from dagster_project.demo.landing_files import (
    ADVISOR_NOTES,
    CUSTOMERS,
    PRODUCTS,
    DayRows,
    contract_table,
)
from dagster_project.demo.noise import (
    NoiseTally,
    blank,
    copy_from_household,
    type_names,
    type_phones,
    with_birthday_errors,
)
from dagster_project.demo.population import GENDERS, NO_DAY, Population
from dagster_project.demo.product_catalogue import (
    CURRENT_ACCOUNT_BALANCE_MEDIAN,
    CURRENT_ACCOUNT_SHARE,
    PRODUCT_PROFILES,
)
from dagster_project.demo.random_streams import hex_ids, stream
from dagster_project.demo.vocabulary import CITIES, COUNTRY, STREET_NAMES, STREET_SUFFIXES
from dagster_project.settings import CONSENT_CHANNELS, HELD_PRODUCTS

# A duplicate record was typed by someone else, somewhere else, usually in a hurry.
_DUPLICATE_NOISE = 3.0
_DUPLICATE_ELSEWHERE = 0.6
_DUPLICATE_CONSENT_DRIFT = 0.2
_HOME_PHONE_ON_RECORD = 0.25
_STREET_SUFFIX_SPELLED_OUT = 0.3
_CONSENT_FLIPS_PER_DAY = 0.0015
# Per open holding and day: closures whatever the customer feels, and on top of those the closures
# of a fully dissatisfied customer. Together about 0.0002 per holding and day.
_CLOSURES_PER_DAY = 0.00002
_DISSATISFIED_CLOSURES_PER_DAY = 0.003
# Balances move once a month, on the day each holding was opened: deposits drift, cards swing with
# spending, loans amortise, insurance has no balance to speak of. A fully dissatisfied customer
# moves this share of their deposits (and of their card spending) elsewhere each month.
_STATEMENT_DAYS = 30
_DEPOSIT_DRIFT = (0.005, 0.2)  # monthly log change: mean, spread
_CARD_SWING = 0.35
_MONTHLY_REPAYMENT = {"mortgage": 0.004, "personal_loan": 0.03}
_DISSATISFIED_MOVES_OUT = 0.35
_REVIEW_NOTES_PER_DAY = 0.0003
_CLOSED_BEFORE_START = 0.05
_DUPLICATE_HOLDS = 0.3  # share of a doubled customer's holdings booked on the duplicate
_REVIEW_NOTES = (
    "Annual review completed, no new needs identified.",
    "Updated contact preferences at the customer's request.",
    "Customer asked about branch opening hours.",
    "Discussed online banking security and card controls.",
)
_HOLDING_SHARES = np.array([p.holding_share for p in PRODUCT_PROFILES] + [CURRENT_ACCOUNT_SHARE])
_BALANCE_MEDIANS = np.array(
    [p.balance_median for p in PRODUCT_PROFILES] + [CURRENT_ACCOUNT_BALANCE_MEDIAN]
)
_CURRENT_ACCOUNT = HELD_PRODUCTS.index("current_account")
_DEPOSITS = np.isin(HELD_PRODUCTS, ("current_account", "savings"))
_CARDS = np.isin(HELD_PRODUCTS, ("credit_card",))
_REPAID = np.array([_MONTHLY_REPAYMENT.get(p, 0.0) for p in HELD_PRODUCTS])
_NO_STATEMENT = np.isin(HELD_PRODUCTS, ("insurance",))


@dataclass(frozen=True)
class AdvisorReferrals:
    """Conversations the contact centre passed on to the customer's advisor."""

    record: np.ndarray
    product: np.ndarray  # index into contracts.PRODUCTS, -1 for a servicing matter
    at_us: np.ndarray
    amount: np.ndarray


@dataclass(frozen=True)
class CrmDay:
    customers: DayRows
    products: DayRows
    advisor_notes: DayRows


def _batch_times(rng: np.random.Generator, n: int, context: DayContext) -> np.ndarray:
    """When the nightly CRM batch touched a record: early in the UTC day."""
    return context.start_us + 2 * HOUR_US + (rng.random(n) * 4 * HOUR_US).astype(np.int64)


class _Holdings:
    """Product holdings, growing as customers open and close products."""

    def __init__(self) -> None:
        self.record = np.zeros(0, dtype=np.int64)
        self.product = np.zeros(0, dtype=np.int64)
        self.opened_day = np.zeros(0, dtype=np.int64)  # epoch days
        self.closed_day = np.zeros(0, dtype=np.int64)
        self.balance = np.zeros(0)
        self.updated_us = np.zeros(0, dtype=np.int64)

    def add(
        self,
        record: np.ndarray,
        product: np.ndarray,
        opened_day: np.ndarray,
        closed_day: np.ndarray,
        balance: np.ndarray,
        updated_us: np.ndarray,
    ) -> None:
        self.record = np.concatenate([self.record, record])
        self.product = np.concatenate([self.product, product])
        self.opened_day = np.concatenate([self.opened_day, opened_day])
        self.closed_day = np.concatenate([self.closed_day, closed_day])
        self.balance = np.concatenate([self.balance, balance])
        self.updated_us = np.concatenate([self.updated_us, updated_us])


class CrmSource:
    def __init__(
        self,
        population: Population,
        records: CrmRecords,
        episodes: IntentEpisodes,
        grievances: Grievances,
        config: WorldConfig,
        tally: NoiseTally,
    ) -> None:
        self._population = population
        self._records = records
        self._episodes = episodes
        self._grievances = grievances
        self._config = config
        rng = stream(config.seed, "crm")
        self._static, since_day = self._typed_records(rng, tally)
        self._init_state(rng, tally, since_day)
        self._holdings = _Holdings()
        self._open_snapshot_holdings(rng)

    # ----------------------------------------------------------------------- record creation

    def _typed_records(
        self, rng: np.random.Generator, tally: NoiseTally
    ) -> tuple[dict[str, pa.Array], np.ndarray]:
        """The values each record was created with (deltas repeat them verbatim), and the epoch
        day each record's customer relationship began."""
        population, records, config = self._population, self._records, self._config
        person, duplicate = records.person, records.duplicate
        n = records.size
        start = epoch_day(config.start_date)

        intensity = np.where(duplicate, _DUPLICATE_NOISE, 1.0)
        # Own streams for the register noise, so its rates never shift the other fields' draws.
        copy_rng = stream(config.seed, "crm/household-copy")
        first_name, birth_day = copy_from_household(
            population,
            person,
            copy_rng,
            config,
            tally,
            intensity=intensity,
        )
        birth_day = with_birthday_errors(
            birth_day, stream(config.seed, "crm/dob-errors"), config, tally, intensity
        )
        names = type_names(
            first_name, population.last_name[person], rng, config, intensity=intensity
        )
        names.tally(tally)
        home = population.home_phone[person]
        home_share = np.where(duplicate, 0.5, _HOME_PHONE_ON_RECORD)
        use_home = (home > 0) & (rng.random(n) < home_share)
        phone = type_phones(np.where(use_home, home, population.mobile[person]), rng, config, tally)

        suffixes = pa.array([s[0] for s in STREET_SUFFIXES] + [s[1] for s in STREET_SUFFIXES])
        spelled_out = rng.random(n) < _STREET_SUFFIX_SPELLED_OUT
        suffix = population.street_suffix[person] + spelled_out * len(STREET_SUFFIXES)
        city = population.city[person]

        n_branches = int(population.branch.max()) + 1
        elsewhere = duplicate & (rng.random(n) < _DUPLICATE_ELSEWHERE)
        branch = np.where(elsewhere, rng.integers(0, n_branches, n), population.branch[person])
        advisor = np.where(
            elsewhere, branch * 3 + rng.integers(0, 3, n), population.advisor[person]
        )

        since = np.where(
            records.from_day > 0, start + records.from_day, population.customer_since_day[person]
        )
        since = np.where(
            duplicate, since + (rng.random(n) * (start - since)).astype(np.int64), since
        )
        columns = {
            "customer_id": records.customer_id,
            "first_name": names.first,
            "last_name": names.last,
            "phone": phone,
            "street": concat(
                pc.cast(pa.array(population.street_number[person]), pa.string()),
                " ",
                pick(pa.array(STREET_NAMES), population.street_name[person]),
                " ",
                pick(suffixes, suffix),
            ),
            "city": pick(pa.array([c.name for c in CITIES]), city),
            "state": pick(pa.array([c.state for c in CITIES]), city),
            "postcode": population.postcode.take(pa.array(person)),
            "country": pa.array([COUNTRY] * n, pa.string()),
            "date_of_birth": blank(iso_dates(birth_day), rng, config, tally),
            "gender": pick(pa.array(GENDERS), population.gender[person]),
            "time_zone": pick(pa.array(TIME_ZONES), population.time_zone[person]),
            "branch_id": concat("BR", digits(branch + 1, 3)),
            "advisor_id": concat("ADV", digits(advisor + 1, 4)),
            "customer_since": iso_dates(since),
            "do_not_contact": pa.array(population.do_not_contact[person]),
        }
        return columns, since

    def _init_state(
        self, rng: np.random.Generator, tally: NoiseTally, since_day: np.ndarray
    ) -> None:
        """What a record says now: its email address, consents and last update."""
        population, records, config = self._population, self._records, self._config
        person, duplicate, from_day = records.person, records.duplicate, records.from_day
        n = records.size
        start = epoch_day(config.start_date)
        has_previous = population.has_previous_email[person]

        # A duplicate is a stale record: it keeps the old address, or has none.
        changed_by_creation = population.email_changed_day[person] <= from_day
        self._uses_new_email = np.where(
            duplicate, ~has_previous, ~has_previous | changed_by_creation
        )
        missing = rng.random(n) < config.missing_field_rate
        tally.observe("missing_field_rate", missing)
        self._email_missing = missing | (duplicate & ~has_previous & (rng.random(n) < 0.5))

        consents = population.consents[person].copy()
        drift = duplicate[:, None] & (rng.random(consents.shape) < _DUPLICATE_CONSENT_DRIFT)
        self._consent = consents ^ drift
        set_day = population.consent_since_day[person]
        seconds = rng.integers(8 * 3600, 20 * 3600, consents.shape) * SECOND_US
        created_us = (
            (start + from_day) * DAY_US + 2 * HOUR_US + rng.integers(0, 4 * 3600, n) * SECOND_US
        )
        later = from_day > 0
        self._consent_at = np.where(later[:, None], created_us[:, None], set_day * DAY_US + seconds)

        # Snapshot records were last touched some time between their last known change and now.
        self._since_day = since_day
        last_change = np.maximum(since_day, set_day.max(axis=1))
        touched_day = last_change + (rng.random(n) * (start - last_change)).astype(np.int64)
        touched_us = touched_day * DAY_US + rng.integers(8 * 3600, 20 * 3600, n) * SECOND_US
        touched_us = np.maximum(touched_us, self._consent_at.max(axis=1) + MINUTE_US)
        self._updated_at = np.where(later, created_us, np.minimum(touched_us, start * DAY_US - 1))

    def _open_snapshot_holdings(self, rng: np.random.Generator) -> None:
        records, config = self._records, self._config
        start = epoch_day(config.start_date)
        customers = np.flatnonzero(self._records.customers_on(0))
        held = rng.random((len(customers), len(HELD_PRODUCTS))) < _HOLDING_SHARES
        who, product = np.nonzero(held)
        person = customers[who]
        second = records.second[person]
        on_second = (second >= 0) & (rng.random(len(person)) < _DUPLICATE_HOLDS)
        record = np.where(on_second, second, records.primary[person])
        since = self._since_day[records.primary[person]]
        opened = since + (rng.random(len(person)) * (start - since)).astype(np.int64)
        closed = rng.random(len(person)) < _CLOSED_BEFORE_START
        closed_day = np.where(
            closed, opened + (rng.random(len(person)) * (start - opened)).astype(np.int64), NO_DAY
        )
        balance = np.round(rng.lognormal(np.log(_BALANCE_MEDIANS[product]), 0.9), 2)
        last = np.where(closed, closed_day, opened)
        updated = last * DAY_US + rng.integers(8 * 3600, 20 * 3600, len(person)) * SECOND_US
        order = np.lexsort((product, record, opened))
        self._holdings.add(
            record[order],
            product[order],
            opened[order],
            closed_day[order],
            np.where(closed, 0.0, balance)[order],
            np.minimum(updated, start * DAY_US - 1)[order],
        )

    # ------------------------------------------------------------------------------- tables

    def _customer_rows(self, rows: np.ndarray) -> DayRows:
        rows = rows[np.lexsort((rows, self._updated_at[rows]))]
        person = self._records.person[rows]
        index = pa.array(rows)
        columns = {name: values.take(index) for name, values in self._static.items()}
        population = self._population
        email = pc.if_else(
            pa.array(self._uses_new_email[rows]),
            population.email.take(pa.array(person)),
            population.previous_email.take(pa.array(person)),
        )
        columns["email"] = null_where(email, self._email_missing[rows])
        for i, channel in enumerate(CONSENT_CHANNELS):
            columns[f"consent_{channel}"] = pa.array(self._consent[rows, i])
            columns[f"consent_{channel}_at"] = iso_timestamps(self._consent_at[rows, i])
        columns["updated_at"] = iso_timestamps(self._updated_at[rows])
        return DayRows(contract_table(CUSTOMERS.contract, columns), person)

    def _product_rows(self, rows: np.ndarray) -> DayRows:
        holdings = self._holdings
        rows = rows[np.lexsort((rows, holdings.updated_us[rows]))]
        record = holdings.record[rows]
        closed = holdings.closed_day[rows]
        open_ = closed == NO_DAY
        columns = {
            "holding_id": concat("H", digits(rows + 1, 9)),
            "customer_id": self._records.customer_id.take(pa.array(record)),
            "product": pick(pa.array(HELD_PRODUCTS), holdings.product[rows]),
            "opened_at": iso_dates(holdings.opened_day[rows]),
            "closed_at": null_where(iso_dates(np.where(open_, 0, closed)), open_),
            "balance": pa.array(holdings.balance[rows]),
            "updated_at": iso_timestamps(holdings.updated_us[rows]),
        }
        return DayRows(contract_table(PRODUCTS.contract, columns), self._records.person[record])

    def _note_rows(
        self, rng: np.random.Generator, record: np.ndarray, at_us: np.ndarray, note: pa.Array
    ) -> DayRows:
        order = np.lexsort((record, at_us))
        record, at_us, note = record[order], at_us[order], note.take(pa.array(order))
        columns = {
            "note_id": hex_ids(rng, len(record), 12, prefix="NOTE-"),
            "customer_id": self._records.customer_id.take(pa.array(record)),
            "advisor_id": self._static["advisor_id"].take(pa.array(record)),
            "created_at": iso_timestamps(at_us),
            "note": note,
        }
        return DayRows(
            contract_table(ADVISOR_NOTES.contract, columns), self._records.person[record]
        )

    # ---------------------------------------------------------------------------------- days

    def day(
        self, context: DayContext, unsubscribed: np.ndarray, referrals: AdvisorReferrals
    ) -> CrmDay:
        """The CRM's files for one day; ``unsubscribed`` are yesterday's email opt-outs."""
        rng = stream(self._config.seed, "crm", context.index)
        if context.index == 0:
            customers = np.flatnonzero(self._records.from_day == 0)
            holdings = np.arange(len(self._holdings.record))
        else:
            customers = self._change_records(rng, context, unsubscribed)
            holdings = self._change_holdings(rng, context)
        return CrmDay(
            customers=self._customer_rows(customers),
            products=self._product_rows(holdings),
            advisor_notes=self._advisor_notes(rng, context, referrals),
        )

    def _change_records(
        self, rng: np.random.Generator, context: DayContext, unsubscribed: np.ndarray
    ) -> np.ndarray:
        """Apply today's changes to the records; returns the records that changed."""
        records, population, day = self._records, self._population, context.index
        existed = records.from_day < day

        record = records.primary[population.email_changed_day == day]
        record = record[records.first_day(record) < day]
        self._uses_new_email[record] = True
        self._touch(record, context.local_times(rng, records.person[record], BUSINESS_HOURS))

        record = records.primary[unsubscribed]
        record = record[records.first_day(record) < day]
        at = _batch_times(rng, len(record), context)
        self._consent[record, 0] = False
        self._consent_at[record, 0] = at
        self._touch(record, at)

        record = np.flatnonzero(existed & (rng.random(records.size) < _CONSENT_FLIPS_PER_DAY))
        channel = rng.integers(0, len(CONSENT_CHANNELS), len(record))
        at = context.local_times(rng, records.person[record], BUSINESS_HOURS)
        self._consent[record, channel] = ~self._consent[record, channel]
        self._consent_at[record, channel] = at
        self._touch(record, at)

        today = (self._updated_at >= context.start_us) & (self._updated_at < context.end_us)
        return np.flatnonzero(today)

    def _touch(self, record: np.ndarray, at_us: np.ndarray) -> None:
        np.maximum.at(self._updated_at, record, at_us)

    def _change_holdings(self, rng: np.random.Generator, context: DayContext) -> np.ndarray:
        """Open products converted yesterday and accounts of new customers; close a few, mostly
        those of dissatisfied customers."""
        holdings, records, episodes = self._holdings, self._records, self._episodes
        day = epoch_day(context.date)
        before = len(holdings.record)

        still_open = np.flatnonzero(holdings.closed_day == NO_DAY)
        urge = self._grievances.urge_to_leave(context.index, self._population.size)
        unhappy = urge[records.person[holdings.record[still_open]]]
        hazard = _CLOSURES_PER_DAY + _DISSATISFIED_CLOSURES_PER_DAY * unhappy
        closing = still_open[rng.random(len(still_open)) < hazard]
        holdings.closed_day[closing] = day
        holdings.balance[closing] = 0.0
        holdings.updated_us[closing] = _batch_times(rng, len(closing), context)
        statements = self._statements(context)

        converted = np.flatnonzero(
            (episodes.converted_us >= context.start_us - DAY_US)
            & (episodes.converted_us < context.start_us)
        )
        # Every in-world conversion made its owner a customer by today (see crm_records).
        assert (records.primary[episodes.person[converted]] >= 0).all()
        product = episodes.product[converted]
        share = np.array([p.opening_balance for p in PRODUCT_PROFILES])
        new_customers = np.flatnonzero((records.from_day == context.index) & ~records.duplicate)
        record = np.concatenate([records.primary[episodes.person[converted]], new_customers])
        product = np.concatenate([product, np.full(len(new_customers), _CURRENT_ACCOUNT)])
        balance = np.concatenate(
            [
                np.round(episodes.amount[converted] * share[episodes.product[converted]], 2),
                np.round(rng.lognormal(np.log(500.0), 1.0, len(new_customers)), 2),
            ]
        )
        self._holdings.add(
            record,
            product,
            np.full(len(record), day),
            np.full(len(record), NO_DAY),
            balance,
            _batch_times(rng, len(record), context),
        )
        return np.concatenate([closing, statements, np.arange(before, len(holdings.record))])

    def _statements(self, context: DayContext) -> np.ndarray:
        """Move the balance of every open holding whose monthly statement falls today; returns
        those holdings. Draws from its own stream, so statements never shift the CRM's other
        changes."""
        holdings = self._holdings
        day = epoch_day(context.date)
        due = np.flatnonzero(
            (holdings.closed_day == NO_DAY)
            & (holdings.opened_day < day)
            & ((day - holdings.opened_day) % _STATEMENT_DAYS == 0)
            & ~_NO_STATEMENT[holdings.product]
        )
        rng = stream(self._config.seed, "crm/statements", context.index)
        product = holdings.product[due]
        unhappy = context.dissatisfaction[self._records.person[holdings.record[due]]]
        kept = 1.0 - _DISSATISFIED_MOVES_OUT * unhappy
        drift = np.exp(rng.normal(*_DEPOSIT_DRIFT, len(due)))
        swing = np.exp(rng.normal(0.0, _CARD_SWING, len(due)))
        factor = np.select(
            [_DEPOSITS[product], _CARDS[product]],
            [drift * kept, swing * kept],
            1.0 - _REPAID[product],
        )
        holdings.balance[due] = np.round(holdings.balance[due] * factor, 2)
        holdings.updated_us[due] = _batch_times(rng, len(due), context)
        return due

    def _advisor_notes(
        self, rng: np.random.Generator, context: DayContext, referrals: AdvisorReferrals
    ) -> DayRows:
        """Notes on today's referrals, plus the odd routine review."""
        records = self._records
        existing = np.flatnonzero((records.from_day <= context.index) & ~records.duplicate)
        reviewed = existing[rng.random(len(existing)) < _REVIEW_NOTES_PER_DAY]
        review_at = context.local_times(rng, records.person[reviewed], BUSINESS_HOURS)

        # The advisor writes it up within three hours, and before the day's export.
        room = np.minimum(3 * HOUR_US, context.end_us - SECOND_US - referrals.at_us)
        referral_at = referrals.at_us + (rng.random(len(room)) * room).astype(np.int64)
        templates = [t for p in PRODUCT_PROFILES for t in p.advisor_notes]
        first_template = np.cumsum([0] + [len(p.advisor_notes) for p in PRODUCT_PROFILES])
        product = np.maximum(referrals.product, 0)
        offset = (rng.random(len(product)) * np.diff(first_template)[product]).astype(np.int64)
        about_product = fill_templates(
            templates, first_template[product] + offset, thousands(referrals.amount)
        )
        routine = fill_templates(
            _REVIEW_NOTES, rng.integers(0, len(_REVIEW_NOTES), len(product) + len(reviewed))
        )
        referral_note = pc.if_else(
            pa.array(referrals.product >= 0), about_product, routine.slice(0, len(product))
        )
        return self._note_rows(
            rng,
            np.concatenate([referrals.record, reviewed]),
            np.concatenate([referral_at, review_at]),
            pa.concat_arrays([referral_note, routine.slice(len(product))]),
        )
