"""What the MLflow registry says each model is, for the data scientist reading it there.

The experiment and the registered model say what the model predicts, its label and window, what
is measured and how a version becomes champion; each version says what it was trained and judged
on, and the gate's same-holdout comparison with the champion and its decision.
"""

from __future__ import annotations

from models.metrics import HIGHER_IS_BETTER, METRIC_NAMES
from models.registry import GateResult
from models.specs import ModelSpec
from models.training_sets import TrainingSplit

DECISIONS = {
    "first_champion": "there was no champion: this version is champion",
    "promoted": "it won by the margin: this version is champion",
    "kept_champion": "it did not win by the margin: the champion stays",
    "champion_not_comparable": "the champion could not score this holdout: it stays champion",
    "refused_by_policy_value": "it won on the metric but its policy is worth less off-policy: "
    "the champion stays",
}


def model_description(
    spec: ModelSpec, label_days: int | None, gate_metric: str, gate_margin: float
) -> str:
    """The experiment's and the registered model's description (Markdown)."""
    window = f"the {label_days} days after" if label_days else "the label window after"
    about = f", one row per customer and {spec.subject}" if spec.subject else ", one per customer"
    better = "higher" if HIGHER_IS_BETTER.get(gate_metric, True) else "lower"
    return "\n\n".join(
        [
            f"**Predicts:** {spec.description}",
            f"**Label:** `{spec.label}` in `{spec.labels_table}` (1 when it happened, else 0) "
            f"in {window} each weekly snapshot of `training.customer_feature_snapshots`"
            f"{about}. Split by time and purged: the newest snapshot is the holdout.",
            f"**Metrics** (holdout, Platt-calibrated): {', '.join(METRIC_NAMES)}; "
            "`validation_*` on the validation snapshot, `uncalibrated_*` before calibration.",
            f"**Champion:** a new version is `challenger`; it becomes `champion` only when it "
            f"beats the champion on the same holdout by {gate_margin:g} on {gate_metric} "
            f"({better} is better), and, for offers and channels, its policy valued off-policy "
            "on the contacts made is not worse. Each version's description has its comparison.",
        ]
    )


def version_description(split: TrainingSplit, gate: GateResult) -> str:
    """A version's description (Markdown): its data, and the gate's comparison and decision."""
    lines = [f"**Gate: {gate.decision}**, {DECISIONS.get(gate.decision, gate.decision)}."]
    holdout = f"holdout snapshot {split.holdout_as_of.date()}, {len(split.holdout):,} rows"
    if gate.champion_value is not None:
        lines.append(
            f"Same holdout ({holdout}), {gate.metric}: challenger v{gate.challenger_version} "
            f"{gate.challenger_value:.4f}, champion v{gate.champion_version} "
            f"{gate.champion_value:.4f}: {gate.comparison()}."
        )
    else:
        lines.append(
            f"{gate.metric} on the holdout ({holdout}): {gate.challenger_value:.4f}; "
            f"{gate.comparison()}."
        )
    if gate.note:
        lines.append(f"Note: {gate.note}")
    train = ", ".join(str(t.date()) for t in split.train_as_of)
    lines.append(
        f"Trained on snapshots {train} ({len(split.train):,} rows), calibrated and early-stopped "
        f"on {split.validation_as_of.date()} ({len(split.validation):,} rows)."
    )
    return "\n\n".join(lines)
