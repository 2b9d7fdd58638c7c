"""From customer_features rows to the model's design matrix, the same at training and scoring.

The packaged model calls ``design_matrix`` itself, so callers hand it plain customer_features rows
(plus the offer or channel column) and never re-implement the encoding.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from models.specs import INTENT_WINDOWS, NOT_FEATURES, PRODUCTS, ModelSpec


def base_feature_names(columns: Sequence[str]) -> list[str]:
    return [c for c in columns if c not in NOT_FEATURES]


def _offered_features(frame: pd.DataFrame, offer: np.ndarray) -> dict[str, np.ndarray]:
    """The customer's intent for and holding of the offered product, whichever it is."""
    columns: dict[str, np.ndarray] = {}
    for window in INTENT_WINDOWS:
        values = np.full(len(frame), np.nan, dtype=np.float32)
        for product in PRODUCTS:
            rows = offer == product
            values[rows] = frame[f"{product}_intent_{window}d"].to_numpy(np.float32)[rows]
        columns[f"offered_intent_{window}d"] = values
    held = np.full(len(frame), np.nan, dtype=np.float32)
    for product in PRODUCTS:
        rows = offer == product
        held[rows] = frame[f"holds_{product}"].to_numpy(np.float32)[rows]
    columns["offered_held"] = held
    return columns


def design_matrix(
    frame: pd.DataFrame, spec: ModelSpec, base_features: Sequence[str]
) -> pd.DataFrame:
    """float32 columns: the base features, then per-subject one-hots and derived columns."""
    missing = [c for c in base_features if c not in frame.columns]
    if missing:
        raise ValueError(f"{spec.name}: input lacks feature columns {missing}")
    columns: dict[str, np.ndarray] = {
        name: pd.to_numeric(frame[name], errors="coerce").to_numpy(np.float32, na_value=np.nan)
        for name in base_features
    }
    if spec.subject is not None:
        if spec.subject not in frame.columns:
            raise ValueError(f"{spec.name}: input lacks the {spec.subject!r} column")
        subject = frame[spec.subject].to_numpy(dtype=object)
        unknown = sorted(set(subject) - set(spec.subjects), key=str)
        if unknown:
            raise ValueError(f"{spec.name}: unknown {spec.subject} values {unknown}")
        for value in spec.subjects:
            columns[f"{spec.subject}_{value}"] = (subject == value).astype(np.float32)
        if spec.subject == "offer":
            columns.update(_offered_features(frame, subject))
    return pd.DataFrame(columns, index=frame.index)
