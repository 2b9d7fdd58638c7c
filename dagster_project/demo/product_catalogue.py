"""What the demo world knows about each product: how people look for it, talk about it, buy it.

One profile per product in ``contracts.PRODUCTS`` order, so a product's index in the population's
arrays is its index here. Notes and reason codes are phrased the way agents and advisors write.
"""

from __future__ import annotations

from dataclasses import dataclass

from dagster_project.settings import PRODUCTS


@dataclass(frozen=True)
class ProductProfile:
    name: str
    slug: str  # web path segment, e.g. /mortgages/rates
    intent_share: float  # share of intent episodes about this product
    episode_days: tuple[int, int]  # how long people think about it
    apply_propensity: float  # scales how often a strong intent turns into an application
    amount: tuple[int, int, int]  # (low, high, step) of what people ask for, in dollars
    decision_days: tuple[float, float]  # submitted -> approved/declined
    holding_share: float  # share of existing customers holding it at the snapshot
    balance_median: float
    opening_balance: float  # a new holding's balance as a share of the amount applied for
    call_reasons: tuple[str, ...]
    call_notes: tuple[str, ...]  # "{amount}" is replaced by e.g. "400k"
    advisor_notes: tuple[str, ...]


PRODUCT_PROFILES: tuple[ProductProfile, ...] = (
    ProductProfile(
        name="mortgage",
        slug="mortgages",
        intent_share=0.15,
        episode_days=(25, 90),
        apply_propensity=0.55,
        amount=(150_000, 900_000, 25_000),
        decision_days=(2.0, 10.0),
        holding_share=0.22,
        balance_median=240_000.0,
        opening_balance=1.0,
        call_reasons=("mortgage_preapproval", "mortgage_rates"),
        call_notes=(
            "asked about pre-approval for a {amount} mortgage",
            "first-time buyer, wants pre-approval around {amount}",
            "compared our 5-year fixed rate with a competitor",
            "asked about remortgage rates, balance around {amount}",
        ),
        advisor_notes=(
            "Discussed a {amount} mortgage; comparing 5-year fixed with a tracker.",
            "Pre-approval conversation, deposit saved, target price around {amount}.",
        ),
    ),
    ProductProfile(
        name="credit_card",
        slug="credit-cards",
        intent_share=0.25,
        episode_days=(5, 25),
        apply_propensity=0.9,
        amount=(1_000, 25_000, 500),
        decision_days=(0.01, 1.0),
        holding_share=0.45,
        balance_median=1_800.0,
        opening_balance=0.0,
        call_reasons=("card_enquiry",),
        call_notes=(
            "asked about the cashback card and a {amount} limit",
            "wants to know the card APR and annual fee",
            "asked about a balance transfer of {amount}",
        ),
        advisor_notes=("Interested in a rewards card, asked about a {amount} limit.",),
    ),
    ProductProfile(
        name="savings",
        slug="savings",
        intent_share=0.25,
        episode_days=(7, 30),
        apply_propensity=0.8,
        amount=(1_000, 100_000, 1_000),
        decision_days=(0.01, 0.5),
        holding_share=0.40,
        balance_median=9_000.0,
        opening_balance=1.0,
        call_reasons=("savings_rates",),
        call_notes=(
            "wants to move {amount} into a higher-rate savings account",
            "asked about fixed-term savings rates",
            "has {amount} maturing, comparing savings rates",
        ),
        advisor_notes=("Has {amount} maturing and wants a better savings rate.",),
    ),
    ProductProfile(
        name="insurance",
        slug="insurance",
        intent_share=0.15,
        episode_days=(7, 30),
        apply_propensity=0.6,
        amount=(50_000, 500_000, 10_000),
        decision_days=(0.5, 3.0),
        holding_share=0.18,
        balance_median=900.0,
        opening_balance=0.003,
        call_reasons=("insurance_quote",),
        call_notes=(
            "asked for a home insurance quote",
            "wants a quote for contents cover around {amount}",
            "renewal coming up, comparing insurance quotes",
        ),
        advisor_notes=("Reviewed home insurance needs; cover around {amount}.",),
    ),
    ProductProfile(
        name="personal_loan",
        slug="personal-loans",
        intent_share=0.20,
        episode_days=(7, 30),
        apply_propensity=0.7,
        amount=(2_000, 40_000, 500),
        decision_days=(0.1, 3.0),
        holding_share=0.12,
        balance_median=8_000.0,
        opening_balance=1.0,
        call_reasons=("loan_enquiry",),
        call_notes=(
            "asked about a {amount} loan for a car",
            "home improvement loan, {amount} over 5 years",
            "wants to consolidate debts into one {amount} loan",
        ),
        advisor_notes=("Considering a {amount} loan for home improvements.",),
    ),
)

assert tuple(p.name for p in PRODUCT_PROFILES) == PRODUCTS, "profiles must follow PRODUCTS order"

# The account nearly every customer holds; nobody has an intent episode about it.
CURRENT_ACCOUNT = "current_account"
CURRENT_ACCOUNT_SHARE = 0.9
CURRENT_ACCOUNT_BALANCE_MEDIAN = 3_500.0
