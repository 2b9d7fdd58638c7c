"""Attribution models against credits computed by hand, and their invariants on random journeys."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
import pytest

from dagster_project.analytics.attribution import (
    MODELS,
    AttributionParams,
    _characteristic_function,
    _enumerated_shapley,
    _shapley_by_enumeration,
    _touches,
    _transition_counts,
    _universe,
    attribute,
    first_touch,
    last_touch,
    linear,
    markov,
    markov_removal_effects,
    position_based,
    shapley,
    time_decay,
)


def journeys(*rows: tuple) -> pd.DataFrame:
    """Rows of (touchpoints, days_before, converted, weight)."""
    return pd.DataFrame(rows, columns=["touchpoints", "days_before", "converted", "weight"])


def paths(*rows: tuple) -> pd.DataFrame:
    """Rows of (touchpoints, converted, weight), without days (Markov and Shapley ignore them)."""
    return pd.DataFrame(rows, columns=["touchpoints", "converted", "weight"])


# J1 (weight 2) email, web, push -> conversion, days 2, 1, 0
# J2 (weight 1) web -> conversion
# J3 (weight 3) push, email -> conversion, days 1, 0
# J4 (weight 1) email, push, web, email -> conversion, days 3, 2, 1, 0
# J5 (weight 5) sms, web -> no conversion: sms never converts, so it gets 0 everywhere
# J6 (weight 4) no touchpoints -> conversion: ignored, so the total is 2 + 1 + 3 + 1 = 7
TOY = journeys(
    (["email", "web", "push"], [2.0, 1.0, 0.0], True, 2),
    (["web"], [0.0], True, 1),
    (["push", "email"], [1.0, 0.0], True, 3),
    (["email", "push", "web", "email"], [3.0, 2.0, 1.0, 0.0], True, 1),
    (["sms", "web"], [1.0, 0.0], False, 5),
    ([], [], True, 4),
)
TOY_CONVERSIONS = 7.0

EXPECTED = {
    # First: J1 email 2, J2 web 1, J3 push 3, J4 email 1.
    "first_touch": {"email": 3.0, "push": 3.0, "sms": 0.0, "web": 1.0},
    # Last: J1 push 2, J2 web 1, J3 email 3, J4 email 1.
    "last_touch": {"email": 4.0, "push": 2.0, "sms": 0.0, "web": 1.0},
    # Linear: J1 2/3 each; J2 web 1; J3 3/2 each; J4 1/4 per touch, email twice.
    # email 2/3 + 3/2 + 1/2 = 8/3, web 2/3 + 1 + 1/4 = 23/12, push 2/3 + 3/2 + 1/4 = 29/12.
    "linear": {"email": 8 / 3, "push": 29 / 12, "sms": 0.0, "web": 23 / 12},
    # Time decay, half-life 1 day: days 0, 1, 2, 3 weigh 1, 1/2, 1/4, 1/8.
    # J1: 1/4, 1/2, 1 (sum 7/4) -> email 1/7, web 2/7, push 4/7, x2 -> 2/7, 4/7, 8/7.
    # J2: web 1.  J3: push 1/2, email 1 (sum 3/2) -> push 1/3, email 2/3, x3 -> 1, 2.
    # J4: 1/8, 1/4, 1/2, 1 (sum 15/8) -> email 1/15 + 8/15 = 3/5, push 2/15, web 4/15.
    # email 2/7 + 2 + 3/5 = 101/35, web 4/7 + 1 + 4/15 = 193/105, push 8/7 + 1 + 2/15 = 239/105.
    "time_decay": {"email": 101 / 35, "push": 239 / 105, "sms": 0.0, "web": 193 / 105},
    # Position based 40/20/40: J1 (3 touches) email .4, web .2, push .4, x2 -> .8, .4, .8;
    # J2 (1 touch) web 1; J3 (2 touches) 50/50, x3 -> push 1.5, email 1.5;
    # J4 (4 touches) email .4, push .1, web .1, email .4 -> email .8, push .1, web .1.
    # email .8 + 1.5 + .8 = 3.1, web .4 + 1 + .1 = 1.5, push .8 + 1.5 + .1 = 2.4.
    "position_based": {"email": 3.1, "push": 2.4, "sms": 0.0, "web": 1.5},
}

RULE_BASED: dict[str, Callable[[pd.DataFrame], pd.Series]] = {
    "first_touch": first_touch,
    "last_touch": last_touch,
    "linear": linear,
    "time_decay": lambda j: time_decay(j, half_life_days=1.0),
    "position_based": position_based,
}


@pytest.mark.parametrize("model", list(RULE_BASED))
def test_rule_based_models_match_hand_computed_credits(model: str) -> None:
    credits = RULE_BASED[model](TOY)
    assert list(credits.index) == ["email", "push", "sms", "web"]
    assert credits.to_dict() == pytest.approx(EXPECTED[model], rel=1e-12)
    assert credits.sum() == pytest.approx(TOY_CONVERSIONS, rel=1e-12)


def test_attribute_long_table_carries_every_model_and_the_params() -> None:
    table = attribute(TOY, AttributionParams(half_life_days=1.0))
    assert list(table.columns) == ["model", "touchpoint", "credit", "share"]
    assert list(table["model"].unique()) == list(MODELS)
    for model, expected in EXPECTED.items():
        rows = table[table["model"] == model].set_index("touchpoint")
        assert rows["credit"].to_dict() == pytest.approx(expected, rel=1e-12)
        assert rows["share"].to_dict() == pytest.approx(
            {k: v / TOY_CONVERSIONS for k, v in expected.items()}, rel=1e-12
        )


def test_position_based_uses_the_configured_shares() -> None:
    # 30/20/50 on one three-touch journey of weight 2: a .6, b .4, c 1.0.
    credits = position_based(
        journeys((["a", "b", "c"], [2.0, 1.0, 0.0], True, 2)), first_share=0.3, last_share=0.5
    )
    assert credits.to_dict() == pytest.approx({"a": 0.6, "b": 0.4, "c": 1.0}, rel=1e-12)


def test_time_decay_needs_one_day_per_touchpoint() -> None:
    with pytest.raises(ValueError, match="one value per touchpoint"):
        time_decay(journeys((["a", "b"], [1.0], True, 1)))


# --- Markov ----------------------------------------------------------------------------------


def test_markov_on_a_two_channel_graph() -> None:
    # [A, B] -> conversion, [A] -> null, [B] -> conversion, weight 1 each. Counts: start->A 2,
    # start->B 1, A->B 1, A->null 1, B->conversion 2. Transition matrix (rows from, columns to):
    #            A    B    conv null
    #   start  2/3  1/3    0    0
    #   A        0  1/2    0  1/2
    #   B        0    0    1    0
    # P = 2/3 * 1/2 * 1 + 1/3 * 1 = 2/3.
    # Without A (start->A goes to null): P = 1/3, removal effect 1 - (1/3)/(2/3) = 1/2.
    # Without B (start->B and A->B go to null): P = 0, removal effect 1.
    # Normalised: A 1/3, B 2/3 of 2 conversions -> A 2/3, B 4/3.
    data = paths((["A", "B"], True, 1), (["A"], False, 1), (["B"], True, 1))
    assert markov_removal_effects(data).to_dict() == pytest.approx({"A": 0.5, "B": 1.0})
    assert markov(data).to_dict() == pytest.approx({"A": 2 / 3, "B": 4 / 3}, rel=1e-12)


def test_markov_keeps_self_loops_and_gives_non_converting_channels_nothing() -> None:
    # [A, A] -> conversion (w 1), [A] -> null (w 1), [B, A] -> conversion (w 2),
    # [C, A] -> null (w 1). Counts: start->A 2, start->B 2, start->C 1, A->A 1 (the repeat),
    # A->conversion 1 + 2 = 3, A->null 1 + 1 = 2, B->A 2, C->A 1.
    #            A    B    C    conv null
    #   start  2/5  2/5  1/5    0    0
    #   A      1/6    0    0  3/6  2/6
    #   B        1    0    0    0    0
    #   C        1    0    0    0    0
    # x_A = x_A / 6 + 1/2 -> x_A = 3/5; x_B = x_C = x_A = 3/5; P = x_A = 3/5.
    # (A self-loop only delays absorption: without it x_A = 3/5 still. So the counts are checked
    # directly below; the probabilities cannot tell.)
    # Without A: nothing reaches conversion, P = 0, effect 1.
    # Without B: P = (2/5 + 1/5) * 3/5 = 9/25, effect 1 - (9/25) / (3/5) = 2/5.
    # Without C: P = (2/5 + 2/5) * 3/5 = 12/25, effect 1 - (12/25) / (3/5) = 1/5.
    # C is only in non-converting journeys: credit 0; A and B share the 3 conversions 1 : 2/5,
    # A 15/7, B 6/7.
    data = paths(
        (["A", "A"], True, 1), (["A"], False, 1), (["B", "A"], True, 2), (["C", "A"], False, 1)
    )
    touches = _touches(data)
    counts = _transition_counts(touches, _universe(touches))
    # States: start, A, B, C, conversion, null.
    np.testing.assert_array_equal(
        counts,
        [
            [0, 2, 2, 1, 0, 0],
            [0, 1, 0, 0, 3, 2],
            [0, 2, 0, 0, 0, 0],
            [0, 1, 0, 0, 0, 0],
            [0, 0, 0, 0, 0, 0],
            [0, 0, 0, 0, 0, 0],
        ],
    )
    assert markov_removal_effects(data).to_dict() == pytest.approx(
        {"A": 1.0, "B": 0.4, "C": 0.2}, rel=1e-12
    )
    assert markov(data).to_dict() == pytest.approx({"A": 15 / 7, "B": 6 / 7, "C": 0.0}, rel=1e-12)


def test_markov_without_conversions_credits_nothing() -> None:
    data = paths((["A", "B"], False, 3), (["B"], False, 1))
    assert markov_removal_effects(data).to_dict() == {"A": 0.0, "B": 0.0}
    assert markov(data).to_dict() == {"A": 0.0, "B": 0.0}


# --- Shapley ---------------------------------------------------------------------------------


SHAPLEY_TOY = paths(
    (["A", "A"], True, 2),  # set {A}
    (["B", "A"], True, 3),  # set {A, B}
    (["C", "B"], True, 1),  # set {B, C}
    (["D", "C"], False, 7),  # D never converts: a null player
)


def test_shapley_matches_the_definition_by_hand() -> None:
    # v: {A} 2, {B} 0, {C} 0, {A,B} 5, {A,C} 2, {B,C} 1, {A,B,C} 6 (D adds nothing).
    # Over A, B, C, weights |S|!(2-|S|)!/3!: 1/3, 1/6, 1/6, 1/3.
    # A: 1/3*2 + 1/6*(5-0) + 1/6*(2-0) + 1/3*(6-1) = 21/6 = 3.5  (closed form: 2 + 3/2)
    # B: 1/3*0 + 1/6*(5-2) + 1/6*(1-0) + 1/3*(6-2) = 2            (closed form: 3/2 + 1/2)
    # C: 1/3*0 + 1/6*(2-2) + 1/6*(1-0) + 1/3*(6-5) = 1/2          (closed form: 1/2)
    v = _characteristic_function(SHAPLEY_TOY)
    worth = {s: v(frozenset(s)) for s in ("A", "B", "C", "AB", "AC", "BC", "ABC", "ABCD")}
    assert worth == {"A": 2, "B": 0, "C": 0, "AB": 5, "AC": 2, "BC": 1, "ABC": 6, "ABCD": 6}
    expected = {"A": 3.5, "B": 2.0, "C": 0.5, "D": 0.0}
    assert shapley(SHAPLEY_TOY).to_dict() == pytest.approx(expected, rel=1e-12)
    assert _shapley_by_enumeration(SHAPLEY_TOY).to_dict() == pytest.approx(expected, rel=1e-12)


def test_enumeration_is_the_textbook_definition() -> None:
    # Glove game: A holds a left glove, B and C right ones; a pair is worth 1.
    # Over the 6 orders, A completes a pair whenever it is not first: 4/6 = 2/3. B does only in
    # A, B, C and C only in A, C, B: 1/6 each.
    def v(s: frozenset) -> float:
        return float("A" in s and ("B" in s or "C" in s))

    values = _enumerated_shapley(["A", "B", "C"], v)
    assert values.to_dict() == pytest.approx({"A": 2 / 3, "B": 1 / 6, "C": 1 / 6}, rel=1e-12)


def test_shapley_closed_form_equals_enumeration_on_random_journeys() -> None:
    data = random_journeys(np.random.default_rng(5), 60, channels=("a", "b", "c", "d", "e"))
    closed = shapley(data)
    assert len(closed) == 5
    pd.testing.assert_series_equal(closed, _shapley_by_enumeration(data), rtol=1e-12)


# --- invariants on random journeys -----------------------------------------------------------


def random_journeys(
    rng: np.random.Generator,
    n: int,
    channels: tuple[str, ...] = ("advisor", "email", "push", "sms", "web"),
    unit_weights: bool = False,
) -> pd.DataFrame:
    """n journeys of 0-6 touches, days decreasing to the end, about half converting."""
    rows = []
    for _ in range(n):
        length = int(rng.integers(0, 7))
        touches = [str(c) for c in rng.choice(channels, size=length)]
        days = sorted(rng.uniform(0, 30, size=length).round(2).tolist(), reverse=True)
        weight = 1 if unit_weights else int(rng.integers(1, 5))
        rows.append((touches, days, bool(rng.random() < 0.5), weight))
    return journeys(*rows)


RANDOM = random_journeys(np.random.default_rng(20260101), 200)


@pytest.mark.parametrize("model", MODELS)
def test_credits_sum_to_total_conversions(model: str) -> None:
    nonempty = RANDOM["touchpoints"].map(len) > 0
    total = float(RANDOM.loc[nonempty & RANDOM["converted"], "weight"].sum())
    rows = attribute(RANDOM)
    rows = rows[rows["model"] == model]
    assert total > 100
    assert rows["credit"].sum() == pytest.approx(total, rel=1e-9)
    assert rows["share"].sum() == pytest.approx(1.0, rel=1e-9)
    assert (rows["credit"] >= 0).all()


@pytest.mark.parametrize("model", MODELS)
def test_weight_two_equals_the_row_twice(model: str) -> None:
    data = random_journeys(np.random.default_rng(7), 40, unit_weights=True)
    row = int(np.flatnonzero(data["converted"] & (data["touchpoints"].map(len) >= 2))[0])
    weighted = data.copy()
    weighted.loc[row, "weight"] = 2
    duplicated = pd.concat([data, data.iloc[[row]]], ignore_index=True)
    once = attribute(data).set_index(["model", "touchpoint"]).loc[model, "credit"]
    twice = attribute(weighted).set_index(["model", "touchpoint"]).loc[model, "credit"]
    copied = attribute(duplicated).set_index(["model", "touchpoint"]).loc[model, "credit"]
    pd.testing.assert_series_equal(twice, copied, rtol=1e-12)
    assert not np.allclose(twice.to_numpy(), once.to_numpy())  # the weight did matter
