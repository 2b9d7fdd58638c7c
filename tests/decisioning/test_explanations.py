"""The decision rows' sentences, composed on a hand-made plan: reasons in words with the
customer's own counts, why the channel, and when."""

from __future__ import annotations

import numpy as np
import pandas as pd

from dagster_project.decisioning.explanations import CONTROL, QUIET_HOURS, WEB, explain_plan

DECIDED = pd.Timestamp("2026-03-02 03:00")  # 22:00 in New York
NO_CONSENT = "no contact: no consent for any channel their offers use"
MORTGAGE = {"offer_id": "mortgage_rates", "product": "mortgage"}
SAVINGS = {"offer_id": "savings_bonus_rate", "product": "savings"}


def _plan() -> pd.DataFrame:
    rows = [
        {
            "customer_key": "ck_a",
            "action": "contact",
            **MORTGAGE,
            "channel": "push",
            "options": ["mortgage_rates/email", "mortgage_rates/push", "savings_bonus_rate/email"],
            "explanation": QUIET_HOURS,
            "scheduled_at": pd.Timestamp("2026-03-02 13:00"),  # 08:00 in New York
            "reason_codes": ["mortgage_intent_30d", "calculator_submits_30d"],
        },
        {
            "customer_key": "ck_b",
            "action": "contact",
            **SAVINGS,
            "channel": "email",
            "options": ["savings_bonus_rate/email"],
            "reason_codes": ["offered_intent_30d"],
        },
        {
            "customer_key": "ck_c",
            "action": "contact",
            **SAVINGS,
            "channel": "sms",
            "explored": True,
            "options": ["savings_bonus_rate/email", "savings_bonus_rate/sms"],
            "explanation": "sent at 19:00 local, when they usually read texts",
            "scheduled_at": pd.Timestamp("2026-03-02 19:00"),
        },
        {
            "customer_key": "ck_d",
            "action": "control",
            **MORTGAGE,
            "channel": "email",
            "options": ["mortgage_rates/email"],
            "reason_codes": ["holds_savings"],
        },
        {
            "customer_key": "ck_e",
            "action": "web",
            **MORTGAGE,
            "explanation": NO_CONSENT,
            "reason_codes": ["tenure_days"],
        },
        {"customer_key": "ck_f", "action": "no_action", "explanation": "do not contact"},
        {
            "customer_key": "ck_g",
            "action": "web",
            **MORTGAGE,
            "reason_codes": ["offered_intent_30d", "offered_intent_90d"],
        },
    ]
    defaults = {
        "offer_id": None,
        "product": None,
        "channel": None,
        "explored": False,
        "options": None,
        "explanation": None,
        "scheduled_at": DECIDED,
        "reason_codes": None,
    }
    return pd.DataFrame([{**defaults, **r} for r in rows])


def _customers() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "customer_key": ["ck_a", "ck_b", "ck_c", "ck_d", "ck_e", "ck_f", "ck_g"],
            "time_zone": ["America/New_York", "Europe/London", None, "UTC", "UTC", "UTC", "UTC"],
            "mortgage_intent_30d": [3, 0, 0, 1, 0, 0, 2],
            "mortgage_intent_90d": [3, 0, 0, 1, 0, 0, 6],
            "savings_intent_30d": [0, 1, 0, 0, 0, 0, 0],
            "calculator_submits_30d": [1, 0, 0, 0, 0, 0, 0],
        }
    )


def test_a_contact_says_what_raised_the_offer_why_the_channel_and_when() -> None:
    said = explain_plan(_plan(), _customers(), "Europe/London").set_index("customer_key")
    said = said["explanation"]
    assert said["ck_a"] == (
        "Interest in mortgages in the last 30 days (3 times) and used a calculator in the last "
        "30 days (1 time); by push because push answers best for them of email and push; "
        "deferred to 08:00 local for quiet hours"
    )
    # The offered product is named; only one channel was open for the offer.
    assert said["ck_b"] == (
        "Interest in savings in the last 30 days (1 time); by email, the only channel open to "
        "them for this offer; sent at once"
    )
    # No reasons from scoring: the sentence starts with the channel; the send-time words stay.
    assert said["ck_c"] == (
        "By SMS to learn how they answer this offer there (an exploration contact); "
        "sent at 19:00 local, when they usually read texts"
    )


def test_control_web_and_no_action_rows_keep_their_rule_and_gain_their_reasons() -> None:
    said = explain_plan(_plan(), _customers(), "UTC").set_index("customer_key")["explanation"]
    assert (
        said["ck_d"]
        == f"C{CONTROL[1:]} (it would have been mortgage_rates by email); holds savings"
    )
    assert said["ck_e"] == f"Time as a customer; {WEB}; {NO_CONSENT}"
    assert said["ck_f"] == "do not contact"
    # Two windows of one product's interest are said once.
    assert said["ck_g"] == (
        f"Interest in mortgages: 2 times in the last 30 days, 6 in the last 90 days; {WEB}"
    )
    # No feature name is left bare in a sentence.
    for text in said:
        assert not any(name in text for name in ("_intent_", "calculator_submits", "holds_"))


def test_words_are_built_per_distinct_combination_for_a_large_plan() -> None:
    plan = pd.concat([_plan()] * 20_000, ignore_index=True)
    plan["customer_key"] = np.tile(_plan()["customer_key"].to_numpy(), 20_000)
    explained = explain_plan(plan, _customers(), "UTC")
    assert explained["explanation"].notna().all()
    assert explained["explanation"].nunique() == 7
