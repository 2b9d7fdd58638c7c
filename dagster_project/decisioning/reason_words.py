"""Reason codes (the model features that raised an offer's score most) in words a page can show
or an agent can read: ``mortgage_intent_30d`` -> "interest in mortgages in the last 30 days"."""

from __future__ import annotations

import re

_PRODUCTS = {
    "mortgage": "mortgages",
    "credit_card": "credit cards",
    "savings": "savings",
    "insurance": "insurance",
    "personal_loan": "personal loans",
    "current_account": "a current account",
}
_CHANNELS = {
    "web": "the website",
    "app": "the app",
    "email": "email",
    "contact_centre": "the contact centre",
    "branch": "a branch",
}
_FIXED = {
    "tenure_days": "time as a customer",
    "age_years": "age",
    "total_balance": "balances held with the bank",
    "deposit_change_30d": "change in deposits over 30 days",
    "products_held": "number of products held",
    "calculator_submits_30d": "used a calculator in the last 30 days",
    "calls_90d": "calls to the contact centre in the last 90 days",
    "complaint_calls_90d": "complaints in the last 90 days",
    "application_events_90d": "applications in the last 90 days",
    "email_open_rate_90d": "opens the bank's emails",
    "emails_sent_90d": "emails received in the last 90 days",
    "emails_opened_90d": "emails opened in the last 90 days",
    "emails_clicked_90d": "emails clicked in the last 90 days",
    "days_since_last_interaction": "how recently they were in touch",
    "offered_held": "already holds the product offered",
    "population_rate": "how often customers take it up (no model trained yet)",
}


# Families of codes: (pattern, words), the groups named after the vocabulary they are read in.
_PATTERNS = [
    (r"offered_intent_(?P<days>\d+)d", "interest in the product offered in the last {days} days"),
    (r"(?P<product>\w+?)_intent_(?P<days>\d+)d", "interest in {product} in the last {days} days"),
    (r"holds_(?P<product>\w+)", "holds {product}"),
    (r"offer_(?P<product>\w+)", "customers like them take up {product}"),
    (r"(?P<channel>\w+)_interactions_30d", "activity on {channel} in the last 30 days"),
    (r"days_since_(?P<channel>\w+)", "how recently they used {channel}"),
]
_VOCABULARIES = {"product": _PRODUCTS, "channel": _CHANNELS}


def reason_in_words(code: str) -> str:
    if code in _FIXED:
        return _FIXED[code]
    for pattern, words in _PATTERNS:
        if match := re.fullmatch(pattern, code):
            named = {
                group: _VOCABULARIES.get(group, {}).get(value, value)
                for group, value in match.groupdict().items()
            }
            return words.format(**named)
    return code.replace("_", " ")


def reasons_in_words(codes: object) -> list[str]:
    if codes is None or isinstance(codes, float):
        return []
    return [reason_in_words(str(c)) for c in codes]  # type: ignore[attr-defined]
