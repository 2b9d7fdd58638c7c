"""Diagnostic plots as PNG files: ROC, calibration, lift and feature importance."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from sklearn.metrics import roc_curve

from models.metrics import CALIBRATION_BINS


def _figure():
    import matplotlib

    matplotlib.use("Agg")  # files only, never a display
    import matplotlib.pyplot as plt

    return plt, *plt.subplots(figsize=(5.5, 4.5), dpi=100)


def _save(plt, fig, path: Path) -> Path:
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path


def roc_plot(labels: np.ndarray, scores: np.ndarray, title: str, path: Path) -> Path:
    plt, fig, ax = _figure()
    fpr, tpr, _ = roc_curve(labels, scores)
    ax.plot(fpr, tpr, label="model")
    ax.plot([0, 1], [0, 1], linestyle="--", color="grey", label="random")
    ax.set(xlabel="false positive rate", ylabel="true positive rate", title=f"ROC: {title}")
    ax.legend(loc="lower right")
    return _save(plt, fig, path)


def calibration_plot(labels: np.ndarray, scores: np.ndarray, title: str, path: Path) -> Path:
    plt, fig, ax = _figure()
    order = np.argsort(scores, kind="stable")
    bins = [part for part in np.array_split(order, CALIBRATION_BINS) if len(part)]
    predicted = [scores[b].mean() for b in bins]
    observed = [labels[b].mean() for b in bins]
    top = max(max(predicted), max(observed)) * 1.05 or 1.0
    ax.plot([0, top], [0, top], linestyle="--", color="grey", label="perfect")
    ax.plot(predicted, observed, marker="o", label="model")
    ax.set(
        xlabel="mean predicted probability", ylabel="observed rate", title=f"Calibration: {title}"
    )
    ax.legend(loc="upper left")
    return _save(plt, fig, path)


def lift_plot(labels: np.ndarray, scores: np.ndarray, title: str, path: Path) -> Path:
    plt, fig, ax = _figure()
    order = np.argsort(-scores, kind="stable")
    deciles = np.array_split(order, 10)
    base = labels.mean() or 1.0
    ax.bar(range(1, len(deciles) + 1), [labels[d].mean() / base for d in deciles])
    ax.axhline(1.0, linestyle="--", color="grey")
    ax.set(
        xlabel="score decile (1 = highest)", ylabel="lift over base rate", title=f"Lift: {title}"
    )
    return _save(plt, fig, path)


def importance_plot(importance: dict[str, float], title: str, path: Path, top: int = 20) -> Path:
    plt, fig, ax = _figure()
    ranked = sorted(importance.items(), key=lambda item: item[1])[-top:]
    ax.barh([name for name, _ in ranked], [value for _, value in ranked])
    ax.set(xlabel="total gain", title=f"Feature importance: {title}")
    ax.tick_params(axis="y", labelsize=7)
    return _save(plt, fig, path)
