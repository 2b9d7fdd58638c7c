"""Multi-touch attribution: which touchpoints get credit for the conversions journeys end in.

Input is one row per journey: ``touchpoints`` (ordered oldest to newest), ``days_before`` (days
from each touch to the journey's end; needed by time decay only), ``converted`` and ``weight``
(identical journeys aggregated into one row; 1 if absent). Every model multiplies by ``weight``,
so a row of weight 2 counts exactly as two copies of it: aggregate first, then attribute.

Rules shared by every model:

- journeys without touchpoints are ignored everywhere (they are neither in the totals nor in the
  Markov chain), so "total conversions" means weighted conversions of non-empty journeys;
- for every model the credits sum to the total conversions (all zero when there are none);
- every touchpoint seen in any journey is in the result, sorted; touchpoints seen only in
  non-converting journeys get 0 credit in every model;
- a touchpoint repeated within a journey is credited per occurrence by the rule-based models
  (linear gives [A, B, A] two thirds to A) and once by Shapley (players are sets).

Rule-based models credit converted journeys only, each journey's credit summing to its weight:

- first touch / last touch: all of it to the first / last touch;
- linear: split evenly across touches;
- time decay: touch weights ``2 ** (-days_before / half_life_days)`` normalised within the
  journey (a touch one half-life older counts half as much);
- position based: one touch takes all; two touches split 50/50; three or more give
  ``first_share`` to the first, ``last_share`` to the last, the rest evenly to the middle ones.

Markov (data-driven): a first-order chain over ``start``, the touchpoints, ``conversion`` and
``null`` (where non-converting journeys end), with transition probabilities from weighted
transition counts (repeats of a touchpoint are self-transitions, kept: they delay absorption but
do not change where it ends). The conversion probability P from ``start`` is solved exactly as an
absorbing chain (one linear system, no simulation). The removal effect of t is
``1 - P_without_t / P``, where removing t sends every transition into t to ``null``; credits are
the removal effects, normalised to sum to 1 over the touchpoints of converting journeys, times the
total conversions (all zero if P is 0). ``markov_removal_effects`` reports the raw effects of every
touchpoint, including those seen only in non-converting journeys.

Shapley (Zhao et al. 2018): players are the distinct touchpoints and v(S) is the weighted
conversions of converted journeys whose touchpoint *set* is a subset of S. So v is a sum over
those sets T of ``c_T * u_T``, u_T being the unanimity game of T (1 if T is a subset of S, else
0). Shapley values are linear, and u_T's value is 1/|T| to each member of T (they are
symmetric, the others are null players, and efficiency makes it 1 in all), so each set's
conversions split equally among its members: exact and O(journeys), no enumeration of the 2^n
coalitions.
``_shapley_by_enumeration`` computes the same values from the definition, for tests.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from itertools import chain, combinations

import numpy as np
import pandas as pd

MODELS = (
    "first_touch",
    "last_touch",
    "linear",
    "time_decay",
    "position_based",
    "markov",
    "shapley",
)

MAX_ENUMERATED_PLAYERS = 16  # 2^16 coalitions: the definition is for checking, not production


@dataclass(frozen=True)
class AttributionParams:
    half_life_days: float = 7.0  # time decay: weight 2 ** (-days_before / half_life_days)
    first_share: float = 0.4  # position based: the first touch's share (three or more touches)
    last_share: float = 0.4  # position based: the last touch's share; the middle share the rest


# --- shared preparation ----------------------------------------------------------------------


def _as_list(value: object) -> list:
    """A touchpoint or days cell as a list; None / NaN (a missing list) is an empty one."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return []
    return list(value)  # type: ignore[call-overload]


def _weights(journeys: pd.DataFrame) -> np.ndarray:
    """Each row's weight (1 without a ``weight`` column); negative weights are an error."""
    if "weight" not in journeys.columns:
        return np.ones(len(journeys))
    weights = journeys["weight"].to_numpy(dtype=float)
    if np.isnan(weights).any() or (weights < 0).any():
        raise ValueError("journeys.weight must be non-negative numbers")
    return weights


def _touches(journeys: pd.DataFrame, *, days: bool = False) -> pd.DataFrame:
    """One row per touch: journey (row position), position, length, touchpoint, weight,
    converted, and days_before when asked. Empty journeys contribute no rows."""
    required = {"touchpoints", "converted"} | ({"days_before"} if days else set())
    missing = required - set(journeys.columns)
    if missing:
        raise ValueError(f"journeys is missing columns {sorted(missing)}")
    sequences = [_as_list(t) for t in journeys["touchpoints"]]
    lengths = np.fromiter((len(s) for s in sequences), dtype=np.int64, count=len(sequences))
    journey = np.repeat(np.arange(len(sequences)), lengths)
    offsets = np.repeat(np.cumsum(lengths) - lengths, lengths)
    touches = pd.DataFrame(
        {
            "journey": journey,
            "position": np.arange(int(lengths.sum())) - offsets,
            "length": lengths[journey],
            "touchpoint": pd.Series(list(chain.from_iterable(sequences)), dtype=object),
            "weight": _weights(journeys)[journey],
            "converted": journeys["converted"].to_numpy(dtype=bool)[journey],
        }
    )
    if days:
        day_lists = [_as_list(d) for d in journeys["days_before"]]
        if any(len(d) != len(s) for d, s in zip(day_lists, sequences, strict=True)):
            raise ValueError("journeys.days_before must have one value per touchpoint")
        before = np.fromiter(chain.from_iterable(day_lists), dtype=float, count=len(touches))
        if np.isnan(before).any() or (before < 0).any():
            raise ValueError("journeys.days_before must be non-negative numbers")
        touches["days_before"] = before
    return touches


def _universe(touches: pd.DataFrame) -> pd.Index:
    """Every touchpoint seen in any non-empty journey, sorted."""
    return pd.Index(sorted(touches["touchpoint"].unique()), name="touchpoint", dtype=object)


def _total_conversions(touches: pd.DataFrame) -> float:
    """Weighted conversions of non-empty journeys (each journey counted once)."""
    ends = touches[touches["position"] == 0]
    return float(ends.loc[ends["converted"], "weight"].sum())


def _credit(
    touches: pd.DataFrame, fraction: np.ndarray | pd.Series, universe: pd.Index | None = None
) -> pd.Series:
    """Sum weight x fraction over the converted journeys' touches, per touchpoint, every
    touchpoint of the universe (default: of ``touches``) present, 0 when it never converted."""
    credit = (touches["weight"] * fraction)[touches["converted"]]
    grouped = credit.groupby(touches.loc[touches["converted"], "touchpoint"]).sum()
    index = _universe(touches) if universe is None else universe
    return grouped.reindex(index, fill_value=0.0).astype(float).rename("credit")


# --- rule-based models -----------------------------------------------------------------------


# Each model has a public form over journeys and a private one over the per-touch table, which
# ``attribute`` builds once for all seven.


def first_touch(journeys: pd.DataFrame) -> pd.Series:
    """Each conversion credited to its journey's first touch."""
    return _first_touch(_touches(journeys))


def _first_touch(touches: pd.DataFrame) -> pd.Series:
    return _credit(touches, (touches["position"] == 0).astype(float))


def last_touch(journeys: pd.DataFrame) -> pd.Series:
    """Each conversion credited to its journey's last touch."""
    return _last_touch(_touches(journeys))


def _last_touch(touches: pd.DataFrame) -> pd.Series:
    return _credit(touches, (touches["position"] == touches["length"] - 1).astype(float))


def linear(journeys: pd.DataFrame) -> pd.Series:
    """Each conversion split evenly across its journey's touches."""
    return _linear(_touches(journeys))


def _linear(touches: pd.DataFrame) -> pd.Series:
    return _credit(touches, 1.0 / touches["length"])


def time_decay(journeys: pd.DataFrame, half_life_days: float = 7.0) -> pd.Series:
    """Each conversion split by ``2 ** (-days_before / half_life_days)``, normalised per journey."""
    return _time_decay(_touches(journeys, days=True), half_life_days)


def _time_decay(touches: pd.DataFrame, half_life_days: float) -> pd.Series:
    if not half_life_days > 0:
        raise ValueError("half_life_days must be positive")
    days = touches["days_before"]
    # Relative to the journey's newest touch (weight 1), so old journeys cannot underflow to 0/0.
    newest = days.groupby(touches["journey"]).transform("min")
    raw = np.exp2(-(days - newest) / half_life_days)
    return _credit(touches, raw / raw.groupby(touches["journey"]).transform("sum"))


def position_based(
    journeys: pd.DataFrame, first_share: float = 0.4, last_share: float = 0.4
) -> pd.Series:
    """U-shaped: ``first_share`` and ``last_share`` to the ends, the rest to the middle touches;
    a single touch takes all, two touches split 50/50."""
    return _position_based(_touches(journeys), first_share, last_share)


def _position_based(touches: pd.DataFrame, first_share: float, last_share: float) -> pd.Series:
    if first_share < 0 or last_share < 0 or first_share + last_share > 1:
        raise ValueError("first_share and last_share must be non-negative and sum to at most 1")
    position, length = touches["position"].to_numpy(), touches["length"].to_numpy()
    middle = (1.0 - first_share - last_share) / np.maximum(length - 2, 1)
    fraction = np.select(
        [length == 1, length == 2, position == 0, position == length - 1],
        [1.0, 0.5, first_share, last_share],
        default=middle,
    )
    return _credit(touches, fraction)


# --- Markov ----------------------------------------------------------------------------------


def _transition_counts(touches: pd.DataFrame, universe: pd.Index) -> np.ndarray:
    """Weighted transition counts between states ``start`` (0), the touchpoints (1..k, in
    universe order), ``conversion`` (k + 1) and ``null`` (k + 2)."""
    k = len(universe)
    state = universe.get_indexer(touches["touchpoint"]) + 1
    position, length = touches["position"].to_numpy(), touches["length"].to_numpy()
    weight = touches["weight"].to_numpy()
    previous = np.where(position == 0, 0, np.roll(state, 1))  # start, or the touch before
    last = position == length - 1
    end = np.where(touches["converted"].to_numpy()[last], k + 1, k + 2)
    counts = np.zeros((k + 3, k + 3))
    np.add.at(counts, (previous, state), weight)
    np.add.at(counts, (state[last], end), weight[last])
    return counts


def _conversion_probability(counts: np.ndarray, removed: int | None = None) -> float:
    """P(absorbed in ``conversion`` | ``start``), solving (I - Q) x = r over the transient states
    (start and touchpoints); a removed state's incoming transitions go to ``null`` instead."""
    k = counts.shape[0] - 3
    totals = counts.sum(axis=1, keepdims=True)
    transitions = np.divide(counts, totals, out=np.zeros_like(counts), where=totals > 0)
    transient = np.array([s for s in range(k + 1) if s != removed])
    q = transitions[np.ix_(transient, transient)]
    r = transitions[transient, k + 1]
    x = np.linalg.solve(np.eye(len(transient)) - q, r)
    return float(x[0])  # start is state 0, never removed


def markov_removal_effects(journeys: pd.DataFrame) -> pd.Series:
    """``1 - P_without_t / P`` for every touchpoint t (all 0 if P is 0), sorted."""
    return _removal_effects(_touches(journeys))


def _removal_effects(touches: pd.DataFrame) -> pd.Series:
    universe = _universe(touches)
    counts = _transition_counts(touches, universe)
    effects = pd.Series(0.0, index=universe, name="removal_effect")
    if len(universe) == 0:
        return effects
    p = _conversion_probability(counts)
    if p <= 0:
        return effects
    without = np.array([_conversion_probability(counts, s + 1) for s in range(len(universe))])
    effects[:] = np.clip(1.0 - without / p, 0.0, 1.0)  # in [0, 1] up to rounding
    return effects


def markov(journeys: pd.DataFrame) -> pd.Series:
    """Removal effects of the converting journeys' touchpoints, normalised, x total conversions."""
    return _markov(_touches(journeys))


def _markov(touches: pd.DataFrame) -> pd.Series:
    effects = _removal_effects(touches)
    converting = effects.index.isin(touches.loc[touches["converted"], "touchpoint"].unique())
    effects = effects.where(converting, 0.0)
    total = effects.sum()
    scale = _total_conversions(touches) / total if total > 0 else 0.0
    return (effects * scale).rename("credit")


# --- Shapley ---------------------------------------------------------------------------------


def _coalition_worth(touches: pd.DataFrame) -> dict[frozenset, float]:
    """c_T: weighted conversions per distinct touchpoint set T of the converted journeys."""
    converted = touches[touches["converted"]]
    by_journey = converted.groupby("journey")
    sets = by_journey["touchpoint"].agg(lambda t: frozenset(t))
    worth: dict[frozenset, float] = {}
    for members, weight in zip(sets, by_journey["weight"].first(), strict=True):
        worth[members] = worth.get(members, 0.0) + float(weight)
    return worth


def shapley(journeys: pd.DataFrame) -> pd.Series:
    """Exact Shapley values: each touchpoint set's conversions split equally among its members.

    Journeys sharing a set split identically, so splitting journey by journey (vectorised, no
    per-set keys) gives the same sums as grouping by set first."""
    return _shapley(_touches(journeys))


def _shapley(touches: pd.DataFrame) -> pd.Series:
    distinct = touches[touches["converted"]].drop_duplicates(["journey", "touchpoint"])
    members = distinct.groupby("journey")["touchpoint"].transform("size")
    return _credit(distinct, 1.0 / members, _universe(touches))


def _characteristic_function(journeys: pd.DataFrame) -> Callable[[frozenset], float]:
    """v(S): weighted conversions of converted journeys whose touchpoint set is within S."""
    worth = _coalition_worth(_touches(journeys))
    return lambda coalition: sum(c for members, c in worth.items() if members <= coalition)


def _enumerated_shapley(players: Sequence, v: Callable[[frozenset], float]) -> pd.Series:
    """Shapley values from the definition: sum over coalitions S without i of
    |S|! (n - |S| - 1)! / n! x (v(S + i) - v(S)). Exponential in the number of players."""
    n = len(players)
    if n > MAX_ENUMERATED_PLAYERS:
        raise ValueError(f"{n} players: enumeration is limited to {MAX_ENUMERATED_PLAYERS}")
    values = {}
    for player in players:
        others = [p for p in players if p != player]
        total = 0.0
        for size in range(n):
            factor = math.factorial(size) * math.factorial(n - size - 1) / math.factorial(n)
            for coalition in combinations(others, size):
                s = frozenset(coalition)
                total += factor * (v(s | {player}) - v(s))
        values[player] = total
    return pd.Series(values, dtype=float).sort_index().rename("credit")


def _shapley_by_enumeration(journeys: pd.DataFrame) -> pd.Series:
    """``shapley`` computed over all coalitions of all touchpoints (players of non-converting
    journeys included): the reference the closed form is checked against."""
    players = list(_universe(_touches(journeys)))
    out = _enumerated_shapley(players, _characteristic_function(journeys))
    out.index.name = "touchpoint"
    return out


# --- all models ------------------------------------------------------------------------------


def _model_credits(touches: pd.DataFrame, params: AttributionParams) -> dict[str, pd.Series]:
    first, last = params.first_share, params.last_share
    return {
        "first_touch": _first_touch(touches),
        "last_touch": _last_touch(touches),
        "linear": _linear(touches),
        "time_decay": _time_decay(touches, params.half_life_days),
        "position_based": _position_based(touches, first, last),
        "markov": _markov(touches),
        "shapley": _shapley(touches),
    }


def attribute(
    journeys: pd.DataFrame, params: AttributionParams = AttributionParams()
) -> pd.DataFrame:
    """Long table: model, touchpoint, credit (conversions credited; for each model the credits sum
    to the total weighted conversions), share (credit / total conversions; NaN when there are
    none). Models in ``MODELS`` order, touchpoints sorted."""
    touches = _touches(journeys, days=True)  # once, for all seven models
    total = _total_conversions(touches)
    credits = _model_credits(touches, params)
    frames = [
        pd.DataFrame(
            {
                "model": model,
                "touchpoint": credits[model].index.to_numpy(dtype=object),
                "credit": credits[model].to_numpy(dtype=float),
            }
        )
        for model in MODELS
    ]
    out = pd.concat(frames, ignore_index=True)
    out["share"] = out["credit"] / total if total > 0 else np.nan
    return out
