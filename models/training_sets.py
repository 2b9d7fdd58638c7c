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

from models.specs import NOT_FEATURES, ModelSpec

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
    label_days: int | None = None  # each snapshot's label window, in days

    def describe(self) -> dict[str, object]:
        return {
            "train_snapshots": ", ".join(str(t.date()) for t in self.train_as_of),
            "validation_snapshot": str(self.validation_as_of.date()),
            "holdout_snapshot": str(self.holdout_as_of.date()),
            "train_rows": len(self.train),
            "validation_rows": len(self.validation),
            "holdout_rows": len(self.holdout),
        }


def _feature_columns(conn: duckdb.DuckDBPyConnection) -> list[str]:
    schema, table = FEATURE_SNAPSHOTS_TABLE.split(".")
    rows = conn.execute(
        "SELECT column_name FROM information_schema.columns "
        "WHERE table_schema = ? AND table_name = ? ORDER BY ordinal_position",
        [schema, table],
    ).fetchall()
    return [name for (name,) in rows if name not in NOT_FEATURES]


def load_rows(
    conn: duckdb.DuckDBPyConnection, spec: ModelSpec, as_of: list[pd.Timestamp]
) -> pd.DataFrame:
    """Features at the given snapshots (as float32) beside the spec's label, in a stable order."""
    features = ", ".join(f"CAST(f.{c} AS FLOAT) AS {c}" for c in _feature_columns(conn))
    subject = f"l.{spec.subject}, " if spec.subject else ""
    order = f"f.as_of, f.customer_key{', l.' + spec.subject if spec.subject else ''}"
    return conn.execute(
        f"""
        SELECT f.customer_key, f.as_of, {subject}{features}, l.{spec.label}
        FROM {FEATURE_SNAPSHOTS_TABLE} AS f
        JOIN {spec.labels_table} AS l USING (customer_key, as_of)
        WHERE f.as_of IN (SELECT unnest(?))
        ORDER BY {order}
        """,
        [[t.to_pydatetime() for t in as_of]],
    ).df()


def snapshot_windows(conn: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    return conn.execute(
        f"SELECT as_of, label_window_end FROM {SNAPSHOTS_TABLE} ORDER BY as_of"
    ).df()


@dataclass(frozen=True)
class SplitDates:
    train: list[pd.Timestamp]
    validation: pd.Timestamp
    holdout: pd.Timestamp


def split_dates(windows: pd.DataFrame, spec: ModelSpec) -> SplitDates:
    """Holdout = latest snapshot; validation and train purged of overlapping label windows."""
    if windows.empty:
        raise TrainingDataError(
            f"{spec.name}: {SNAPSHOTS_TABLE} is empty: the warehouse holds too little history "
            "for a snapshot plus a complete label window (see the training_* vars in dbt_project.yml)"
        )
    ends = dict(zip(windows["as_of"], windows["label_window_end"], strict=True))
    holdout = windows["as_of"].max()
    earlier = [t for t in windows["as_of"] if ends[t] <= holdout]
    if not earlier:
        raise TrainingDataError(
            f"{spec.name}: no snapshot's label window closes by the holdout snapshot "
            f"{holdout.date()}; more history is needed for a validation split"
        )
    validation = max(earlier)
    train = sorted(t for t in windows["as_of"] if ends[t] <= validation)
    if not train:
        raise TrainingDataError(
            f"{spec.name}: no snapshot's label window closes by the validation snapshot "
            f"{validation.date()}; more history is needed for a training split"
        )
    return SplitDates(train, validation, holdout)


def _label_days(windows: pd.DataFrame) -> int:
    """How many days after its snapshot each label is read from (dbt var training_label_days)."""
    spans = windows["label_window_end"] - windows["as_of"]
    return int(spans.max().days)


def load_split(conn: duckdb.DuckDBPyConnection, spec: ModelSpec) -> TrainingSplit:
    """The time-based split read from the warehouse, only the snapshots it uses."""
    windows = snapshot_windows(conn)
    dates = split_dates(windows, spec)
    split = TrainingSplit(
        train=load_rows(conn, spec, dates.train),
        validation=load_rows(conn, spec, [dates.validation]),
        holdout=load_rows(conn, spec, [dates.holdout]),
        train_as_of=dates.train,
        validation_as_of=dates.validation,
        holdout_as_of=dates.holdout,
        label_days=_label_days(windows),
    )
    for part in ("train", "validation", "holdout"):
        labels = getattr(split, part)[spec.label]
        if labels.nunique() < 2:
            raise TrainingDataError(
                f"{spec.name}: the {part} split ({len(labels)} rows) has only one label value; "
                "more history or more customers are needed"
            )
    return split
