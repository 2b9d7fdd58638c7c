"""Incrementality: conversion uplift of the treated over the global control group.

Input is one row per (customer, offer, channel) assignment: ``offer``, ``channel`` (where the
treated were contacted; for control rows, where they would have been), ``control``, ``converted``
and an optional ``weight`` (identical rows aggregated; 1 if absent). Per group of ``by`` columns,
plus an overall row where every ``by`` column is "all": the treated and control rates, the uplift
(their difference) with Newcombe's hybrid score interval (method 10 of Newcombe 1998, built from
the two Wilson intervals: it behaves with 0 conversions and small groups, where the Wald interval
collapses to a point), the relative uplift and the incremental conversions (uplift x treated).
An arm with no rows in a group gets NaN figures, and so does everything compared against it.

Feeding back into arbitration: a priority is propensity x ``value`` x channel response x
``business_weight`` (``config/offers.yaml``), i.e. it credits every conversion a contact is
followed by. The measured value of a contact is ``value x uplift``; setting ``business_weight``
to ``uplift / treated_rate`` (the share of the treated's conversions that are incremental) makes
the priority estimate incremental value instead. Use ``uplift_low`` to be conservative, only for
groups with enough volume; an offer whose lower bound is at or below 0 is a case for review (the
config requires a positive weight), not for a zero weight computed here.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy.stats import norm

ALL = "all"  # the value of every ``by`` column in the overall row

COLUMNS = (
    "treated_n",
    "treated_conversions",
    "treated_rate",
    "control_n",
    "control_conversions",
    "control_rate",
    "uplift",
    "uplift_low",
    "uplift_high",
    "relative_uplift",
    "incremental_conversions",
    "significant",
)


def _z(confidence: float) -> float:
    """The two-sided normal quantile for ``confidence`` (1.96 for 0.95)."""
    if not 0 < confidence < 1:
        raise ValueError("confidence must be strictly between 0 and 1")
    return float(norm.ppf(1 - (1 - confidence) / 2))


def _wilson(successes: np.ndarray, n: np.ndarray, z: float) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score interval, elementwise; NaN where n is 0 or NaN."""
    successes, n = np.asarray(successes, dtype=float), np.asarray(n, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        p = successes / n
        denominator = 1 + z**2 / n
        centre = (p + z**2 / (2 * n)) / denominator
        half = z / denominator * np.sqrt(p * (1 - p) / n + z**2 / (4 * n**2))
    empty = ~(n > 0)
    # At 0 or n successes the exact bound is 0 or 1: snap it, rather than keep rounding error.
    low = np.where(empty, np.nan, np.where(successes <= 0, 0.0, np.clip(centre - half, 0, 1)))
    high = np.where(empty, np.nan, np.where(successes >= n, 1.0, np.clip(centre + half, 0, 1)))
    return low, high


def _newcombe(
    x1: np.ndarray, n1: np.ndarray, x2: np.ndarray, n2: np.ndarray, z: float
) -> tuple[np.ndarray, np.ndarray]:
    """Newcombe's hybrid score interval for p1 - p2, elementwise; NaN where either n is 0/NaN."""
    x1, n1, x2, n2 = (np.asarray(a, dtype=float) for a in (x1, n1, x2, n2))
    with np.errstate(divide="ignore", invalid="ignore"):
        p1, p2 = x1 / n1, x2 / n2
    l1, u1 = _wilson(x1, n1, z)
    l2, u2 = _wilson(x2, n2, z)
    d = p1 - p2
    low = d - np.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2)
    high = d + np.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)
    return low, high


def wilson_interval(successes: float, n: float, confidence: float = 0.95) -> tuple[float, float]:
    """Wilson score interval for a proportion (successes of n); (NaN, NaN) when n is 0."""
    low, high = _wilson(np.array(successes), np.array(n), _z(confidence))
    return float(low), float(high)


def newcombe_interval(
    x1: float, n1: float, x2: float, n2: float, confidence: float = 0.95
) -> tuple[float, float]:
    """Newcombe hybrid score interval for x1/n1 - x2/n2 (independent proportions)."""
    low, high = _newcombe(np.array(x1), np.array(n1), np.array(x2), np.array(n2), _z(confidence))
    return float(low), float(high)


def _arms(outcomes: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    """Weighted n and conversions per group and arm: columns ``by``, treated_n,
    treated_conversions, control_n, control_conversions (NaN for an arm with no rows)."""
    weight = (
        outcomes["weight"].to_numpy(dtype=float)
        if "weight" in outcomes.columns
        else np.ones(len(outcomes))
    )
    if np.isnan(weight).any() or (weight < 0).any():
        raise ValueError("outcomes.weight must be non-negative numbers")
    keys = by or ["_overall"]  # no ``by``: one group of everything
    frame = outcomes[by].copy() if by else pd.DataFrame({"_overall": ALL}, index=outcomes.index)
    frame["arm"] = np.where(outcomes["control"].to_numpy(dtype=bool), "control", "treated")
    frame["n"] = weight
    frame["conversions"] = weight * outcomes["converted"].to_numpy(dtype=bool)
    sums = frame.groupby([*keys, "arm"], dropna=False)[["n", "conversions"]].sum().unstack("arm")
    out = pd.DataFrame(index=sums.index)
    for arm in ("treated", "control"):
        for field in ("n", "conversions"):
            column = (field, arm)
            out[f"{arm}_{field}"] = sums[column] if column in sums.columns else np.nan
    return out.reset_index()[[*by, *out.columns]]


def _effects(arms: pd.DataFrame, z: float) -> pd.DataFrame:
    """Rates, uplift, its interval and what follows from them, for each row of ``_arms``."""
    out = arms.copy()
    with np.errstate(divide="ignore", invalid="ignore"):
        out["treated_rate"] = out["treated_conversions"] / out["treated_n"]
        out["control_rate"] = out["control_conversions"] / out["control_n"]
    out["uplift"] = out["treated_rate"] - out["control_rate"]
    low, high = _newcombe(
        out["treated_conversions"],
        out["treated_n"],
        out["control_conversions"],
        out["control_n"],
        z,
    )
    out["uplift_low"], out["uplift_high"] = low, high
    control_rate = out["control_rate"].to_numpy(dtype=float)
    out["relative_uplift"] = np.where(
        control_rate > 0, out["uplift"] / np.where(control_rate > 0, control_rate, 1.0), np.nan
    )
    out["incremental_conversions"] = out["uplift"] * out["treated_n"]
    out["significant"] = (out["uplift_low"] > 0) | (out["uplift_high"] < 0)  # NaN: False
    return out


def incrementality(
    outcomes: pd.DataFrame,
    by: Sequence[str] = ("offer", "channel"),
    confidence: float = 0.95,
    overall: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """One row per group of ``by`` (sorted), then the overall row (every ``by`` column "all"):
    treated and control n, conversions and rates (weighted), uplift with its Newcombe interval at
    ``confidence``, relative uplift (NaN when the control rate is 0), incremental conversions and
    whether the interval excludes 0. Groups without control rows get NaN control figures.

    The overall row is computed from ``overall`` when given (default: every row of
    ``outcomes``): pass one row per customer and arm where a customer can be in several groups,
    or they count several times and the interval comes out too narrow."""
    by = list(by)
    missing = {*by, "control", "converted"} - set(outcomes.columns)
    if missing:
        raise ValueError(f"outcomes is missing columns {sorted(missing)}")
    z = _z(confidence)
    pooled = outcomes if overall is None else overall
    overall = pooled.drop(columns=[c for c in by if c in pooled]).assign(**dict.fromkeys(by, ALL))
    groups = _arms(outcomes, by) if by else pd.DataFrame()
    arms = pd.concat([groups, _arms(overall, by)], ignore_index=True)
    return _effects(arms, z)[[*by, *COLUMNS]]
