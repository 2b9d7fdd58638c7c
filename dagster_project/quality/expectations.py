"""Great Expectations suites as data: which table, which rows, which expectations, and whether a
failure stops what is downstream.

Raw suites look at the latest load only (the rows a run just added); mart suites look at the
whole table. Suites on the marts that decide who may be contacted are blocking; the features
suite warns (an odd feature value makes a score worse, it cannot send anything wrong).
"""

from __future__ import annotations

import zoneinfo
from dataclasses import dataclass, field
from typing import Any

from ..settings import TIMELINE_CHANNELS

LATEST_LOAD = "_load_id = (SELECT max_by(_load_id, _loaded_at) FROM {table})"


@dataclass(frozen=True)
class Expectation:
    type: str  # a class name in great_expectations.expectations
    kwargs: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Suite:
    name: str
    table: str  # schema.table in the warehouse
    asset_key: tuple[str, ...]
    expectations: tuple[Expectation, ...]
    blocking: bool = False
    where: str | None = None  # restricts the rows validated; {table} is replaced
    description: str = ""


def _e(type_: str, **kwargs: Any) -> Expectation:
    return Expectation(type_, kwargs)


def _not_null(*columns: str) -> list[Expectation]:
    return [_e("ExpectColumnValuesToNotBeNull", column=c) for c in columns]


def _implies(flag: str, requirement: str, requirement_value: bool = True) -> Expectation:
    """Rows where ``flag`` is true must have ``requirement`` equal to ``requirement_value``."""
    pairs = [(False, False), (False, True), (True, requirement_value)]
    return _e(
        "ExpectColumnPairValuesToBeInSet",
        column_A=flag,
        column_B=requirement,
        value_pairs_set=pairs,
    )


def suites() -> list[Suite]:
    time_zones = sorted(zoneinfo.available_timezones())
    contact_rules = []
    for channel, consent in (
        ("can_email", "consent_email"),
        ("can_sms", "consent_sms"),
        ("can_push", "consent_push"),
        ("can_call", "consent_phone"),
    ):
        contact_rules += [_implies(channel, consent), _implies(channel, "do_not_contact", False)]
    return [
        Suite(
            "raw_crm_customers",
            "raw.crm__customers",
            ("raw", "crm__customers"),
            (
                *_not_null("customer_id", "updated_at"),
                _e("ExpectColumnValuesToBeInSet", column="time_zone", value_set=time_zones),
                _e("ExpectColumnValuesToNotBeNull", column="email", mostly=0.9),
                _e("ExpectColumnValuesToMatchRegex", column="phone", regex=r"^\+?[0-9 ().\-/]+$"),
            ),
            where=LATEST_LOAD,
            description="The latest CRM load: ids, IANA time zones, emails mostly present, phones well formed.",
        ),
        Suite(
            "raw_contact_centre_calls",
            "raw.contact_centre__calls",
            ("raw", "contact_centre__calls"),
            (
                *_not_null("call_id", "call_started_at"),
                _e(
                    "ExpectColumnValuesToBeBetween",
                    column="duration_seconds",
                    min_value=0,
                    max_value=4 * 3600,
                ),
            ),
            where=LATEST_LOAD,
            description="The latest calls load: ids and call durations between 0 and 4 hours.",
        ),
        Suite(
            "raw_outcomes_applications",
            "raw.outcomes__applications",
            ("raw", "outcomes__applications"),
            (
                *_not_null("application_id", "event_ts"),
                _e("ExpectColumnValuesToBeBetween", column="amount", min_value=0),
            ),
            where=LATEST_LOAD,
            description="The latest applications load: ids and non-negative amounts.",
        ),
        Suite(
            "dim_customer",
            "marts.dim_customer",
            ("marts", "dim_customer"),
            (
                *_not_null(
                    "customer_key",
                    "consent_email",
                    "consent_sms",
                    "consent_push",
                    "consent_phone",
                    "do_not_contact",
                ),
                _e("ExpectColumnValuesToBeUnique", column="customer_key"),
                _e("ExpectColumnValuesToBeInSet", column="time_zone", value_set=time_zones),
            ),
            blocking=True,
            description="One row per customer, consents and suppression always known, valid time zones.",
        ),
        Suite(
            "customer_contactability",
            "marts.customer_contactability",
            ("marts", "customer_contactability"),
            (
                *_not_null("customer_key", "can_email", "can_sms", "can_push", "can_call"),
                _e("ExpectColumnValuesToBeUnique", column="customer_key"),
                *contact_rules,
            ),
            blocking=True,
            description="Nobody is contactable on a channel without consent or while do-not-contact.",
        ),
        Suite(
            "customer_features",
            "marts.customer_features",
            ("marts", "customer_features"),
            (
                *_not_null("customer_key", "as_of"),
                _e("ExpectColumnValuesToBeUnique", column="customer_key"),
                _e(
                    "ExpectColumnValuesToBeBetween",
                    column="days_since_last_interaction",
                    min_value=0,
                ),
                _e("ExpectColumnValuesToBeBetween", column="products_held", min_value=0),
                _e(
                    "ExpectColumnValuesToBeBetween",
                    column="email_open_rate_90d",
                    min_value=0,
                    max_value=1,
                ),
            ),
            # Drift, not a breach: a feature out of its range makes a score worse, never a send
            # wrong, so it warns and names the rows; consent and suppression stay blocking (and
            # dbt's own unique and not-null tests still stop a broken table).
            blocking=False,
            description="Features are per customer, as of a boundary, with no negative recency or counts (warns).",
        ),
        Suite(
            "fct_interactions",
            "marts.fct_interactions",
            ("marts", "fct_interactions"),
            (
                *_not_null("interaction_id", "occurred_at", "customer_key"),
                _e("ExpectColumnValuesToBeUnique", column="interaction_id"),
                _e(
                    "ExpectColumnValuesToBeInSet",
                    column="channel",
                    value_set=list(TIMELINE_CHANNELS),
                ),
            ),
            description="The timeline: unique interactions on known channels, each with a customer.",
        ),
    ]
