"""From customer_features rows to the model's design matrix, the same at training and scoring.

The packaged model builds its own matrix, so callers hand it plain customer_features rows (plus
the offer or channel column) and never re-implement the encoding. Scoring uses the array form
directly: one float32 block per chunk of customers, repeated per offer without pandas copies.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from models.specs import INTENT_WINDOWS, NOT_FEATURES, PRODUCTS, ModelSpec


def base_feature_names(columns: Sequence[str], spec: ModelSpec) -> list[str]:
    """The columns of ``columns`` that ``spec`` learns from."""
    return [c for c in columns if c not in NOT_FEATURES and c not in spec.excluded_features]


def _offered_names() -> list[str]:
    return [f"offered_intent_{w}d" for w in INTENT_WINDOWS] + ["offered_held"]


def design_columns(spec: ModelSpec, base_features: Sequence[str]) -> list[str]:
    """Names of the design matrix's columns, in order."""
    names = list(base_features)
    if spec.subject is not None:
        names += [f"{spec.subject}_{value}" for value in spec.subjects]
        if spec.subject == "offer":
            names += _offered_names()
    return names


def base_array(frame: pd.DataFrame, spec: ModelSpec, base_features: Sequence[str]) -> np.ndarray:
    missing = [c for c in base_features if c not in frame.columns]
    if missing:
        raise ValueError(f"{spec.name}: input lacks feature columns {missing}")
    block = frame[list(base_features)]
    text = [c for c in block.columns if not pd.api.types.is_numeric_dtype(block[c])]
    if text:  # e.g. numbers as strings from a JSON request: unparseable ones become missing
        block = block.assign(**{c: pd.to_numeric(block[c], errors="coerce") for c in text})
    return block.to_numpy(dtype=np.float32, na_value=np.nan)


def subject_codes(frame: pd.DataFrame, spec: ModelSpec) -> np.ndarray | None:
    """Each row's offer or channel as an index into ``spec.subjects``."""
    if spec.subject is None:
        return None
    if spec.subject not in frame.columns:
        raise ValueError(f"{spec.name}: input lacks the {spec.subject!r} column")
    codes = pd.Categorical(frame[spec.subject], categories=spec.subjects).codes
    if (codes < 0).any():
        unknown = sorted(set(frame[spec.subject][codes < 0].astype(str)))
        raise ValueError(f"{spec.name}: unknown {spec.subject} values {unknown}")
    return codes.astype(np.int64)


def design_array(
    base: np.ndarray,
    spec: ModelSpec,
    base_features: Sequence[str],
    codes: np.ndarray | None,
    per_row: int = 1,
) -> np.ndarray:
    """float32 rows: base features, then per-subject one-hots and derived columns.

    With ``per_row`` k > 1, each base row stands for k design rows (one per subject, ``codes``
    giving the subject of every design row); the base block is broadcast, never repeated first.
    """
    f = len(base_features)
    width = len(design_columns(spec, base_features))
    out = np.empty((len(base) * per_row, width), dtype=np.float32)
    out.reshape(len(base), per_row, width)[:, :, :f] = base[:, None, :]
    if spec.subject is None or codes is None:
        return out
    rows = np.arange(len(out))
    s = len(spec.subjects)
    out[:, f : f + s] = 0.0
    out[rows, f + codes] = 1.0
    if spec.subject == "offer":
        # The customer's intent for and holding of the offered product, whichever it is.
        position = {name: i for i, name in enumerate(base_features)}
        sources = [[position[f"{p}_intent_{w}d"] for p in PRODUCTS] for w in INTENT_WINDOWS]
        sources.append([position[f"holds_{p}"] for p in PRODUCTS])
        for offset, columns in enumerate(sources):
            out[:, f + s + offset] = out[rows, np.array(columns)[codes]]
    return out


def design_matrix(
    frame: pd.DataFrame, spec: ModelSpec, base_features: Sequence[str]
) -> pd.DataFrame:
    """The design matrix with column names, for training and for MLflow's pyfunc input."""
    array = design_array(
        base_array(frame, spec, base_features), spec, base_features, subject_codes(frame, spec)
    )
    return pd.DataFrame(array, columns=design_columns(spec, base_features), index=frame.index)
