"""A trained model as scoring sees it: an XGBoost booster plus Platt scaling of its margin.

Platt scaling (a logistic fit of the label on the booster's margin, on the validation snapshot)
rather than isotonic regression: two parameters stay stable with the few hundred positives a
rare offer has in one snapshot, and the map is monotone, so rankings do not change.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import xgboost as xgb

from models.features import base_array, design_array, design_matrix
from models.specs import ModelSpec, model_spec

BOOSTER_FILE = "booster.json"
META_FILE = "calibrated_booster.json"
REASON_CODES = 3


@dataclass
class CalibratedBooster:
    spec: ModelSpec
    booster: xgb.Booster
    base_features: list[str]
    platt_slope: float = 1.0
    platt_intercept: float = 0.0
    trained_subjects: tuple[str, ...] = ()  # offers or channels seen in training

    @property
    def feature_names(self) -> list[str]:
        return list(self.booster.feature_names or [])

    def _matrix(self, frame: pd.DataFrame) -> xgb.DMatrix:
        return xgb.DMatrix(design_matrix(frame, self.spec, self.base_features), missing=np.nan)

    def design(self, base: np.ndarray, codes: np.ndarray | None, per_row: int = 1) -> np.ndarray:
        """The design array from a base-feature block (columns in ``base_features`` order)."""
        return design_array(base, self.spec, self.base_features, codes, per_row)

    def base(self, frame: pd.DataFrame) -> np.ndarray:
        return base_array(frame, self.spec, self.base_features)

    def margin(self, frame: pd.DataFrame) -> np.ndarray:
        return self.booster.predict(self._matrix(frame), output_margin=True)

    def calibrate(self, margin: np.ndarray) -> np.ndarray:
        return 1.0 / (1.0 + np.exp(-(self.platt_slope * margin + self.platt_intercept)))

    def predict_proba(self, frame: pd.DataFrame) -> np.ndarray:
        return self.calibrate(self.margin(frame))

    def predict_design(self, design: np.ndarray) -> np.ndarray:
        """Calibrated probabilities for a design array (the fast path scoring takes)."""
        margin = self.booster.inplace_predict(design, predict_type="margin", missing=np.nan)
        return self.calibrate(np.asarray(margin, dtype=np.float64))

    def reason_codes(self, design: np.ndarray, top: int = REASON_CODES) -> pa.Array:
        """Per row of a design array, the features that raised its score most, as names.

        Approximate (Saabas) contributions: one pass down each tree, a small multiple of a
        prediction, where exact TreeSHAP costs minutes per 100k rows on two cores.
        """
        matrix = xgb.DMatrix(design, missing=np.nan, feature_names=self.feature_names)
        contributions = self.booster.predict(matrix, pred_contribs=True, approx_contribs=True)
        contributions = contributions[:, :-1]  # the last column is the bias
        # Top features by repeated argmax: cheaper than sorting or partitioning every row.
        rows = np.arange(len(contributions))
        best = np.empty((len(contributions), min(top, contributions.shape[1])), dtype=np.int64)
        raised = np.empty(best.shape, dtype=bool)
        for rank in range(best.shape[1]):
            best[:, rank] = contributions.argmax(axis=1)
            raised[:, rank] = contributions[rows, best[:, rank]] > 0
            contributions[rows, best[:, rank]] = -np.inf
        # Taken in descending order, so the positive contributions are a prefix of each row.
        names = np.asarray(self.feature_names, dtype=object)[best][raised]
        offsets = np.concatenate([[0], np.cumsum(raised.sum(axis=1))]).astype(np.int32)
        return pa.ListArray.from_arrays(pa.array(offsets), pa.array(names, type=pa.string()))

    def save(self, directory: Path) -> Path:
        directory.mkdir(parents=True, exist_ok=True)
        self.booster.save_model(directory / BOOSTER_FILE)
        meta = {
            "model": self.spec.name,
            "base_features": self.base_features,
            "platt_slope": self.platt_slope,
            "platt_intercept": self.platt_intercept,
            "trained_subjects": list(self.trained_subjects),
        }
        (directory / META_FILE).write_text(json.dumps(meta, indent=2), encoding="utf-8")
        return directory

    @classmethod
    def load(cls, directory: Path) -> CalibratedBooster:
        meta = json.loads((directory / META_FILE).read_text(encoding="utf-8"))
        booster = xgb.Booster()
        booster.load_model(directory / BOOSTER_FILE)
        return cls(
            spec=model_spec(meta["model"]),
            booster=booster,
            base_features=meta["base_features"],
            platt_slope=meta["platt_slope"],
            platt_intercept=meta["platt_intercept"],
            trained_subjects=tuple(meta["trained_subjects"]),
        )
