"""Path analysis: the touchpoint sequences journeys take, and which of them convert.

A path is a journey's channels with repeats in a row collapsed ("web > web > email" is
"web > email"), cut to its last ``PATH_STEPS`` steps, the ones nearest the outcome. The common
paths before conversion are counted per product; a path "converts unexpectedly well" when its
conversion rate beats its product's rate by at least ``MIN_LIFT`` with at least ``MIN_SUPPORT``
journeys behind it and a one-sided binomial z of at least 2 against the product's rate.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

PATH_STEPS = 4
MIN_SUPPORT = 20
MIN_LIFT = 1.5
MIN_Z = 2.0
ARROW = " > "


def steps_of(touchpoints: list[str] | np.ndarray) -> list[str]:
    """A sequence with repeats in a row removed: [web, web, email, web] -> [web, email, web]."""
    collapsed: list[str] = []
    for touch in touchpoints:
        if not collapsed or collapsed[-1] != touch:
            collapsed.append(str(touch))
    return collapsed


def collapse(touchpoints: list[str] | np.ndarray, steps: int = PATH_STEPS) -> str:
    """The last ``steps`` steps of a sequence with repeats in a row removed, joined by ' > '."""
    return _path(steps_of(touchpoints), steps)


def _path(steps: list[str], last: int = PATH_STEPS) -> str:
    return ARROW.join(steps[-last:])


def with_paths(journeys: pd.DataFrame) -> pd.DataFrame:
    """Journeys that had at least one touch, with their ``steps`` and their ``path``."""
    touched = journeys[journeys["touchpoints"].map(len) > 0].copy()
    touched["steps"] = touched["touchpoints"].map(steps_of)
    touched["path"] = touched["steps"].map(_path)
    return touched


def top_paths(paths: pd.DataFrame, per_product: int = 10) -> pd.DataFrame:
    """The most common paths before conversion, per product, with their share of conversions."""
    converted = paths[paths["converted"]]
    counts = converted.groupby(["product", "path"]).size().rename("conversions").reset_index()
    counts["share"] = counts["conversions"] / counts.groupby("product")["conversions"].transform(
        "sum"
    )
    counts = counts.sort_values(["product", "conversions", "path"], ascending=[True, False, True])
    return counts.groupby("product").head(per_product).reset_index(drop=True)


def path_conversion(paths: pd.DataFrame) -> pd.DataFrame:
    """Every path's journeys, conversions and rate beside its product's rate, with the lift and
    a binomial z against the product's rate; ``stands_out`` marks the unexpectedly good ones."""
    stats = (
        paths.groupby(["product", "path"])["converted"]
        .agg(journeys="size", conversions="sum")
        .reset_index()
    )
    base = paths.groupby("product")["converted"].mean().rename("product_rate")
    stats = stats.join(base, on="product")
    stats["rate"] = stats["conversions"] / stats["journeys"]
    stats["lift"] = stats["rate"] / stats["product_rate"].where(stats["product_rate"] > 0)
    spread = np.sqrt(stats["product_rate"] * (1 - stats["product_rate"]) / stats["journeys"])
    stats["z"] = (stats["rate"] - stats["product_rate"]) / spread.where(spread > 0)
    stats["stands_out"] = (
        (stats["journeys"] >= MIN_SUPPORT) & (stats["lift"] >= MIN_LIFT) & (stats["z"] >= MIN_Z)
    )
    return stats.sort_values(
        ["stands_out", "lift", "journeys"], ascending=[False, False, False], ignore_index=True
    )
