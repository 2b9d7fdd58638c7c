"""Incremental response: a T-learner on XGBoost, learnt from the control group and the contacts.

A contact's value is the response it *causes*, not every response that follows it. The control
group (held out by a hash of the customer key, never contacted) says what the same kind of
customer does untouched; the contacts say what they do when contacted. A T-learner fits one
classifier per arm on what each decision was made on (the logged context and the offer) and
takes the difference of their predictions as each row's uplift.

It is checked on a holdout of customers (chosen by the caller) with the Qini curve: rows ranked
by predicted uplift, the cumulative incremental responses ``R_t(k) - R_c(k) * N_t(k) / N_c(k)``
against the share of rows targeted. The Qini coefficient is the area between that curve and the
straight line of random targeting, over the number of rows (0: no better than random); AUUC is
the area under the curve itself. With too few control rows or responses in either arm, nothing
is fitted and the evaluation says so.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np
import pandas as pd

MIN_ROWS_PER_ARM = 100  # below this an arm's response rate is mostly noise
MIN_RESPONSES_PER_ARM = 10
TREES = 150
DEPTH = 3


def qini_curve(
    score: np.ndarray, treated: np.ndarray, converted: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """(share of rows targeted, cumulative incremental responses), best predicted uplift first,
    starting at (0, 0). Ties in the score are broken by the order given."""
    order = np.argsort(-np.asarray(score, dtype=float), kind="stable")
    t = np.asarray(treated, dtype=bool)[order]
    y = np.asarray(converted, dtype=float)[order]
    n_t, n_c = np.cumsum(t), np.cumsum(~t)
    r_t, r_c = np.cumsum(y * t), np.cumsum(y * ~t)
    scale = np.divide(n_t, n_c, out=np.zeros(len(y)), where=n_c > 0)
    gain = r_t - r_c * scale
    share = np.arange(1, len(y) + 1) / max(len(y), 1)
    return np.concatenate([[0.0], share]), np.concatenate([[0.0], gain])


def qini_coefficient(score: np.ndarray, treated: np.ndarray, converted: np.ndarray) -> float:
    """Area between the Qini curve and random targeting's line, per row (see the docstring)."""
    share, gain = qini_curve(score, treated, converted)
    if len(gain) < 2:
        return 0.0
    random_line = share * gain[-1]
    return float(np.trapezoid(gain - random_line, share) / (len(gain) - 1))


def auuc(score: np.ndarray, treated: np.ndarray, converted: np.ndarray) -> float:
    """Area under the Qini curve, per row."""
    share, gain = qini_curve(score, treated, converted)
    return float(np.trapezoid(gain, share) / max(len(gain) - 1, 1))


@dataclass
class UpliftEvaluation:
    status: str  # fitted, not_enough_data
    reason: str = ""
    rows: dict[str, int] = field(default_factory=dict)  # per arm
    responses: dict[str, int] = field(default_factory=dict)
    metrics: dict[str, float] = field(default_factory=dict)  # holdout figures
    by_offer: dict[str, float] = field(default_factory=dict)  # mean predicted uplift

    def as_dict(self) -> dict:
        return asdict(self)


def _design(frame: pd.DataFrame, features: list[str], offers: list[str]) -> np.ndarray:
    numbers = frame[features].apply(pd.to_numeric, errors="coerce").to_numpy(dtype=float)
    one_hot = (frame["offer"].to_numpy()[:, None] == np.array(offers)[None, :]).astype(float)
    return np.hstack([numbers, one_hot])


def _classifier(seed: int):
    import xgboost as xgb

    return xgb.XGBClassifier(
        n_estimators=TREES,
        max_depth=DEPTH,
        learning_rate=0.05,
        subsample=0.8,
        min_child_weight=5,
        seed=seed,
        n_jobs=2,
        eval_metric="logloss",
    )


def evaluate_t_learner(
    frame: pd.DataFrame, features: list[str], seed: int = 42
) -> UpliftEvaluation:
    """Fit the T-learner on the training customers and measure it on the holdout ones.

    ``frame``: one row per decision with ``offer``, ``control`` (held out), ``converted``,
    ``holdout`` (its customer is kept out of fitting, to measure on) and the ``features``."""
    control = frame["control"].to_numpy(dtype=bool)
    converted = frame["converted"].to_numpy(dtype=bool)
    rows = {"treated": int((~control).sum()), "control": int(control.sum())}
    responses = {
        "treated": int((converted & ~control).sum()),
        "control": int((converted & control).sum()),
    }
    short = [arm for arm in rows if rows[arm] < MIN_ROWS_PER_ARM]
    short += [arm for arm in responses if responses[arm] < MIN_RESPONSES_PER_ARM]
    if short:
        return UpliftEvaluation(
            "not_enough_data",
            f"needs {MIN_ROWS_PER_ARM} rows and {MIN_RESPONSES_PER_ARM} responses in each arm; "
            f"has {rows} rows and {responses} responses",
            rows,
            responses,
        )
    offers = sorted(frame["offer"].astype(str).unique())
    x = _design(frame, features, offers)
    test = frame["holdout"].to_numpy(dtype=bool)
    models = {}
    for arm, in_arm in (("treated", ~control), ("control", control)):
        fit = in_arm & ~test
        model = _classifier(seed)
        model.fit(x[fit], converted[fit])
        models[arm] = model
    uplift = models["treated"].predict_proba(x)[:, 1] - models["control"].predict_proba(x)[:, 1]
    treated = ~control
    metrics = {
        "qini": qini_coefficient(uplift[test], treated[test], converted[test]),
        "auuc": auuc(uplift[test], treated[test], converted[test]),
        "holdout_rows": float(test.sum()),
        "predicted_uplift_mean": float(uplift[test].mean()),
        "observed_uplift": float(
            converted[test & treated].mean() - converted[test & control].mean()
        )
        if (test & control).any() and (test & treated).any()
        else float("nan"),
    }
    by_offer = (
        pd.Series(uplift, index=frame["offer"].astype(str).to_numpy())
        .groupby(level=0)
        .mean()
        .round(6)
        .to_dict()
    )
    return UpliftEvaluation("fitted", "", rows, responses, metrics, by_offer)
