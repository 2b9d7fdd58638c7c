"""The promotion gate's second question: would the challenger's decisions earn less?

A better holdout ROC-AUC does not make better contacts (a channel model can rank opens well and
still send people to the wrong channel). So before the champion alias moves, the policy each
model would run is valued off-policy on the contacts actually made:

* every logged contact keeps what it was decided on (its customer's features, in
  ``decisioning.store.log_contexts``), the offer/channel pairs it was chosen among
  (``options``), the probability of the pair chosen, and whether it was clicked within the
  response window (reward: the click times the offer's value);
* a model's policy, on each logged contact, picks among the same options the pair with the
  highest offer score x channel score x offer value, scoring with that model and the other
  model's champion (a channel a model does not score takes the mean channel score logged);
* doubly robust estimates of both policies (reward model: each pair's mean logged reward) and,
  row by row on the same contacts, of their difference, with 95% intervals.

The challenger is refused when the whole interval of the difference lies below zero (worse beyond
the noise); with fewer than ``MIN_CONTACTS`` matured contacts the gate says so and does not block.
The policies differ from the running one in leaving out the between-retrain learning and the
exploration: they value what each *model* would choose, which is what promotion changes.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb
import numpy as np
import pandas as pd

from ..decisioning.off_policy import Estimate, doubly_robust_terms, mean_interval
from ..decisioning.response_learning import MATURE_HOURS
from ..decisioning.store import ACTIONS_TABLE, contexts_folder
from ..settings import OUTBOUND_CHANNELS, PRODUCTS
from ..warehouse import quote_literal, table_exists

if TYPE_CHECKING:
    from models.registry import LoadedModel

MIN_CONTACTS = 200
POLICY_MODELS = ("offer_propensity", "channel_response")  # the models arbitration ranks by
CONTACT_HISTORY = "activation.contact_history"

_LOGGED = """
WITH clock AS (SELECT max(sent_at) AS latest FROM {history})
SELECT d.decision_id, d.offer_id || '/' || d.channel AS logged, d.action_probability,
    d.options, d.channel, d.channel_score, coalesce(d.value, 0) * h.clicked::INTEGER AS reward, c.*
    EXCLUDE (decision_id)
FROM {actions} AS d
JOIN {history} AS h USING (decision_id)
JOIN read_parquet({contexts}, union_by_name = true) AS c USING (decision_id)
WHERE d.action = 'contact' AND d.options IS NOT NULL AND d.action_probability > 0
    AND h.sent_at <= (SELECT latest FROM clock) - INTERVAL {mature} HOUR
ORDER BY d.decision_id
"""


@dataclass(frozen=True)
class LoggedContacts:
    features: pd.DataFrame  # one row per matured contact: what it was decided on
    logged: np.ndarray  # "offer_id/channel" chosen
    probability: np.ndarray  # the chance it was chosen
    options: list[list[str]]  # the pairs it was chosen among
    reward: np.ndarray  # clicked x offer value
    channel_means: dict[str, float]  # mean logged channel score per channel

    def __len__(self) -> int:
        return len(self.logged)


def load_logged_contacts(conn: duckdb.DuckDBPyConnection, data_root: Path) -> LoggedContacts:
    """Every delivered contact whose response window has had time to start, with its context."""
    folder = contexts_folder(data_root)
    files = sorted(folder.glob("*.parquet")) if folder.exists() else []
    if (
        not files
        or not table_exists(conn, ACTIONS_TABLE)
        or not table_exists(conn, CONTACT_HISTORY)
    ):
        return LoggedContacts(pd.DataFrame(), np.array([]), np.array([]), [], np.array([]), {})
    sql = _LOGGED.format(
        history=CONTACT_HISTORY,
        actions=ACTIONS_TABLE,
        contexts="[" + ", ".join(quote_literal(str(f)) for f in files) + "]",
        mature=MATURE_HOURS,
    )
    frame = conn.execute(sql).df()
    means = frame.groupby("channel")["channel_score"].mean().dropna().to_dict()
    return LoggedContacts(
        features=frame,
        logged=frame["logged"].to_numpy(dtype=object),
        probability=frame["action_probability"].to_numpy(dtype=float),
        options=[list(o) for o in frame["options"]],
        reward=frame["reward"].to_numpy(dtype=float),
        channel_means={str(k): float(v) for k, v in means.items()},
    )


def subject_scores(model: LoadedModel, features: pd.DataFrame) -> np.ndarray:
    """(rows, the spec's subjects) calibrated scores; NaN for subjects it was not trained on."""
    booster = model.model
    subjects = booster.spec.subjects
    trained = [s for s in subjects if s in (booster.trained_subjects or subjects)]
    out = np.full((len(features), len(subjects)), np.nan)
    if not len(features) or not trained:
        return out
    # A feature added since a contact was logged is unknown for it (NaN), as XGBoost expects.
    missing = [c for c in booster.base_features if c not in features.columns]
    if missing:
        features = features.assign(**dict.fromkeys(missing, np.nan))
    base = booster.base(features)
    codes = np.tile(np.array([subjects.index(s) for s in trained]), len(features))
    scores = booster.predict_design(booster.design(base, codes, per_row=len(trained)))
    out[:, [subjects.index(s) for s in trained]] = scores.reshape(len(features), len(trained))
    return out


def policy_choices(
    contacts: LoggedContacts,
    offer_scores: np.ndarray,
    channel_scores: np.ndarray,
    offers: Mapping[str, tuple[str, float]],
) -> np.ndarray:
    """Per logged contact, the option with the highest offer score x channel score x value.

    ``offer_scores``: (rows, PRODUCTS); ``channel_scores``: (rows, OUTBOUND_CHANNELS), NaN
    where unscored; ``offers``: offer id -> (product, value)."""
    fallback = np.array([contacts.channel_means.get(c, 0.0) for c in OUTBOUND_CHANNELS])
    channel = np.where(np.isnan(channel_scores), fallback[None, :], channel_scores)
    offer = np.nan_to_num(offer_scores, nan=0.0)
    chosen = np.empty(len(contacts), dtype=object)
    for i, options in enumerate(contacts.options):
        best, best_value = contacts.logged[i], -np.inf
        for option in options:
            offer_id, channel_name = option.split("/", 1)
            if offer_id not in offers or channel_name not in OUTBOUND_CHANNELS:
                continue
            product, value = offers[offer_id]
            expected = (
                offer[i, PRODUCTS.index(product)]
                * channel[i, OUTBOUND_CHANNELS.index(channel_name)]
                * value
            )
            if expected > best_value:
                best, best_value = option, expected
        chosen[i] = best
    return chosen


@dataclass(frozen=True)
class PolicyComparison:
    decision: str  # not_worse, worse, not_enough_data, not_comparable
    contacts: int
    champion: Estimate | None = None
    challenger: Estimate | None = None
    difference: Estimate | None = None  # challenger - champion, paired on the same contacts
    reason: str = ""  # why not comparable

    @property
    def refuses(self) -> bool:
        return self.decision == "worse"

    def tags(self) -> dict[str, str]:
        tags = {"gate.policy_decision": self.decision, "gate.policy_contacts": str(self.contacts)}
        for name, estimate in (
            ("champion", self.champion),
            ("challenger", self.challenger),
            ("difference", self.difference),
        ):
            if estimate is not None:
                tags[f"gate.policy_{name}_value"] = f"{estimate.value:.6f}"
                tags[f"gate.policy_{name}_interval"] = f"[{estimate.low:.6f}, {estimate.high:.6f}]"
        return tags

    def note(self) -> str:
        if self.reason:
            return f"policy value not compared: {self.reason}"
        if self.difference is None:
            return f"policy value not compared: {self.contacts} matured contacts logged"
        d = self.difference
        return (
            f"policy value per contact (doubly robust, {self.contacts} logged contacts): "
            f"challenger {self.challenger.value:.3f}, champion {self.champion.value:.3f}, "
            f"difference {d.value:+.3f} [{d.low:+.3f}, {d.high:+.3f}]"
        )


def compare_policies(
    contacts: LoggedContacts, champion_choice: np.ndarray, challenger_choice: np.ndarray
) -> PolicyComparison:
    """Doubly robust values of two deterministic policies on the log, and of their difference."""
    n = len(contacts)
    if n < MIN_CONTACTS:
        return PolicyComparison("not_enough_data", n)
    reward = contacts.reward
    pair_mean = pd.Series(reward).groupby(contacts.logged).mean()
    logged_model = pair_mean.reindex(contacts.logged).to_numpy()

    def terms(choice: np.ndarray) -> np.ndarray:
        target = (choice == contacts.logged).astype(float)
        target_model = pair_mean.reindex(choice).fillna(float(reward.mean())).to_numpy()
        return doubly_robust_terms(reward, contacts.probability, target, logged_model, target_model)

    champion, challenger = terms(champion_choice), terms(challenger_choice)
    difference = mean_interval(challenger - champion)
    return PolicyComparison(
        "worse" if difference.high < 0 else "not_worse",
        n,
        mean_interval(champion),
        mean_interval(challenger),
        difference,
    )


def _offers() -> dict[str, tuple[str, float]]:
    from ..decisioning.config import load_marketing_config
    from ..settings import config_dir

    offers = load_marketing_config(config_dir()).offers.offers
    return {o.id: (o.product, o.value * o.business_weight) for o in offers}


def policy_check(
    conn: duckdb.DuckDBPyConnection, data_root: Path, name: str
) -> Callable[[LoadedModel, LoadedModel], PolicyComparison] | None:
    """The gate's policy comparison for model ``name`` (None for a model arbitration does not
    rank by); the log is read once, the other model's champion when first compared."""
    if name not in POLICY_MODELS:
        return None
    return check_on(load_logged_contacts(conn, data_root), data_root, name)


def check_on(
    contacts: LoggedContacts,
    data_root: Path,
    name: str,
    offers: Mapping[str, tuple[str, float]] | None = None,
) -> Callable[[LoadedModel, LoadedModel], PolicyComparison]:
    """The comparison of ``policy_check`` on a given log (``offers``: id -> (product, value),
    marketing's config when not given)."""
    from models.registry import CHAMPION, ModelLoadError, load_model_version

    def check(challenger: LoadedModel, champion: LoadedModel) -> PolicyComparison:
        if len(contacts) < MIN_CONTACTS:
            return PolicyComparison("not_enough_data", len(contacts))
        (other_name,) = (m for m in POLICY_MODELS if m != name)
        try:
            other = subject_scores(
                load_model_version(other_name, CHAMPION, data_root), contacts.features
            )
        except ModelLoadError:  # no champion yet: rank by this model alone
            width = len(PRODUCTS) if other_name == "offer_propensity" else len(OUTBOUND_CHANNELS)
            other = np.ones((len(contacts), width))
        values = _offers() if offers is None else offers

        def choices(model: LoadedModel) -> np.ndarray:
            own = subject_scores(model, contacts.features)
            offer, channel = (own, other) if name == "offer_propensity" else (other, own)
            return policy_choices(contacts, offer, channel, values)

        try:
            return compare_policies(contacts, choices(champion), choices(challenger))
        except (ValueError, KeyError) as error:  # a log the models cannot read: never blocks
            return PolicyComparison("not_comparable", len(contacts), reason=str(error))

    return check
