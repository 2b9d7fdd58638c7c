"""Linkage accuracy against a known truth: pairwise and whole-cluster precision, recall, F1.

Pairwise counts every pair of records placed together; cluster scores count clusters recovered
exactly. Pairs are counted from cluster sizes (n choose 2), never enumerated, so this is cheap at
millions of records.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import pandas as pd


@dataclass(frozen=True)
class LinkageAccuracy:
    records: int
    true_pairs: int
    predicted_pairs: int
    true_positive_pairs: int
    pair_precision: float
    pair_recall: float
    pair_f1: float
    true_clusters: int
    predicted_clusters: int
    exact_clusters: int
    cluster_precision: float
    cluster_recall: float
    cluster_f1: float

    def as_dict(self) -> dict[str, float | int]:
        return asdict(self)


def _pairs(sizes: pd.Series) -> int:
    return int((sizes * (sizes - 1) // 2).sum())


def _f1(precision: float, recall: float) -> float:
    return 2 * precision * recall / (precision + recall) if precision + recall else 0.0


def linkage_accuracy(predicted: pd.Series, truth: pd.Series) -> LinkageAccuracy:
    """Compare two labellings of the same records (both indexed by record id)."""
    frame = pd.DataFrame({"predicted": predicted, "truth": truth}).dropna()
    true_pairs = _pairs(frame.groupby("truth").size())
    predicted_pairs = _pairs(frame.groupby("predicted").size())
    overlap = _pairs(frame.groupby(["predicted", "truth"]).size())
    precision = overlap / predicted_pairs if predicted_pairs else 1.0
    recall = overlap / true_pairs if true_pairs else 1.0

    # A predicted cluster is exact when it holds all of one true cluster and nothing else.
    sizes_p = frame.groupby("predicted").size()
    sizes_t = frame.groupby("truth").size()
    joint = frame.groupby(["predicted", "truth"]).size().reset_index(name="n")
    joint = joint[
        (joint["n"].to_numpy() == sizes_p.loc[joint["predicted"]].to_numpy())
        & (joint["n"].to_numpy() == sizes_t.loc[joint["truth"]].to_numpy())
    ]
    exact = len(joint)
    cluster_precision = exact / len(sizes_p) if len(sizes_p) else 1.0
    cluster_recall = exact / len(sizes_t) if len(sizes_t) else 1.0
    return LinkageAccuracy(
        records=len(frame),
        true_pairs=true_pairs,
        predicted_pairs=predicted_pairs,
        true_positive_pairs=overlap,
        pair_precision=precision,
        pair_recall=recall,
        pair_f1=_f1(precision, recall),
        true_clusters=len(sizes_t),
        predicted_clusters=len(sizes_p),
        exact_clusters=exact,
        cluster_precision=cluster_precision,
        cluster_recall=cluster_recall,
        cluster_f1=_f1(cluster_precision, cluster_recall),
    )


def _cross_pairs(counts: pd.DataFrame, keys: list[str], a: str, b: str) -> int:
    """Pairs with one record from source ``a`` and one from ``b`` within each group of ``keys``."""
    table = counts.groupby([*keys, "source"]).size().unstack("source", fill_value=0)
    if a not in table or b not in table:
        return 0
    return int((table[a] * table[b]).sum())


def accuracy_by_source_pair(
    predicted: pd.Series, truth: pd.Series, source: pd.Series
) -> dict[str, LinkageAccuracy]:
    """Per pair of sources ("crm__customers~contact_centre__calls", and a source with itself):
    pairwise scores over the pairs with one record from each (within a source, its own pairs),
    and cluster scores over the clusters restricted to those two sources' records."""
    frame = pd.DataFrame({"predicted": predicted, "truth": truth, "source": source}).dropna()
    names = sorted(frame["source"].unique())
    out: dict[str, LinkageAccuracy] = {}
    for i, a in enumerate(names):
        for b in names[i:]:
            part = frame[frame["source"].isin([a, b])]
            whole = linkage_accuracy(part["predicted"], part["truth"])
            if a == b:
                out[f"{a}~{a}"] = whole
                continue
            true_pairs = _cross_pairs(part, ["truth"], a, b)
            predicted_pairs = _cross_pairs(part, ["predicted"], a, b)
            overlap = _cross_pairs(part, ["predicted", "truth"], a, b)
            precision = overlap / predicted_pairs if predicted_pairs else 1.0
            recall = overlap / true_pairs if true_pairs else 1.0
            out[f"{a}~{b}"] = LinkageAccuracy(
                **{
                    **whole.as_dict(),
                    "true_pairs": true_pairs,
                    "predicted_pairs": predicted_pairs,
                    "true_positive_pairs": overlap,
                    "pair_precision": precision,
                    "pair_recall": recall,
                    "pair_f1": _f1(precision, recall),
                }
            )
    return out
