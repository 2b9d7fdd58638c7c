"""How much of the room could any policy that sees only the platform's features reach?

    python -m tests.generators.bank_world.bound --data-dir D

On a finished loop's last day, every customer's offer x channel pairs (offered, reachable) are
valued with the truth, and chosen five ways: by the platform's own estimates (offer score x
channel score x calibration, as arbitration multiplies them), and with either half replaced by
the truth or by a *feature bound*: gradient boosting fitted, with 5-fold cross-fitting, to the
true per-offer click probability or the true channel affinity from the numbers of the customer's
decision inputs (their customer_features row and contactability). A feature bound is a ceiling for a model of those features (it learns from the truth
itself, not from responses); what stays between it and the oracle needs each person's own answers.
Captured share is (chosen - random) / (oracle - random), over the day's contacted customers and
over all of them.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

FOLDS = 5


def _cross_fitted(features: np.ndarray, target: np.ndarray, seed: int = 0) -> np.ndarray:
    """Out-of-fold predictions of ``target`` from ``features``."""
    import xgboost as xgb

    out = np.zeros(len(target))
    folds = np.random.default_rng(seed).integers(0, FOLDS, len(target))
    for k in range(FOLDS):
        train = folds != k
        model = xgb.XGBRegressor(n_estimators=200, max_depth=4, learning_rate=0.05, n_jobs=2)
        out[~train] = model.fit(features[train], target[train]).predict(features[~train])
    return out


def _captured(
    estimate: np.ndarray, truth: np.ndarray, open_: np.ndarray, rows: np.ndarray
) -> float:
    """Captured share of the random -> oracle room when each row takes its best estimated pair."""
    estimate = np.where(open_, estimate, -np.inf)[rows]
    value = np.where(open_, truth, np.nan)[rows]
    chosen = value[np.arange(len(value)), estimate.argmax(axis=1)]
    oracle, random = np.nanmax(value, axis=1), np.nanmean(value, axis=1)
    return float((chosen.mean() - random.mean()) / (oracle.mean() - random.mean()))


def bound(root: Path) -> dict:
    from dagster_project.decisioning.arbitration import decide_with_evidence
    from dagster_project.settings import OUTBOUND_CHANNELS, PRODUCTS
    from dagster_project.warehouse import connect

    from .answers import key_owners
    from .loop import last_day
    from .world import CHANNELS

    day = last_day(root)
    paths, world, config, t, inputs = day.paths, day.world, day.config, day.t, day.inputs
    with connect(paths.warehouse, read_only=True) as conn:
        owners = key_owners(world, conn.execute("SELECT * FROM identity.customer_keys").df())
    plan, learned = decide_with_evidence(inputs, config)

    customers = inputs.customers.reset_index(drop=True)
    owned = customers["customer_key"].map(owners).notna().to_numpy()
    customers = customers[owned].reset_index(drop=True)
    persons = customers["customer_key"].map(owners).astype(int).to_numpy()
    offers = world.offers
    products = [PRODUCTS.index(o.product) for o in offers]
    scores = inputs.offer_scores.pivot_table(
        index="customer_key", columns="subject", values="score"
    )
    offer_score = scores.reindex(customers["customer_key"])[list(PRODUCTS)].to_numpy()[:, products]
    channel_score = learned.channel[owned]
    calibration = np.asarray(learned.calibration)[products]
    values = np.array([o.value for o in offers], dtype=float)

    columns = [CHANNELS.index(c) for c in OUTBOUND_CHANNELS]
    true_p = np.nan_to_num(world.truth_of_day(paths, t)[0][persons][:, :, columns])
    truth = true_p * values[None, :, None]
    offered = np.array([[c in o.channels for c in OUTBOUND_CHANNELS] for o in offers])
    open_ = (offered[None] & (true_p > 0)).reshape(len(persons), -1)
    truth = truth.reshape(len(persons), -1)

    number = customers.drop(columns=["customer_key"]).select_dtypes("number")
    features = number.astype(float).fillna(-1).to_numpy(np.float32)
    email = np.stack([_cross_fitted(features, true_p[:, j, 0]) for j in range(len(offers))], 1)
    affinity = world.affinity[persons][:, columns]
    channel_ratio = np.exp(
        np.stack([_cross_fitted(features, affinity[:, c]) for c in range(len(columns))], 1)
    )
    true_ratio = true_p / np.maximum(true_p[:, :, :1], 1e-12)

    def value(offer: np.ndarray, channel: np.ndarray) -> np.ndarray:
        if channel.ndim == 2:
            channel = channel[:, None, :]
        return (offer[:, :, None] * channel * values[None, :, None]).reshape(len(persons), -1)

    platform_offer = np.nan_to_num(offer_score)[:, :, None] * calibration[None]
    choices = {
        "platform (its offer and channel estimates)": (
            platform_offer * channel_score[:, None, :] * values[None, :, None]
        ).reshape(len(persons), -1),
        "true offer, platform channel": value(true_p[:, :, 0], channel_score),
        "platform offer, true channel": (
            platform_offer * true_ratio * values[None, :, None]
        ).reshape(len(persons), -1),
        "feature-bound offer, platform channel": value(np.clip(email, 1e-6, None), channel_score),
        "feature-bound offer and channel": value(np.clip(email, 1e-6, None), channel_ratio),
        "feature-bound offer, true channel": value(np.clip(email, 1e-6, None), true_ratio),
    }
    contacted = customers["customer_key"].isin(
        plan.loc[plan["action"] == "contact", "customer_key"]
    )
    everyone = np.flatnonzero(open_.any(axis=1))
    return {
        "day": str(world.date_of(t)),
        "customers": len(persons),
        "contacted": int(contacted.sum()),
        "captured": {
            name: {
                "contacted": _captured(
                    estimate, truth, open_, np.flatnonzero(contacted & open_.any(axis=1))
                ),
                "all": _captured(estimate, truth, open_, everyone),
            }
            for name, estimate in choices.items()
        },
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", required=True, type=Path)
    root = parser.parse_args(argv).data_dir.expanduser().resolve()
    result = bound(root)
    print(f"{result['day']}: {result['customers']} customers, {result['contacted']} contacted")
    print(f"{'captured share of the random -> oracle room':<46}{'contacted':>11}{'all':>8}")
    for name, share in result["captured"].items():
        print(f"{name:<46}{share['contacted']:>11.0%}{share['all']:>8.0%}")
    (root / "loop_bound.json").write_text(json.dumps(result, indent=1))
    print(f"written {root / 'loop_bound.json'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
