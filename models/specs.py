"""The three next-best-action models as data: what each predicts, from which tables, for whom.

Offer propensity is **one model with the offer as a feature**, not one model per offer. Besides
one-hot offer columns it sees the customer's intent for *the offered product* (``offered_intent_*``,
``offered_held``), so what intent means for a purchase is learnt once from every offer's examples:
the rare offers (a mortgage application is several times rarer than a savings one) borrow strength
from the common ones instead of fitting a few dozen positives on their own, new offers score from
day one, and arbitration compares offers on one calibrated scale from one registry entry.
Channel response is built the same way with the channel as the feature; it scores only the
channels its training data contacted customers on. Churn risk is one row per customer.
"""

from __future__ import annotations

from dataclasses import dataclass

from dagster_project.settings import MODEL_LABEL_TABLES, OUTBOUND_CHANNELS, PRODUCTS

CHANNELS = OUTBOUND_CHANNELS
INTENT_WINDOWS = (7, 30, 90)

# Columns of customer_features that are keys or raw timestamps, never model inputs.
NOT_FEATURES = ("customer_key", "as_of", "last_interaction_at")


@dataclass(frozen=True)
class ModelSpec:
    name: str  # registered model name and experiment name
    labels_table: str  # training labels, joined to training.customer_feature_snapshots
    label: str
    subject: (
        str | None
    )  # the column a row is "about" (offer, channel), None for one row per customer
    subjects: tuple[str, ...] = ()
    description: str = ""
    # Reason codes for every customer's top row at scoring time; other models' reasons are
    # computed on demand, for the customers an action is decided for.
    reasons_when_scoring: bool = False
    # customer_features columns this model must not learn from (a policy, not a data gap).
    excluded_features: tuple[str, ...] = ()

    @property
    def keys(self) -> tuple[str, ...]:
        return ("customer_key", "as_of", *((self.subject,) if self.subject else ()))


OFFER_PROPENSITY = ModelSpec(
    name="offer_propensity",
    labels_table=f"training.{MODEL_LABEL_TABLES['offer_propensity']}",
    label="applied",
    subject="offer",
    subjects=PRODUCTS,
    description="Probability the customer applies for the offered product within the label window.",
    reasons_when_scoring=True,
    # What credit to offer is not decided by age (fair lending); how to reach someone may be.
    excluded_features=("age_years",),
)
CHANNEL_RESPONSE = ModelSpec(
    name="channel_response",
    labels_table=f"training.{MODEL_LABEL_TABLES['channel_response']}",
    label="engaged",
    subject="channel",
    subjects=CHANNELS,
    description="Probability the customer opens or clicks when contacted on the channel.",
)
CHURN_RISK = ModelSpec(
    name="churn_risk",
    labels_table=f"training.{MODEL_LABEL_TABLES['churn_risk']}",
    label="churned",
    subject=None,
    description="Probability a customer holding products closes one within the label window.",
)
MODEL_SPECS: tuple[ModelSpec, ...] = (OFFER_PROPENSITY, CHANNEL_RESPONSE, CHURN_RISK)


def model_spec(name: str) -> ModelSpec:
    for spec in MODEL_SPECS:
        if spec.name == name:
            return spec
    known = ", ".join(s.name for s in MODEL_SPECS)
    raise KeyError(f"unknown model {name!r}; the models are {known}")
