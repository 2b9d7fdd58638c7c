"""Holdout metrics every model reports and the promotion gate compares."""

from __future__ import annotations

import numpy as np
from sklearn.metrics import average_precision_score, log_loss, roc_auc_score

CALIBRATION_BINS = 10


def expected_calibration_error(labels: np.ndarray, scores: np.ndarray) -> float:
    """Mean |observed rate - mean score| over equal-count score bins, weighted by bin size."""
    order = np.argsort(scores, kind="stable")
    gaps = [
        abs(labels[part].mean() - scores[part].mean()) * len(part)
        for part in np.array_split(order, CALIBRATION_BINS)
        if len(part)
    ]
    return float(sum(gaps) / len(scores))


def top_decile_lift(labels: np.ndarray, scores: np.ndarray) -> float:
    """Positive rate among the 10% highest scores over the overall positive rate."""
    top = np.argsort(-scores, kind="stable")[: max(1, len(scores) // 10)]
    base = labels.mean()
    return float(labels[top].mean() / base) if base > 0 else float("nan")


def holdout_metrics(labels: np.ndarray, scores: np.ndarray) -> dict[str, float]:
    labels = np.asarray(labels, dtype=np.float64)
    scores = np.clip(np.asarray(scores, dtype=np.float64), 1e-7, 1 - 1e-7)
    return {
        "roc_auc": float(roc_auc_score(labels, scores)),
        "pr_auc": float(average_precision_score(labels, scores)),
        "log_loss": float(log_loss(labels, scores, labels=[0, 1])),
        "calibration_error": expected_calibration_error(labels, scores),
        "top_decile_lift": top_decile_lift(labels, scores),
        "positive_rate": float(labels.mean()),
    }


# Every metric holdout_metrics reports, in its order (for descriptions).
METRIC_NAMES = (
    "roc_auc",
    "pr_auc",
    "log_loss",
    "calibration_error",
    "top_decile_lift",
    "positive_rate",
)

# For the promotion gate: whether a larger value of the metric is better.
HIGHER_IS_BETTER = {
    "roc_auc": True,
    "pr_auc": True,
    "top_decile_lift": True,
    "log_loss": False,
    "calibration_error": False,
}
