"""Incrementality against published interval values and hand-computed group figures."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from dagster_project.analytics.incrementality import (
    ALL,
    COLUMNS,
    incrementality,
    newcombe_interval,
    wilson_interval,
)
from dagster_project.analytics.outcomes import first_per_customer

Z = 1.959963984540054  # norm.ppf(0.975)


def test_wilson_interval_five_of_ten() -> None:
    # p = 1/2, z^2/n = 0.38415: centre 1/2, half-width z/(1 + z^2/n) * sqrt(1/40 + z^2/400)
    # = 1.41600 * 0.18602 = 0.26341.
    low, high = wilson_interval(5, 10, 0.95)
    assert (round(low, 4), round(high, 4)) == (0.2366, 0.7634)


def test_wilson_interval_at_the_edges() -> None:
    # 0 of n: (0, z^2 / (n + z^2)); n of n is its mirror image; n = 0 is undefined.
    assert wilson_interval(0, 10) == (0.0, pytest.approx(Z**2 / (10 + Z**2), rel=1e-12))
    assert wilson_interval(10, 10) == (pytest.approx(10 / (10 + Z**2), rel=1e-12), 1.0)
    assert all(math.isnan(b) for b in wilson_interval(0, 0))
    # A wider confidence gives a wider interval.
    assert wilson_interval(5, 10, 0.99)[0] < 0.2366


def test_newcombe_interval_published_example() -> None:
    # Newcombe (1998), Stat Med 17:873, example (a): 56/70 - 48/80 = 0.2, hybrid score 95% CI
    # 0.0524 to 0.3339.
    low, high = newcombe_interval(56, 70, 48, 80, 0.95)
    assert (round(low, 4), round(high, 4)) == (0.0524, 0.3339)


def outcomes(*rows: tuple) -> pd.DataFrame:
    """Rows of (offer, channel, control, converted, weight)."""
    return pd.DataFrame(rows, columns=["offer", "channel", "control", "converted", "weight"])


# o1/email: treated 56 of 70, control 48 of 80 (Newcombe's example).
# o2/sms: treated 2 of 10, no control rows.
# o3/push: treated 0 of 20, control 0 of 10.
DATA = outcomes(
    ("o1", "email", False, True, 56),
    ("o1", "email", False, False, 14),
    ("o1", "email", True, True, 48),
    ("o1", "email", True, False, 32),
    ("o2", "sms", False, True, 2),
    ("o2", "sms", False, False, 8),
    ("o3", "push", False, False, 20),
    ("o3", "push", True, False, 10),
)


def row(table: pd.DataFrame, offer: str) -> pd.Series:
    matches = table[table["offer"] == offer]
    assert len(matches) == 1
    return matches.iloc[0]


def test_groups_and_columns() -> None:
    table = incrementality(DATA)
    assert list(table.columns) == ["offer", "channel", *COLUMNS]
    assert list(zip(table["offer"], table["channel"], strict=True)) == [
        ("o1", "email"),
        ("o2", "sms"),
        ("o3", "push"),
        ("all", "all"),
    ]


def test_group_with_control_matches_newcombe() -> None:
    o1 = row(incrementality(DATA), "o1")
    assert (o1.treated_n, o1.treated_conversions, o1.control_n, o1.control_conversions) == (
        70,
        56,
        80,
        48,
    )
    assert o1.treated_rate == pytest.approx(0.8)
    assert o1.control_rate == pytest.approx(0.6)
    assert o1.uplift == pytest.approx(0.2)
    assert (round(o1.uplift_low, 4), round(o1.uplift_high, 4)) == (0.0524, 0.3339)
    assert o1.relative_uplift == pytest.approx(0.2 / 0.6)
    assert o1.incremental_conversions == pytest.approx(14.0)  # 0.2 x 70
    assert o1.significant


def test_zero_conversions_give_a_finite_interval() -> None:
    # Both rates 0: Wilson (0, z^2/(n+z^2)) on each side, so the Newcombe interval is
    # (0 - sqrt(0 + u_control^2), 0 + sqrt(u_treated^2 + 0)) = (-u(0 of 10), u(0 of 20)).
    o3 = row(incrementality(DATA), "o3")
    assert o3.uplift == 0.0
    assert o3.uplift_low == pytest.approx(-(Z**2) / (10 + Z**2), rel=1e-9)
    assert o3.uplift_high == pytest.approx(Z**2 / (20 + Z**2), rel=1e-9)
    assert math.isnan(o3.relative_uplift)  # control rate 0
    assert o3.incremental_conversions == 0.0
    assert not o3.significant


def test_group_without_control_is_nan() -> None:
    o2 = row(incrementality(DATA), "o2")
    assert (o2.treated_n, o2.treated_conversions, o2.treated_rate) == (10, 2, pytest.approx(0.2))
    figures = [
        "control_n",
        "control_conversions",
        "control_rate",
        "uplift",
        "uplift_low",
        "uplift_high",
        "relative_uplift",
        "incremental_conversions",
    ]
    assert all(math.isnan(o2[f]) for f in figures)
    assert not o2.significant


def test_all_row_pools_every_group() -> None:
    # Treated 70 + 10 + 20 = 100 with 56 + 2 + 0 = 58 conversions; control 80 + 10 = 90 with 48.
    # Uplift 0.58 - 48/90 = 0.04667; incremental 4.667; relative 0.04667 / 0.53333 = 0.0875.
    overall = row(incrementality(DATA), "all")
    assert overall.channel == "all"
    assert (overall.treated_n, overall.treated_conversions) == (100, 58)
    assert (overall.control_n, overall.control_conversions) == (90, 48)
    assert overall.uplift == pytest.approx(0.58 - 48 / 90)
    assert overall.incremental_conversions == pytest.approx((0.58 - 48 / 90) * 100)
    assert overall.relative_uplift == pytest.approx(0.0875)
    assert (overall.uplift_low, overall.uplift_high) == pytest.approx(
        newcombe_interval(58, 100, 48, 90)
    )
    assert not overall.significant  # the interval straddles 0


def test_weights_equal_repeated_rows_and_other_groupings() -> None:
    # Without a weight column every row counts once: expand each row into `weight` copies.
    expanded = DATA.loc[DATA.index.repeat(DATA["weight"])].drop(columns="weight")
    pd.testing.assert_frame_equal(
        incrementality(expanded, by=("offer",)), incrementality(DATA, by=("offer",))
    )
    by_channel = incrementality(DATA, by=("channel",))
    assert list(by_channel["channel"]) == ["email", "push", "sms", "all"]
    overall = incrementality(DATA, by=())
    assert len(overall) == 1
    assert overall["uplift"].iloc[0] == pytest.approx(0.58 - 48 / 90)


def test_negative_uplift_can_be_significant() -> None:
    # Treated 10 of 100 against control 50 of 100: the whole interval is below 0.
    data = outcomes(
        ("o", "email", False, True, 10),
        ("o", "email", False, False, 90),
        ("o", "email", True, True, 50),
        ("o", "email", True, False, 50),
    )
    o = row(incrementality(data), "o")
    assert o.uplift == pytest.approx(-0.4)
    assert o.uplift_high < 0
    assert o.significant


def test_confidence_must_be_a_probability() -> None:
    with pytest.raises(ValueError, match="confidence"):
        incrementality(DATA, confidence=95)
    with pytest.raises(ValueError, match="confidence"):
        wilson_interval(1, 2, 1.0)


def test_the_overall_row_can_count_each_customer_once() -> None:
    # Customer a was treated twice (two offers) and converted once; b is the control.
    rows = pd.DataFrame(
        {
            "customer_key": ["a", "a", "b"],
            "offer": ["o1", "o2", "o1"],
            "channel": ["email", "email", "email"],
            "control": [False, False, True],
            "converted": [True, True, False],
            "decided_at": pd.to_datetime(["2026-03-01", "2026-03-02", "2026-03-01"]),
        }
    )
    pooled = incrementality(rows).set_index("offer").loc[ALL]
    once = incrementality(rows, overall=first_per_customer(rows)).set_index("offer").loc[ALL]
    assert (pooled["treated_n"], once["treated_n"]) == (2, 1)
    assert once["treated_conversions"] == 1 and once["control_n"] == 1
