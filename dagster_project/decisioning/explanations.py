"""Each decided row's ``explanation``: one sentence in words a marketer can read, built here only.

Arbitration leaves the rule that shaped a row in ``explanation`` (why no action, why no contact,
"deferred past quiet hours", the send-time words); once reason codes are filled, ``explain_plan``
composes the sentence for the rows that act:

- what raised the offer (the top reason codes in words, with the customer's own count where the
  feature is one: "interest in mortgages in the last 30 days (3 times)");
- why that channel (it answers best for them of the channels open for the offer, it is the only
  one open, or it is an exploration contact);
- when (sent at once, deferred to the end of quiet hours in the customer's time zone, or the
  send-time words arbitration wrote).

No-action rows keep arbitration's reason. A million rows must not cost a Python call each, so
every part is a *phrase id* per row: rows are grouped on the columns a phrase depends on (in
pandas' C code), the words are built once per distinct group, and the sentence once per distinct
combination of phrase ids; a plan of a million rows takes about a second.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from ..settings import OUTBOUND_CHANNELS
from .reason_words import reason_in_words

CHANNEL_WORDS = {"email": "email", "sms": "SMS", "push": "push"}
QUIET_HOURS = "deferred past quiet hours"  # arbitration's mark of a contact moved past them
SENT_AT_ONCE = "sent at once"
TOP_REASONS = 2
# Why a web row has no contact beside it (set by arbitration; the held-back page reads them).
NO_CONSENT = "no contact: no consent for any channel their offers use"
CHANNELS_CLOSED = "no contact: the channels they may get are capped today"
CONTACT_BELOW_FLOOR = "no contact: no contact clears min_priority"
WEB = "shown on the website and app"
CONTROL = "control group: held out to measure what contacts cause, nothing is sent"
ADVISOR = "a task for their advisor to call"
ACTING = ("contact", "control", "web", "advisor_task")

# Features whose value is a count of the customer's own acts, worth quoting beside the words.
_COUNT = re.compile(r"(?:\w+_intent|\w+_interactions|calculator_submits|\w*calls)_\d+d")


@dataclass(frozen=True)
class Phrases:
    """One phrase per row, as an id into the list of distinct phrases."""

    ids: np.ndarray
    words: list[str]

    def of_rows(self) -> np.ndarray:
        return np.asarray(self.words, dtype=object)[self.ids]


def phrases(columns: dict[str, Sequence], words: Callable[..., str]) -> Phrases:
    """``words(**values)`` for each distinct combination of the columns' values, and each row's
    id into them."""
    frame = pd.DataFrame(columns)
    if frame.empty:
        return Phrases(np.zeros(0, dtype=np.int64), [])
    ids = frame.groupby(list(frame.columns), sort=False, dropna=False).ngroup().to_numpy()
    _, first = np.unique(ids, return_index=True)
    records = frame.iloc[first].to_dict("records")
    return Phrases(ids, [words(**{k: _none(v) for k, v in r.items()}) for r in records])


def _none(value: object) -> object:
    return None if value is None or (isinstance(value, float) and np.isnan(value)) else value


def _join(words: list[str]) -> str:
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def _sentence(*parts: str | None) -> str:
    text = "; ".join(p for p in parts if p)
    return text[:1].upper() + text[1:]


def _list_column(values: pd.Series) -> pa.ListArray:
    return pa.array(values.to_numpy(dtype=object), type=pa.list_(pa.string()), from_pandas=True)


def _nth(lists: pa.ListArray, rank: int) -> np.ndarray:
    """Each row's ``rank``-th element, None where the list is shorter or missing."""
    sliced = pc.list_slice(lists, rank, rank + 1)
    has = pc.fill_null(pc.greater(pc.list_value_length(sliced), 0), False).to_numpy(
        zero_copy_only=False
    )
    out = np.full(len(lists), None, dtype=object)
    out[has] = pc.list_flatten(sliced).to_numpy(zero_copy_only=False)
    return out


def _counts(
    codes: np.ndarray, products: np.ndarray, customer_rows: np.ndarray, customers: pd.DataFrame
) -> np.ndarray:
    """The customer's own value of each count-like code (``offered_*``: the offered product's
    column), -1 where there is none."""
    counts = np.full(len(codes), -1.0)
    found = customer_rows >= 0
    for code in pd.unique(codes[pd.notna(codes)]):
        if not _COUNT.fullmatch(code):
            continue
        mask = (codes == code) & found
        if code.startswith("offered_"):
            for product in pd.unique(products[mask]):
                column = f"{product}{code.removeprefix('offered')}"
                take = mask & (products == product)
                if column in customers and take.any():
                    counts[take] = customers[column].to_numpy(dtype=float)[customer_rows[take]]
        elif code in customers:
            counts[mask] = customers[code].to_numpy(dtype=float)[customer_rows[mask]]
    return np.nan_to_num(counts, nan=-1.0)


_INTENT = re.compile(r"(?P<product>\w+)_intent_(?P<days>\d+)d")


def _times(count: object) -> str:
    return "" if not count > 0 else f" ({count:g} time{'s' if count != 1 else ''})"  # type: ignore[operator]


def _reason_words(product: object, **ranked: object) -> str:
    """The top reasons in words; the offered product named ("offered_intent_30d" -> "interest in
    mortgages ..."), and two intent windows of one product said once ("interest in mortgages:
    3 times in the last 30 days, 5 in the last 90")."""
    codes = []
    for rank in range(TOP_REASONS):
        code, count = ranked[f"code{rank}"], ranked[f"count{rank}"]
        if code is not None:
            code = str(code)
            if code.startswith("offered_") and product:
                code = f"{product}{code.removeprefix('offered')}"
            codes.append((code, count))
    intents = [(_INTENT.fullmatch(c), n) for c, n in codes]
    if len(codes) == 2 and all(m for m, _ in intents):
        (first, n1), (second, n2) = intents
        if first["product"] == second["product"] and n1 > 0 and n2 > 0:  # type: ignore[index, operator]
            topic = reason_in_words(f"{first['product']}_intent_1d").removesuffix(  # type: ignore[index]
                " in the last 1 days"
            )
            return (
                f"{topic}: {n1:g} time{'s' if n1 != 1 else ''} in the last {first['days']} days, "  # type: ignore[index, str-format]
                f"{n2:g} in the last {second['days']} days"  # type: ignore[index, str-format]
            )
    said = [reason_in_words(code) + _times(count) for code, count in codes]
    return _join(said) if said else ""


def reason_phrases(plan: pd.DataFrame, customers: pd.DataFrame) -> Phrases:
    """What raised each row's offer, in words; "" where scoring gave no reasons."""
    lists = _list_column(plan["reason_codes"])
    rows = pd.Index(customers["customer_key"]).get_indexer(plan["customer_key"])
    products = plan["product"].to_numpy(dtype=object)
    columns: dict[str, Sequence] = {"product": products}
    for rank in range(TOP_REASONS):
        codes = _nth(lists, rank)
        columns[f"code{rank}"] = codes
        columns[f"count{rank}"] = _counts(codes, products, rows, customers)
    return phrases(columns, _reason_words)


def _channel_words(channel: object, explored: object, offer: object, options: object) -> str:
    if channel is None:
        return ""
    name = CHANNEL_WORDS.get(str(channel), str(channel))
    if explored:
        return f"by {name} to learn how they answer this offer there (an exploration contact)"
    found = {
        c for o, _, c in (p.partition("/") for p in str(options or "").split("|")) if o == offer
    }
    open_channels = [CHANNEL_WORDS.get(c, c) for c in OUTBOUND_CHANNELS if c in found]
    if len(open_channels) <= 1:
        return f"by {name}, the only channel open to them for this offer"
    return f"by {name} because {name} answers best for them of {_join(open_channels)}"


def channel_phrases(plan: pd.DataFrame) -> Phrases:
    """Why each contact went by its channel (of the offer's pairs it was chosen among)."""
    options = pc.binary_join(_list_column(plan["options"]), "|").to_numpy(zero_copy_only=False)
    return phrases(
        {
            "channel": plan["channel"].to_numpy(dtype=object),
            "explored": plan["explored"].fillna(False).to_numpy(dtype=bool),
            "offer": plan["offer_id"].to_numpy(dtype=object),
            "options": options,
        },
        _channel_words,
    )


def local_minutes(
    instants: pd.Series, keys: pd.Series, customers: pd.DataFrame, default_zone: str
) -> np.ndarray:
    """Naive-UTC ``instants`` as minutes after local midnight in each customer's time zone."""
    zones = (
        customers.set_index("customer_key")["time_zone"]
        .reindex(keys.to_numpy())
        .fillna(default_zone)
        .to_numpy(dtype=object)
    )
    out = np.zeros(len(instants), dtype=np.int64)
    utc = pd.to_datetime(instants.reset_index(drop=True)).dt.tz_localize("UTC")
    for zone in pd.unique(zones):
        mask = zones == zone
        local = utc[mask].dt.tz_convert(zone)
        out[mask] = (local.dt.hour * 60 + local.dt.minute).to_numpy()
    return out


def _timing_words(earlier: object, minutes: object) -> str:
    if earlier is None:
        return SENT_AT_ONCE
    if earlier == QUIET_HOURS:
        hour, minute = divmod(int(minutes), 60)  # type: ignore[call-overload]
        return f"deferred to {hour:02d}:{minute:02d} local for quiet hours"
    return str(earlier)


def timing_phrases(plan: pd.DataFrame, customers: pd.DataFrame, default_zone: str) -> Phrases:
    """When each contact goes out: at once, past quiet hours (at their local time), or the
    send-time words arbitration already wrote."""
    earlier = plan["explanation"].to_numpy(dtype=object)
    minutes = np.full(len(plan), -1, dtype=np.int64)
    deferred = earlier == QUIET_HOURS
    if deferred.any():
        minutes[deferred] = local_minutes(
            plan.loc[deferred, "scheduled_at"],
            plan.loc[deferred, "customer_key"],
            customers,
            default_zone,
        )
    return phrases({"earlier": earlier, "minutes": minutes}, _timing_words)


def _would_have_been(offer: object, channel: object) -> str:
    where = (
        f"by {CHANNEL_WORDS.get(str(channel), channel)}" if channel else "on the website and app"
    )
    return f"{CONTROL} (it would have been {offer} {where})"


def _rule_words(action: object, offer: object, channel: object, earlier: object) -> str:
    """Control rows say what was held out; web rows keep arbitration's "no contact: ..." rule."""
    if action == "control":
        return _would_have_been(offer, channel)
    if action == "web":
        return f"{WEB}; {earlier}" if earlier else WEB
    return ADVISOR if action == "advisor_task" else ""


def _lifted(mask: np.ndarray, subset: Phrases | None) -> Phrases:
    """Phrases of the ``mask`` rows as phrases of all rows ("" elsewhere)."""
    ids = np.zeros(len(mask), dtype=np.int64)
    if subset is None:
        return Phrases(ids, [""])
    ids[mask] = subset.ids + 1
    return Phrases(ids, ["", *subset.words])


def explain_plan(plan: pd.DataFrame, customers: pd.DataFrame, default_zone: str) -> pd.DataFrame:
    """Write the sentence into ``plan["explanation"]`` for contact, control, web and advisor rows
    (in place; returns ``plan``). ``customers`` is the decision input (``customer_key``,
    ``time_zone`` and the features the reasons count)."""
    acting = plan["action"].isin(ACTING).to_numpy()
    if not acting.any():
        return plan
    rows = plan.loc[acting].reset_index(drop=True)
    reasons = reason_phrases(rows, customers)
    action = rows["action"].to_numpy(dtype=object)
    contact = action == "contact"
    channel = _lifted(contact, channel_phrases(rows[contact]) if contact.any() else None)
    timing = _lifted(
        contact, timing_phrases(rows[contact], customers, default_zone) if contact.any() else None
    )
    other = phrases(
        {
            "action": action,
            "offer": rows["offer_id"].to_numpy(dtype=object),
            "channel": np.where(action == "control", rows["channel"].to_numpy(dtype=object), None),
            "earlier": np.where(action == "web", rows["explanation"].to_numpy(dtype=object), None),
        },
        _rule_words,
    )

    def compose(reason: int, by: int, when: int, rule: int) -> str:
        held = other.words[rule] if other.words[rule].startswith(CONTROL) else None
        return _sentence(
            held,
            reasons.words[reason],
            channel.words[by],
            timing.words[when],
            None if held else other.words[rule],
        )

    sentence = phrases(
        {"reason": reasons.ids, "by": channel.ids, "when": timing.ids, "rule": other.ids},
        compose,
    )
    plan.loc[acting, "explanation"] = sentence.of_rows()
    return plan
