"""Point-in-time training sets and their time-based split.

A training row is a customer's features at a past snapshot T (from
``training.customer_feature_snapshots``, which reads only data before T) joined to a label read from
the window [T, T + label days). The split is by time and *purged*: validation rows come from a
snapshot whose label window has closed by the holdout snapshot, and training rows from snapshots
whose label windows closed by the validation snapshot, so no row's label overlaps the features or
labels of a later split.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb
import pandas as pd

from models.specs import ModelSpec

SNAPSHOTS_TABLE = "training.training_snapshots"
FEATURE_SNAPSHOTS_TABLE = "training.customer_feature_snapshots"


class TrainingDataError(RuntimeError):
    """The warehouse does not (yet) hold enough history to train and evaluate a model."""


@dataclass(frozen=True)
class TrainingSplit:
    train: pd.DataFrame
    validation: pd.DataFrame  # early stopping and calibration
    holdout: pd.DataFrame  # metrics and the champion/challenger comparison
    train_as_of: list[pd.Timestamp]
    validation_as_of: pd.Timestamp
    holdout_as_of: pd.Timestamp

    def describe(self) -> dict[str, object]:
        return {
            "train_snapshots": ", ".join(str(t.date()) for t in self.train_as_of),
            "validation_snapshot": str(self.validation_as_of.date()),
            "holdout_snapshot": str(self.holdout_as_of.date()),
            "train_rows": len(self.train),
            "validation_rows": len(self.validation),
            "holdout_rows": len(self.holdout),
        }


def load_training_set(conn: duckdb.DuckDBPyConnection, spec: ModelSpec) -> pd.DataFrame:
    """Features at each snapshot beside the spec's label, ordered deterministically."""
    label_columns = ", ".join(f"l.{c}" for c in (*spec.keys[2:], spec.label))
    order = ", ".join(f"f.{c}" if c in ("customer_key", "as_of") else f"l.{c}" for c in spec.keys)
    return conn.execute(
        f"""
        SELECT f.*, {label_columns}
        FROM {FEATURE_SNAPSHOTS_TABLE} AS f
        JOIN {spec.labels_table} AS l USING (customer_key, as_of)
        ORDER BY {order}
        """
    ).df()


def snapshot_windows(conn: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    return conn.execute(
        f"SELECT as_of, label_window_end FROM {SNAPSHOTS_TABLE} ORDER BY as_of"
    ).df()


def split_by_time(rows: pd.DataFrame, windows: pd.DataFrame, spec: ModelSpec) -> TrainingSplit:
    """Holdout = latest snapshot; validation and train purged of overlapping label windows."""
    if windows.empty:
        raise TrainingDataError(
            f"{spec.name}: {SNAPSHOTS_TABLE} is empty: the warehouse holds too little history "
            "for a snapshot plus a complete label window (see the training_* vars in dbt_project.yml)"
        )
    ends = dict(zip(windows["as_of"], windows["label_window_end"], strict=True))
    holdout_as_of = windows["as_of"].max()
    earlier = [t for t in windows["as_of"] if ends[t] <= holdout_as_of]
    if not earlier:
        raise TrainingDataError(
            f"{spec.name}: no snapshot's label window closes by the holdout snapshot "
            f"{holdout_as_of.date()}; more history is needed for a validation split"
        )
    validation_as_of = max(earlier)
    train_as_of = sorted(t for t in windows["as_of"] if ends[t] <= validation_as_of)
    if not train_as_of:
        raise TrainingDataError(
            f"{spec.name}: no snapshot's label window closes by the validation snapshot "
            f"{validation_as_of.date()}; more history is needed for a training split"
        )
    split = TrainingSplit(
        train=rows[rows["as_of"].isin(train_as_of)].reset_index(drop=True),
        validation=rows[rows["as_of"] == validation_as_of].reset_index(drop=True),
        holdout=rows[rows["as_of"] == holdout_as_of].reset_index(drop=True),
        train_as_of=train_as_of,
        validation_as_of=validation_as_of,
        holdout_as_of=holdout_as_of,
    )
    for part in ("train", "validation", "holdout"):
        labels = getattr(split, part)[spec.label]
        if labels.nunique() < 2:
            raise TrainingDataError(
                f"{spec.name}: the {part} split ({len(labels)} rows) has only one label value; "
                "more history or more customers are needed"
            )
    return split
