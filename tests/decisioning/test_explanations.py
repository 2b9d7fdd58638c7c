"""The decision rows' sentences, composed on a hand-made plan: reasons in words with the
customer's own counts, why the channel, and when."""

from __future__ import annotations

import numpy as np
import pandas as pd

from dagster_project.decisioning.explanations import (
    CONTROL,
    QUIET_HOURS,
    WEB,
    explain_plan,
)

DECIDED = pd.Timestamp("2026-03-02 03:00")  # 22:00 in New York


def _plan() -> pd.DataFrame:
    rows = [
        # customer, action, offer, product, channel, explored, options, explanation, scheduled
        (
            "ck_a",
            "contact",
            "mortgage_rates",
            "mortgage",
            "push",
            False,
            ["mortgage_rates/email", "mortgage_rates/push", "savings_bonus_rate/email"],
            QUIET_HOURS,
            pd.Timestamp("2026-03-02 13:00"),
            ["mortgage_intent_30d", "calculator_submits_30d"],
        ),
        (
            "ck_b",
            "contact",
            "savings_bonus_rate",
            "savings",
            "email",
            False,
            ["savings_bonus_rate/email"],
            None,
            DECIDED,
            ["offered_intent_30d"],
        ),
        (
            "ck_c",
            "contact",
            "savings_bonus_rate",
            "savings",
            "sms",
            True,
            ["savings_bonus_rate/email", "savings_bonus_rate/sms"],
            "sent at 19:00 local, when they usually read texts",
            pd.Timestamp("2026-03-02 19:00"),
            None,
        ),
        (
            "ck_d",
            "control",
            "mortgage_rates",
            "mortgage",
            "email",
            False,
            ["mortgage_rates/email"],
            None,
            DECIDED,
            ["holds_savings"],
        ),
        (
            "ck_e",
            "web",
            "mortgage_rates",
            "mortgage",
            None,
            False,
            None,
            "no contact: no consent for any channel their offers use",
            DECIDED,
            ["tenure_days"],
        ),
        ("ck_f", "no_action", None, None, None, False, None, "do not contact", DECIDED, None),
    ]
    columns = [
        "customer_key",
        "action",
        "offer_id",
        "product",
        "channel",
        "explored",
        "options",
        "explanation",
        "scheduled_at",
        "reason_codes",
    ]
    return pd.DataFrame(rows, columns=columns)


def _customers() -> pd.DataFrame:
    keys = ["ck_a", "ck_b", "ck_c", "ck_d", "ck_e", "ck_f"]
    return pd.DataFrame(
        {
            "customer_key": keys,
            "time_zone": ["America/New_York", "Europe/London", None, "UTC", "UTC", "UTC"],
            "mortgage_intent_30d": [3, 0, 0, 1, 0, 0],
            "savings_intent_30d": [0, 1, 0, 0, 0, 0],
            "calculator_submits_30d": [1, 0, 0, 0, 0, 0],
        }
    )


def test_a_contact_says_what_raised_the_offer_why_the_channel_and_when() -> None:
    plan = explain_plan(_plan(), _customers(), "Europe/London")
    said = plan.set_index("customer_key")["explanation"]
    assert said["ck_a"] == (
        "Interest in mortgages in the last 30 days (3 times) and used a calculator in the last "
        "30 days (1 time); by push because push answers best for them of email and push; "
        "deferred to 08:00 local for quiet hours"
    )
    assert said["ck_b"] == (
        "Interest in the product offered in the last 30 days (1 time); by email, the only "
        "channel open to them for this offer; sent at once"
    )
    # No reasons from scoring: the sentence starts with the channel; the send-time words stay.
    assert said["ck_c"] == (
        "By SMS to learn how they answer it (an exploration contact); "
        "sent at 19:00 local, when they usually read texts"
    )


def test_control_web_and_no_action_rows_keep_their_rule_and_gain_their_reasons() -> None:
    plan = explain_plan(_plan(), _customers(), "UTC")
    said = plan.set_index("customer_key")["explanation"]
    assert said["ck_d"] == (
        f"C{CONTROL[1:]} (it would have been mortgage_rates by email); holds savings"
    )
    assert said["ck_e"] == (
        f"Time as a customer; {WEB}; no contact: no consent for any channel their offers use"
    )
    assert said["ck_f"] == "do not contact"
    # No feature name is left bare in a sentence.
    for text in said:
        assert not any(name in text for name in ("_intent_", "calculator_submits", "holds_"))


def test_words_are_built_per_distinct_combination_for_a_large_plan() -> None:
    plan = pd.concat([_plan()] * 20_000, ignore_index=True)
    plan["customer_key"] = np.tile(_plan()["customer_key"].to_numpy(), 20_000)
    explained = explain_plan(plan, _customers(), "UTC")
    assert explained["explanation"].notna().all()
    assert explained["explanation"].nunique() == 6
