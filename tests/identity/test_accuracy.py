from __future__ import annotations

import pandas as pd
import pytest

from dagster_project.identity.accuracy import linkage_accuracy


def test_hand_computed_example() -> None:
    # truth: {a,b,c} {d,e} {f}; predicted: {a,b} {c,d,e} {f}
    truth = pd.Series({"a": 1, "b": 1, "c": 1, "d": 2, "e": 2, "f": 3})
    predicted = pd.Series({"a": "x", "b": "x", "c": "y", "d": "y", "e": "y", "f": "z"})
    acc = linkage_accuracy(predicted, truth)
    # true pairs: ab ac bc de = 4; predicted pairs: ab cd ce de = 4; both: ab de = 2
    assert (acc.true_pairs, acc.predicted_pairs, acc.true_positive_pairs) == (4, 4, 2)
    assert acc.pair_precision == pytest.approx(0.5)
    assert acc.pair_recall == pytest.approx(0.5)
    assert acc.pair_f1 == pytest.approx(0.5)
    # only {f} is recovered exactly: 1 of 3 predicted clusters, 1 of 3 true clusters
    assert acc.exact_clusters == 1
    assert acc.cluster_precision == pytest.approx(1 / 3)
    assert acc.cluster_f1 == pytest.approx(1 / 3)


def test_perfect_and_all_singletons() -> None:
    truth = pd.Series({"a": 1, "b": 1, "c": 2})
    assert linkage_accuracy(truth.map({1: "p", 2: "q"}), truth).pair_f1 == 1.0
    singletons = linkage_accuracy(pd.Series({"a": 1, "b": 2, "c": 3}), truth)
    assert singletons.pair_recall == 0.0
    assert singletons.pair_precision == 1.0  # no predicted pair is wrong
    assert singletons.exact_clusters == 1  # {c}
