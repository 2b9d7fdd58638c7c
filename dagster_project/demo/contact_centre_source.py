"""Contact-centre calls, with the caller as the agent captured them.

Customers ring about balances, fees and addresses; people in an active intent ring about that
product (pre-approval, rates, quotes) and are often referred to an advisor; dissatisfied customers
ring to complain, most of them on the day their grievance begins. The agent types the
caller's name free-hand (nicknames, typos, "SMITH, John"), the phone system records whatever number
called (sometimes the household landline, sometimes withheld), and a customer id is attached only
when the agent verified the caller.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from dagster_project.demo.config import WorldConfig
from dagster_project.demo.crm_records import CrmRecords
from dagster_project.demo.crm_source import AdvisorReferrals
from dagster_project.demo.day_context import BUSINESS_HOURS, DayContext
from dagster_project.demo.formatting import (
    SECOND_US,
    fill_templates,
    iso_timestamps,
    pick,
    thousands,
)
from dagster_project.demo.grievances import Grievances
from dagster_project.demo.landing_files import CALLS, DayRows, contract_table
from dagster_project.demo.noise import (
    NoiseTally,
    blank,
    caller_names,
    copy_from_household,
    type_names,
    type_phones,
)
from dagster_project.demo.population import Population
from dagster_project.demo.product_catalogue import PRODUCT_PROFILES
from dagster_project.demo.random_streams import hex_ids, stream, weighted_choice
from dagster_project.ingest.contracts import CONTACT_CENTRE_CALLS

REASON_CODES = next(f.allowed for f in CONTACT_CENTRE_CALLS.fields if f.name == "reason_code")
DISPOSITIONS = next(f.allowed for f in CONTACT_CENTRE_CALLS.fields if f.name == "disposition")
_REFERRED = DISPOSITIONS.index("referred_to_advisor")

CUSTOMER_CALLS_PER_DAY = 0.005
PROSPECT_CALLS_PER_DAY = 0.0008
INTENT_CALLS_PER_DAY = 0.03  # at full intent level
GRIEVANCE_CALLS_PER_DAY = 0.002  # further complaints, at full dissatisfaction
_WEEKDAY_STAFFING = (1.1, 1.1, 1.1, 1.1, 1.1, 0.45, 0.15)
_VERIFIED = 0.6
_HOME_PHONE_CALLS = 0.2
_CALLS_PER_AGENT = 400  # people served per agent, which sizes the team

# Why people without a product question call: (reason, share, notes as agents write them).
_SERVICING = (
    ("balance_enquiry", 0.35, ("checked balance and recent transactions",
                               "asked why a payment is still pending")),
    ("complaint", 0.03, ("complaint about a fee on the statement",
                         "unhappy with the wait time at the branch",
                         "card declined abroad, wants an explanation",
                         "wants a fee refunded, says another bank would not charge it",
                         "chasing an earlier complaint that was never answered")),
    ("address_change", 0.08, ("updated mailing address after moving",
                              "asked how to change address online")),
    ("other", 0.54, ("general question about online banking",
                     "reset online banking password",
                     "asked about branch opening hours")),
)  # fmt: skip
_OTHER = len(_SERVICING) - 1
_COMPLAINT = [r for r, _, _ in _SERVICING].index("complaint")
# (shares of DISPOSITIONS) for product questions and for servicing.
_PRODUCT_DISPOSITIONS = np.array([0.35, 0.2, 0.1, 0.35])
_SERVICING_DISPOSITIONS = np.array([0.75, 0.1, 0.1, 0.05])


@dataclass(frozen=True)
class ContactCentreDay:
    calls: DayRows
    referrals: AdvisorReferrals


def _note_templates() -> tuple[list[str], np.ndarray, np.ndarray]:
    """All note templates, product groups first then servicing reasons: (templates, first, count)."""
    groups = [p.call_notes for p in PRODUCT_PROFILES] + [notes for _, _, notes in _SERVICING]
    count = np.array([len(g) for g in groups])
    return [t for g in groups for t in g], np.cumsum(count) - count, count


class ContactCentreSource:
    def __init__(
        self,
        population: Population,
        records: CrmRecords,
        grievances: Grievances,
        config: WorldConfig,
        tally: NoiseTally,
    ) -> None:
        self._population = population
        self._records = records
        self._grievances = grievances
        self._config = config
        self._tally = tally
        self._agents = max(8, population.size // _CALLS_PER_AGENT)

    def day(self, context: DayContext) -> ContactCentreDay:
        rng = stream(self._config.seed, "calls", context.index)
        population, config = self._population, self._config
        staffing = _WEEKDAY_STAFFING[context.weekday]
        base = staffing * np.where(
            context.is_customer, CUSTOMER_CALLS_PER_DAY, PROSPECT_CALLS_PER_DAY
        )
        intent = staffing * INTENT_CALLS_PER_DAY * context.intent_level
        grievance = staffing * GRIEVANCE_CALLS_PER_DAY * context.dissatisfaction
        rate = base + intent + grievance
        # Calls from habit, intent and dissatisfaction, then the complaints grievances begin with.
        habitual = np.repeat(np.arange(population.size), rng.poisson(rate))
        person = np.concatenate([habitual, self._grievances.complaining_on(context.index)])
        opening = np.arange(len(person)) >= len(habitual)
        at = context.local_times(rng, person, BUSINESS_HOURS)
        order = np.argsort(at, kind="stable")
        person, at, opening = person[order], at[order], opening[order]
        n = len(person)

        why = rng.random(n) * rate[person]
        about_product = ~opening & (why < intent[person])
        complains = opening | (~about_product & (why < intent[person] + grievance[person]))
        product = np.where(about_product, context.intent_product[person], -1)
        servicing = weighted_choice(rng, np.array([s for _, s, _ in _SERVICING]), n)
        servicing = np.where(context.is_customer[person], servicing, _OTHER)
        servicing = np.where(complains, _COMPLAINT, servicing)
        # Each product's reasons, repeated to a common width so a column pick stays uniform.
        width = max(len(p.call_reasons) for p in PRODUCT_PROFILES)
        reasons = np.array(
            [
                [REASON_CODES.index(p.call_reasons[k % len(p.call_reasons)]) for k in range(width)]
                for p in PRODUCT_PROFILES
            ]
        )
        product_reason = reasons[np.maximum(product, 0), rng.integers(0, width, n)]
        servicing_reason = np.array([REASON_CODES.index(r) for r, _, _ in _SERVICING])[servicing]
        reason = np.where(about_product, product_reason, servicing_reason)

        low, high, step = (np.array([p.amount[i] for p in PRODUCT_PROFILES]) for i in range(3))
        kind = np.maximum(product, 0)
        amount = low[kind] + step[kind] * rng.integers(0, (high - low)[kind] // step[kind] + 1)
        templates, first, count = _note_templates()
        group = np.where(about_product, product, len(PRODUCT_PROFILES) + servicing)
        which = first[group] + (rng.random(n) * count[group]).astype(np.int64)

        disposition = np.where(
            about_product,
            weighted_choice(rng, _PRODUCT_DISPOSITIONS, n),
            weighted_choice(rng, _SERVICING_DISPOSITIONS, n),
        )
        duration = rng.lognormal(np.log(np.where(about_product, 420.0, 240.0)), 0.6)

        verified = context.is_customer[person] & (rng.random(n) < _VERIFIED)
        record = np.where(verified, self._records.look_up(rng, person, context.index), -1)
        home = population.home_phone[person]
        from_home = (home > 0) & (rng.random(n) < _HOME_PHONE_CALLS)
        number = np.where(from_home, home, population.mobile[person])
        # The agent may take down the name of whoever in the household they think is calling.
        copy_rng = stream(config.seed, "calls/household-copy", context.index)
        first_name, _ = copy_from_household(
            population,
            person,
            copy_rng,
            config,
            self._tally,
            types_birthday=False,
        )
        names = type_names(first_name, population.last_name[person], rng, config)
        names.tally(self._tally)

        table = contract_table(
            CALLS.contract,
            {
                "call_id": hex_ids(rng, n, 12, prefix="CL-"),
                "call_started_at": iso_timestamps(at),
                "caller_phone": type_phones(number, rng, config, self._tally),
                "caller_name": blank(caller_names(names, rng), rng, config, self._tally),
                "customer_id": pick(
                    self._records.customer_id, np.maximum(record, 0), valid=record >= 0
                ),
                "reason_code": pick(pa.array(REASON_CODES), reason),
                "disposition": pick(pa.array(DISPOSITIONS), disposition),
                "duration_seconds": pa.array(np.maximum(duration, 20).astype(np.int64)),
                "agent_id": pick(
                    pa.array([f"AG{i + 1:04d}" for i in range(self._agents)]),
                    rng.integers(0, self._agents, n),
                ),
                "note": fill_templates(templates, which, thousands(amount)),
            },
        )
        referred = (record >= 0) & (disposition == _REFERRED)
        return ContactCentreDay(
            calls=DayRows(table, person),
            referrals=AdvisorReferrals(
                record=record[referred],
                product=product[referred],
                at_us=at[referred] + SECOND_US,
                amount=amount[referred],
            ),
        )
