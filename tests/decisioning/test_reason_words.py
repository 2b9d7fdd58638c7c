"""Reason codes in words, family by family, and an unknown code still readable."""

from __future__ import annotations

from dagster_project.decisioning.reason_words import reason_in_words, reasons_in_words


def test_each_family_of_reason_codes_reads_as_words() -> None:
    assert reason_in_words("mortgage_intent_7d") == "interest in mortgages in the last 7 days"
    assert reason_in_words("offered_intent_30d") == (
        "interest in the product offered in the last 30 days"
    )
    assert reason_in_words("holds_credit_card") == "holds credit cards"
    assert reason_in_words("web_interactions_30d") == "activity on the website in the last 30 days"
    assert reason_in_words("days_since_branch") == "how recently they used a branch"
    assert reason_in_words("tenure_days") == "time as a customer"
    assert reason_in_words("brand_new_feature") == "brand new feature"
    assert reasons_in_words(None) == []
