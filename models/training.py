"""Train one model: XGBoost with early stopping on the validation snapshot, then calibration."""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field

import numpy as np
import pandas as pd
import xgboost as xgb
from sklearn.linear_model import LogisticRegression

from models.calibrated_booster import CalibratedBooster
from models.features import base_feature_names, design_matrix
from models.metrics import holdout_metrics
from models.specs import ModelSpec
from models.training_sets import TrainingSplit


@dataclass(frozen=True)
class TrainingParams:
    max_depth: int = 5
    learning_rate: float = 0.08
    max_rounds: int = 400
    early_stopping_rounds: int = 30
    min_child_weight: float = 5.0
    subsample: float = 0.8
    colsample_bytree: float = 0.8
    reg_lambda: float = 1.0
    seed: int = 42
    threads: int = field(default_factory=lambda: os.cpu_count() or 1)

    def booster_params(self) -> dict[str, object]:
        return {
            "objective": "binary:logistic",
            "eval_metric": "logloss",
            "tree_method": "hist",
            "max_depth": self.max_depth,
            "eta": self.learning_rate,
            "min_child_weight": self.min_child_weight,
            "subsample": self.subsample,
            "colsample_bytree": self.colsample_bytree,
            "lambda": self.reg_lambda,
            "seed": self.seed,
            "nthread": self.threads,
        }

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


@dataclass(frozen=True)
class TrainedModel:
    model: CalibratedBooster
    best_rounds: int
    holdout_scores: np.ndarray
    holdout_metrics: dict[str, float]
    validation_metrics: dict[str, float]
    uncalibrated_holdout_metrics: dict[str, float]
    importance: dict[str, float]


def _labels(frame: pd.DataFrame, spec: ModelSpec) -> np.ndarray:
    return frame[spec.label].to_numpy(np.float32)


def _platt(margin: np.ndarray, labels: np.ndarray, seed: int) -> tuple[float, float]:
    fit = LogisticRegression(C=1e4, random_state=seed).fit(margin.reshape(-1, 1), labels)
    return float(fit.coef_[0, 0]), float(fit.intercept_[0])


def train_model(split: TrainingSplit, spec: ModelSpec, params: TrainingParams) -> TrainedModel:
    """Deterministic for a given seed and thread count."""
    base = base_feature_names(
        [c for c in split.train.columns if c not in (spec.label, spec.subject)], spec
    )

    def features(part: str) -> pd.DataFrame:
        return design_matrix(getattr(split, part), spec, base)

    # The training matrix is built straight into histogram bins: a fraction of a DMatrix's memory.
    matrices = {
        "train": xgb.QuantileDMatrix(features("train"), label=_labels(split.train, spec)),
        **{
            part: xgb.DMatrix(features(part), label=_labels(getattr(split, part), spec))
            for part in ("validation", "holdout")
        },
    }
    booster = xgb.train(
        params.booster_params(),
        matrices["train"],
        num_boost_round=params.max_rounds,
        evals=[(matrices["validation"], "validation")],
        early_stopping_rounds=params.early_stopping_rounds,
        verbose_eval=False,
    )
    best_rounds = booster.best_iteration + 1
    booster = booster[:best_rounds]  # keep only the trees early stopping chose
    trained_subjects: tuple[str, ...] = ()
    if spec.subject:
        seen = set(split.train[spec.subject])
        trained_subjects = tuple(s for s in spec.subjects if s in seen)
    model = CalibratedBooster(spec, booster, base, trained_subjects=trained_subjects)

    validation_margin = booster.predict(matrices["validation"], output_margin=True)
    model.platt_slope, model.platt_intercept = _platt(
        validation_margin, _labels(split.validation, spec), params.seed
    )
    holdout_margin = booster.predict(matrices["holdout"], output_margin=True)
    holdout_scores = model.calibrate(holdout_margin)
    holdout_labels = _labels(split.holdout, spec)
    return TrainedModel(
        model=model,
        best_rounds=best_rounds,
        holdout_scores=holdout_scores,
        holdout_metrics=holdout_metrics(holdout_labels, holdout_scores),
        validation_metrics=holdout_metrics(
            _labels(split.validation, spec), model.calibrate(validation_margin)
        ),
        uncalibrated_holdout_metrics=holdout_metrics(
            holdout_labels, 1.0 / (1.0 + np.exp(-holdout_margin))
        ),
        importance={
            k: float(v) for k, v in booster.get_score(importance_type="total_gain").items()
        },
    )
