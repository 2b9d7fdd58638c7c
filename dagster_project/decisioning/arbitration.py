"""Arbitration: one coordinated plan per customer, or nothing.

For every customer: the candidates are the offers they are eligible for (rules, dates) on the
outbound channels the offer allows, they consented to and the contact policy leaves open. Each
candidate's priority is offer propensity x offer value x channel response x business weight; the
best wins if it clears ``min_priority``, else "no action" does. The plan around it:

- ``contact``: the winning offer on the winning channel, scheduled outside quiet hours in the
  customer's time zone (deferred, never dropped);
- ``web``: the site and app feature the same offer (or, when no contact is allowed, the best
  eligible offer worth showing); passive, never counted against caps;
- ``advisor_task``: for offers flagged for it and worth a human's time, a task for the customer's
  advisor, at most ``tasks_per_advisor_per_day`` per advisor, highest priority first.

Suppression (do-not-contact) removes everything; the global control group (a stable hash of the
customer key) gets a ``control`` row holding what it would have received, and nothing else.
Every row carries a deterministic ``decision_id`` (customer, day, action, offer, channel), the model
versions, the scores, reason codes and the policy hash.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Hashable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import numpy as np
import pandas as pd

from ..settings import OUTBOUND_CHANNELS, PRODUCTS
from .config import MarketingConfig
from .contact_history import channel_availability
from .eligibility import eligible
from .explanations import CHANNELS_CLOSED, CONTACT_BELOW_FLOOR, NO_CONSENT
from .exploration import explore, stable_uniform
from .quiet_hours import send_times
from .response_learning import PopulationEvidence, ResponseEstimates, learn_responses
from .send_time import (
    Evidence,
    empty_engagement,
    explain,
    explain_gap,
    reopens_in_time,
    schedule_contacts,
)


@dataclass(frozen=True)
class DecisionInputs:
    customers: pd.DataFrame  # one row per customer_key: features, contactability, advisor_id
    offer_scores: pd.DataFrame  # customer_key, subject (product), score, reason_codes
    channel_scores: pd.DataFrame  # customer_key, subject (channel), score
    history: pd.DataFrame  # outbound contacts sent: customer_key, channel, sent_at, engaged
    now: datetime  # the decision instant (UTC)
    model_versions: dict[str, str] = field(default_factory=dict)  # model name -> version
    # Evidence of when each customer engages, per channel and local hour of the week
    # (send_time.ENGAGEMENT_COLUMNS); empty: every contact goes out as soon as it may.
    engagement: pd.DataFrame = field(default_factory=empty_engagement)
    # What all contacts taught (population rates, calibration): set when deciding a few
    # customers with only their own history, as the real-time API does; None learns it here.
    evidence: PopulationEvidence | None = None


WAITING = "waiting for a better channel's cap to reopen"


def control_group(keys: np.ndarray, share: float) -> np.ndarray:
    """A stable hash of each key, uniform on [0, 1), below the share: the same on every run."""
    if share <= 0:
        return np.zeros(len(keys), dtype=bool)
    return stable_uniform(keys) < share


def decision_ids(frame: pd.DataFrame, day: str) -> list[str]:
    parts = zip(
        frame["customer_key"].tolist(),
        frame["action"].tolist(),
        frame["offer_id"].fillna("").tolist(),
        frame["channel"].fillna("").tolist(),
        strict=True,
    )
    sha256 = hashlib.sha256
    return [
        sha256(f"{key}|{day}|{action}|{offer}|{channel}".encode()).hexdigest()[:24]
        for key, action, offer, channel in parts
    ]


def _positions(keys: pd.Index, scores: pd.DataFrame) -> np.ndarray:
    """Each score row's customer position in ``keys`` (-1: not there), looked up once per run
    of equal consecutive keys: scores hold a customer's rows together, one per subject."""
    if scores.empty:
        return np.zeros(0, dtype=np.intp)
    values = scores["customer_key"].to_numpy()
    if len(values) < 2:
        return keys.get_indexer(values)
    starts = np.flatnonzero(np.r_[True, values[1:] != values[:-1]])
    return np.repeat(keys.get_indexer(values[starts]), np.diff(np.r_[starts, len(values)]))


def _pivot(
    scores: pd.DataFrame, rows: np.ndarray, customers: int, subjects: tuple[str, ...], fill: float
) -> np.ndarray:
    """(customers, subjects) scores from score rows at customer ``rows`` (-1: not decided)."""
    out = np.full((customers, len(subjects)), np.nan)
    if scores.empty:
        return np.where(np.isnan(out), fill, out)
    cols = pd.Index(subjects).get_indexer(scores["subject"])
    ok = (rows >= 0) & (cols >= 0)
    out[rows[ok], cols[ok]] = scores["score"].to_numpy()[ok]
    return out


def _top_reasons(
    scores: pd.DataFrame, rows: np.ndarray, customers: int
) -> tuple[np.ndarray, np.ndarray] | None:
    """Per customer row, the top-scored product and the scoring run's reason codes for it (None
    where it has none); None when the scores carry no reason codes."""
    if scores.empty or "reason_codes" not in scores:
        return None
    top = (scores["rank"] == 1).to_numpy(dtype=bool, na_value=False) & (rows >= 0)
    at = rows[top]
    if len(at) and np.bincount(at).max() > 1:
        raise ValueError("offer_scores hold more than one rank-1 row for a customer")
    subject = np.full(customers, None, dtype=object)
    codes = np.full(customers, None, dtype=object)
    subject[at] = scores["subject"].to_numpy()[top]
    codes[at] = scores["reason_codes"].to_numpy()[top]
    return subject, codes


def _as_list(value: object) -> list:
    """A list column's cell (NULL, NA or an array) as a plain list."""
    if value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value)):
        return []
    return [str(v) for v in value]


def _encoded_once(values: Iterable[Hashable]) -> np.ndarray:
    """The JSON text of each value, encoded once per distinct value."""
    memo: dict[Hashable, str] = {}
    return np.array(
        [memo[v] if v in memo else memo.setdefault(v, json.dumps(v)) for v in values], dtype=object
    )


def _content(
    customers: pd.DataFrame, rows: np.ndarray, offer_ids: np.ndarray, config: MarketingConfig
) -> list[str]:
    """What the template receives: the offer's facts, what the customer considered, their stage.

    Each row is the text ``json.dumps`` gives the object (keys sorted), put together from its
    members' texts, and each member is encoded once per distinct value: the offers' facts once
    per offer, the products considered once per combination, pages and stages once per value.
    """
    offers = config.offers.offers
    position = {o.id: i for i, o in enumerate(offers)}
    offer = np.array([position[offer_id] for offer_id in offer_ids], dtype=np.int64)
    facts = np.array([json.dumps(o.content, sort_keys=True) for o in offers], dtype=object)
    templates = np.array([json.dumps(o.template) for o in offers], dtype=object)
    # The products considered, a bit per product: one list per combination.
    considered = np.stack(
        [customers[f"{p}_intent_30d"].to_numpy()[rows] > 0 for p in PRODUCTS], axis=1
    )
    combinations = np.array(
        [
            json.dumps([p for bit, p in enumerate(PRODUCTS) if combination >> bit & 1])
            for combination in range(2 ** len(PRODUCTS))
        ],
        dtype=object,
    )
    products = combinations[considered.astype(np.int64) @ (1 << np.arange(len(PRODUCTS)))]
    pages = np.full(len(rows), "[]", dtype=object)
    if "recent_pages" in customers:
        viewed = customers["recent_pages"].to_numpy()[rows]
        pages = _encoded_once(tuple(_as_list(value)) for value in viewed)
    # The journey stage in the offer's product.
    stages = np.full(len(rows), "null", dtype=object)
    offer_products = np.array([o.product for o in offers])[offer]
    for product in PRODUCTS:
        stage = customers.get(f"stage_{product}")
        at = np.flatnonzero(offer_products == product)
        if stage is not None and len(at):
            stages[at] = _encoded_once(stage.to_numpy()[rows[at]])
    return [
        f'{{"journey_stage": {stage}, "offer": {fact}, "pages_viewed": {viewed}, '
        f'"products_considered": {considered}, "template": {template}}}'
        for stage, fact, viewed, considered, template in zip(
            stages, facts[offer], pages, products, templates[offer], strict=True
        )
    ]


def _stacked(parts: list[dict[str, np.ndarray]]) -> pd.DataFrame:
    """Plan rows, part after part, as ``pd.concat`` of their frames gives them (a column a part
    lacks is NaN there), without its look at every value of a column holding only None."""
    names = list(dict.fromkeys(name for part in parts for name in part))

    def column(part: dict[str, np.ndarray], name: str) -> np.ndarray:
        if name in part:
            return part[name]
        return np.full(len(part["row"]), np.nan, dtype=object)

    return pd.DataFrame(
        {name: np.concatenate([column(part, name) for part in parts]) for name in names}
    )


def _options(
    options: np.ndarray, rows: np.ndarray, with_channel: np.ndarray, names: np.ndarray
) -> np.ndarray:
    """Per plan row with a channel, the names of the pairs its customer's ``options`` row
    permits (a list of its own); None for the others. Named once per distinct set of pairs."""
    out = np.full(len(rows), None, dtype=object)
    if not len(names):
        return out
    at = np.flatnonzero(with_channel)
    # Each customer's permitted pairs as one integer (bit j: pair j), named once per value.
    sets = np.packbits(options[rows[at]], axis=1, bitorder="little")
    distinct, which = np.unique(sets, axis=0, return_inverse=True)
    named = [
        tuple(names[np.flatnonzero(np.unpackbits(d, count=len(names), bitorder="little"))])
        for d in distinct
    ]
    for i, w in zip(at.tolist(), which.ravel().tolist(), strict=True):
        out[i] = list(named[w])
    return out


def decide(inputs: DecisionInputs, config: MarketingConfig) -> pd.DataFrame:
    """The next-best-action rows for every customer (see the module docstring)."""
    return decide_with_evidence(inputs, config)[0]


def decide_with_evidence(
    inputs: DecisionInputs, config: MarketingConfig
) -> tuple[pd.DataFrame, ResponseEstimates]:
    """The plan, and what response learning estimated from the contact history for it."""
    customers = inputs.customers
    if not customers.index.equals(pd.RangeIndex(len(customers))):
        customers = customers.reset_index(drop=True)  # positions are rows (no copy otherwise)
    keys = pd.Index(customers["customer_key"])
    n = len(keys)
    now = pd.Timestamp(inputs.now).tz_convert("UTC").to_pydatetime()
    offers = [o for o in config.offers.offers if o.starts <= now.date() <= o.ends]
    policy, channels = config.policy, config.channels

    # Scores: an offer takes its product's propensity; a channel with no score yet, its prior.
    offer_products = [PRODUCTS.index(o.product) for o in offers]
    offer_rows = _positions(keys, inputs.offer_scores)
    product_scores = _pivot(inputs.offer_scores, offer_rows, n, PRODUCTS, 0.0)
    p_offer = (
        np.nan_to_num(product_scores[:, offer_products], nan=0.0) if offers else np.zeros((n, 0))
    )
    # Channel engagement and the click calibration, learned from the contacts made so far.
    learned = learn_responses(
        inputs.history,
        keys,
        _pivot(
            inputs.channel_scores,
            _positions(keys, inputs.channel_scores),
            n,
            OUTBOUND_CHANNELS,
            np.nan,
        ),
        np.array([channels.outbound(c).prior_response for c in OUTBOUND_CHANNELS]),
        now,
        inputs.evidence,
    )
    p_channel = learned.channel
    values = np.array([o.value * o.business_weight for o in offers])

    suppressed = customers["do_not_contact"].fillna(True).to_numpy(dtype=bool)
    control = control_group(keys.to_numpy(dtype=str), policy.control_group_share)
    is_eligible = (
        np.stack([eligible(customers, o, i) for i, o in enumerate(offers)], axis=1)
        if offers
        else np.zeros((n, 0), dtype=bool)
    )
    consent = np.stack(
        [customers[f"can_{c}"].fillna(False).to_numpy(dtype=bool) for c in OUTBOUND_CHANNELS],
        axis=1,
    )
    # The minimum gap, on channels that optimise send time, at the send instant: a contact
    # whose gap ends within the horizon is open, to go out no earlier than that (send_time).
    zones = customers["time_zone"].reset_index(drop=True)

    def reopens(channel: str, rows: np.ndarray, earliest: np.ndarray) -> np.ndarray:
        return reopens_in_time(
            earliest,
            zones.iloc[rows],
            now,
            channels.outbound(channel).quiet_hours,
            policy.default_time_zone,
            timedelta(hours=policy.send_time_horizon_hours),
        )

    availability = channel_availability(inputs.history, keys, now, channels, policy, reopens)
    open_channels, blocked_by = availability.open, availability.blocked
    allowed = np.array([[c in o.channels for c in OUTBOUND_CHANNELS] for o in offers], dtype=bool)

    # Contact: best (offer, channel) by expected value among what every rule permits.
    # The expected click of each pair: offer score x channel score x the pair's calibration.
    calibration = (
        learned.calibration[offer_products] if offers else np.ones((0, len(OUTBOUND_CHANNELS)))
    )
    response = p_offer[:, :, None] * p_channel[:, None, :] * calibration[None, :, :]
    priority = response * values[None, :, None]
    permitted = (
        is_eligible[:, :, None]
        & allowed.reshape(len(offers), len(OUTBOUND_CHANNELS))[None]
        & consent[:, None, :]
        & ~suppressed[:, None, None]
    )
    contactable = permitted & open_channels[:, None, :]
    flat = np.where(contactable, priority, -np.inf).reshape(n, -1)
    best = flat.argmax(axis=1) if flat.shape[1] else np.zeros(n, dtype=np.int64)
    floor = max(policy.min_priority, 1e-12)
    contact = (flat[np.arange(n), best] if flat.shape[1] else np.full(n, -np.inf)) >= floor
    # Wait for a better channel that only its own cap closes today (see ContactPolicy).
    waiting = np.zeros(n, dtype=bool)
    if policy.min_share_of_capped_best > 0 and flat.shape[1]:
        globally_open = (blocked_by == "")[:, None, None]
        anytime = np.where(permitted & globally_open, priority, -np.inf).reshape(n, -1).max(axis=1)
        waiting = contact & (flat[np.arange(n), best] < policy.min_share_of_capped_best * anytime)
        contact &= ~waiting
    # Exploration tries another offer x channel pair the rules permit, whatever the estimates
    # say of it (an estimate that is wrong about a pair is how a floor would hide it), drawn
    # half uniformly, half by estimated value (see exploration). Every choice keeps its
    # probability.
    explorable = contactable.reshape(n, -1) & contact[:, None]
    best, chosen_probability, explored = explore(
        explorable,
        best,
        keys.to_numpy(dtype=str),
        now.date().isoformat(),
        policy.exploration_share,
        flat,
    )
    best_priority = flat[np.arange(n), best] if flat.shape[1] else np.full(n, -np.inf)
    best_offer, best_channel = np.divmod(best, len(OUTBOUND_CHANNELS))

    # Web: the contacted offer, else the best eligible offer worth showing (no channel response).
    offer_value = np.where(is_eligible & ~suppressed[:, None], p_offer * values[None, :], -np.inf)
    web_offer = np.where(contact, best_offer, offer_value.argmax(axis=1) if len(offers) else 0)
    web_value = offer_value[np.arange(n), web_offer] if len(offers) else np.full(n, -np.inf)
    web = contact | (web_value >= max(policy.min_priority, 1e-12))

    parts = []
    # Control group: what the plan would have been, held out.
    held = control & (contact | web)
    certain = np.ones(n)
    contact_probability = np.where(contact, chosen_probability, 1.0)
    channel_names = np.array([*OUTBOUND_CHANNELS, None], dtype=object)  # -1: no channel
    for action, mask, offer_index, channel_index, score, probability in (
        (
            "contact",
            contact & ~control,
            best_offer,
            best_channel,
            best_priority,
            contact_probability,
        ),
        ("web", web & ~control, web_offer, None, web_value, certain),
        (
            "control",
            held,
            np.where(contact, best_offer, web_offer),
            np.where(contact, best_channel, -1),
            np.where(contact, best_priority, web_value),
            contact_probability,
        ),
    ):
        idx = np.flatnonzero(mask)
        if not len(idx):
            continue
        parts.append(
            {
                "row": idx,
                "action": np.full(len(idx), action, dtype=object),
                "offer_index": offer_index[idx],
                "channel": np.full(len(idx), None, dtype=object)
                if channel_index is None
                else channel_names[channel_index[idx]],
                "priority": score[idx],
                "action_probability": probability[idx],
                "explored": explored[idx] & (action != "web"),
            }
        )
    plan = (
        _stacked(parts)
        if parts
        else pd.DataFrame(columns=["row", "action", "offer_index", "channel", "priority"])
    )

    if len(plan):
        at = plan["row"].to_numpy(np.int64)
        on_web = (plan["action"] == "web").to_numpy()
        explanation = np.full(len(plan), np.nan, dtype=object)
        # The web offer still shows for those waiting; it says why nobody was sent.
        explanation[on_web & waiting[at]] = f"no contact: {WAITING}"
        # Why any other web offer has no contact beside it (the held-back rule).
        alone = on_web & ~contact[at] & ~waiting[at]
        at = at[alone]
        explanation[alone] = np.where(
            ~permitted.any(axis=(1, 2))[at],
            NO_CONSENT,
            np.where(
                blocked_by[at] != "",
                "no contact: " + blocked_by[at].astype(str),
                np.where(~contactable.any(axis=(1, 2))[at], CHANNELS_CLOSED, CONTACT_BELOW_FLOOR),
            ),
        )
        plan["explanation"] = explanation
        # What each contact could have been: every pair the rules permitted (off-policy support).
        plan["options"] = _options(
            contactable.reshape(n, -1),
            plan["row"].to_numpy(),
            plan["channel"].notna().to_numpy(),
            np.array([f"{o.id}/{c}" for o in offers for c in OUTBOUND_CHANNELS], dtype=object),
        )

    # Advisor tasks: flagged offers of enough value, within each advisor's daily capacity.
    advisor = channels.advisor
    flagged = np.array([o.advisor_task and o.value >= advisor.min_offer_value for o in offers])
    if len(plan) and flagged.any() and "advisor_id" in customers:
        web_rows = plan[plan["action"] == "web"]
        worth_it = web_rows["priority"].to_numpy() >= advisor.min_priority
        candidates = web_rows[flagged[web_rows["offer_index"].to_numpy()] & worth_it].copy()
        candidates["advisor_id"] = customers["advisor_id"].to_numpy()[candidates["row"].to_numpy()]
        candidates = candidates.dropna(subset=["advisor_id"])
        candidates = candidates.sort_values(["advisor_id", "priority"], ascending=[True, False])
        tasks = candidates.groupby("advisor_id").head(advisor.tasks_per_advisor_per_day)
        plan = pd.concat(
            [plan, tasks.drop(columns="advisor_id").assign(action="advisor_task")],
            ignore_index=True,
        )

    # No action: everyone else, with the reason.
    planned = np.zeros(n, dtype=bool)
    planned[plan["row"].to_numpy(dtype=np.int64)] = True
    idle = np.flatnonzero(~planned)
    reasons = np.where(
        suppressed[idle],
        "do not contact",
        np.where(
            ~is_eligible[idle].any(axis=1) if len(offers) else np.ones(len(idle), dtype=bool),
            "no eligible offer",
            np.where(
                blocked_by[idle] != "",
                blocked_by[idle],
                np.where(
                    waiting[idle],
                    WAITING,
                    "nothing clears min_priority",
                ),
            ),
        ),
    )
    no_action = {
        "row": idle,
        "action": np.full(len(idle), "no_action", dtype=object),
        "offer_index": np.full(len(idle), -1, dtype=np.int64),
        "channel": np.full(len(idle), None, dtype=object),
        "priority": np.full(len(idle), np.nan),
        "action_probability": np.ones(len(idle)),
        "explored": np.zeros(len(idle), dtype=bool),
        "explanation": reasons,
        "options": np.full(len(idle), None, dtype=object),
    }
    planned_parts = [{c: plan[c].to_numpy() for c in plan.columns}] if len(plan) else []
    plan = _stacked([*planned_parts, no_action])
    finished = _finish(
        plan,
        customers,
        offers,
        p_offer,
        p_channel,
        response,
        inputs,
        config,
        control,
        now,
        availability.not_before,
        _top_reasons(inputs.offer_scores, offer_rows, n),
    )
    return finished, learned


def _finish(
    plan: pd.DataFrame,
    customers: pd.DataFrame,
    offers: list,
    p_offer: np.ndarray,
    p_channel: np.ndarray,
    response: np.ndarray,
    inputs: DecisionInputs,
    config: MarketingConfig,
    control: np.ndarray,
    now: datetime,
    not_before: np.ndarray,
    top_reasons: tuple[np.ndarray, np.ndarray] | None,
) -> pd.DataFrame:
    row = plan["row"].to_numpy(dtype=np.int64)
    planned_offer = plan["offer_index"].to_numpy(dtype=np.int64)
    has_offer = planned_offer >= 0
    offer_index = np.where(has_offer, planned_offer, 0)
    offer_ids = np.array([o.id for o in offers] or [""], dtype=object)
    products = np.array([o.product for o in offers] or [""], dtype=object)
    channel_index = pd.Index(OUTBOUND_CHANNELS).get_indexer(plan["channel"].fillna(""))
    out = pd.DataFrame(
        {
            "customer_key": customers["customer_key"].to_numpy()[row],
            "action": plan["action"].to_numpy(),
            "offer_id": np.where(has_offer, offer_ids[offer_index], None),
            "product": np.where(has_offer, products[offer_index], None),
            "channel": plan["channel"].to_numpy(),
            "offer_score": np.where(
                has_offer, p_offer[row, offer_index] if len(offers) else np.nan, np.nan
            ),
            "channel_score": np.where(
                channel_index >= 0, p_channel[row, np.maximum(channel_index, 0)], np.nan
            ),
            # The expected click the contact was chosen on (calibrated; see response_learning).
            "response_score": np.where(
                has_offer & (channel_index >= 0),
                response[row, offer_index, np.maximum(channel_index, 0)] if len(offers) else np.nan,
                np.nan,
            ),
            "value": np.where(
                has_offer, np.array([o.value for o in offers] or [0.0])[offer_index], np.nan
            ),
            "priority": plan["priority"].to_numpy(dtype=float),
            "control": control[row],
            # The chance this action was chosen (exploration), for off-policy evaluation.
            "action_probability": plan["action_probability"].fillna(1.0).to_numpy(dtype=float),
            "explored": plan["explored"].astype("boolean").fillna(False).to_numpy(dtype=bool),
            "explanation": plan.get("explanation", pd.Series(None, index=plan.index)).to_numpy(),
            # The offer/channel pairs this contact was chosen among (its own included).
            "options": plan["options"].to_numpy(),
        }
    )
    # Scheduled: contacts wait out quiet hours in the customer's zone, or for their best hour
    # where the channel optimises send times (send_time); the rest apply now.
    out["scheduled_at"] = pd.Timestamp(now).tz_convert(None)
    zones = customers["time_zone"].iloc[row].reset_index(drop=True)
    policy = config.policy
    best_hour = np.full(len(out), None, dtype=object)
    is_contact = (out["action"] == "contact").to_numpy()
    evidence = (
        Evidence.of(inputs.engagement, pd.Index(customers["customer_key"]))
        if any(config.channels.outbound(c).optimise_send_time for c in OUTBOUND_CHANNELS)
        else None
    )
    for c, channel in enumerate(OUTBOUND_CHANNELS):
        mask = is_contact & (out["channel"] == channel).to_numpy()
        if not mask.any():
            continue
        settings = config.channels.outbound(channel)
        if not settings.optimise_send_time:
            out.loc[mask, "scheduled_at"] = send_times(
                now, zones[mask], settings.quiet_hours, policy.default_time_zone
            )
            continue
        times, from_population = schedule_contacts(
            evidence,
            row[mask],
            len(customers),
            channel,
            zones[mask],
            now,
            settings.quiet_hours,
            policy.default_time_zone,
            timedelta(hours=policy.send_time_horizon_hours),
            not_before[row[mask], c],
        )
        out.loc[mask, "scheduled_at"] = times.scheduled_at
        words = np.full(int(mask.sum()), None, dtype=object)
        words[times.optimised] = [
            explain(channel, at, population)
            for at, population in zip(
                times.local_time[times.optimised], from_population[times.optimised], strict=True
            )
        ]
        # Held past the decision by the minimum gap: say so, with the best hour if it moved on.
        words[times.held] = [
            explain_gap(policy.min_gap_hours, at, moved)
            for at, moved in zip(times.local_time[times.held], words[times.held], strict=True)
        ]
        best_hour[np.flatnonzero(mask)] = words
    deferred = (out["scheduled_at"] > pd.Timestamp(now).tz_convert(None)).to_numpy()
    out.loc[deferred, "explanation"] = "deferred past quiet hours"
    moved = pd.notna(best_hour)
    out.loc[moved, "explanation"] = best_hour[moved]
    # Reason codes: the scoring run's, when the chosen offer is the customer's top-scored product.
    if top_reasons is not None:
        subject, codes = (values[row] for values in top_reasons)
        same = pd.notna(subject) & (subject == out["product"].to_numpy())
        out["reason_codes"] = np.where(same, codes, None)
    else:
        out["reason_codes"] = None
    with_offer = out["offer_id"].notna().to_numpy() & (out["action"] != "no_action").to_numpy()
    out["content"] = None
    if with_offer.any():
        out.loc[with_offer, "content"] = _content(
            customers, row[with_offer], out["offer_id"].to_numpy()[with_offer], config
        )
    versions = inputs.model_versions
    out["offer_model"] = f"offer_propensity@{versions.get('offer_propensity', '-')}"
    out["channel_model"] = f"channel_response@{versions.get('channel_response', '-')}"
    out["policy_hash"] = config.policy_hash
    out["decided_at"] = pd.Timestamp(now).tz_convert(None)
    day = now.date().isoformat()
    out["decision_date"] = day
    out.insert(0, "decision_id", decision_ids(out, day))
    ordered = out.take(_by_customer_and_action(customers["customer_key"], row, out["action"]))
    ordered.index = pd.RangeIndex(len(ordered))
    return ordered


def _by_customer_and_action(keys: pd.Series, row: np.ndarray, actions: pd.Series) -> np.ndarray:
    """The order of plan rows by customer key, then action: sorted on integer ranks (the keys
    sorted once, as fixed-width text), not on the strings of every row."""
    rank = np.empty(len(keys), dtype=np.int64)
    rank[np.argsort(keys.to_numpy(dtype=str), kind="stable")] = np.arange(len(keys))
    action_rank, _ = pd.factorize(actions, sort=True)
    return np.lexsort((action_rank, rank[row]))
