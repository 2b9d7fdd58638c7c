"""Value the plan actually decided with the demo world's true propensities (evaluation only).

The latest decision run's contacts (after eligibility, consent, caps, quiet hours, exploration
and the control group) are mapped to the person most of each customer key's records belong to.
For those customers, each policy's mean true response probability and mean true value
(probability x the offer's value) of one contact:

- ``decided``: the offer and channel the platform chose;
- ``oracle``: per customer, the pair with the highest true value (the ceiling);
- ``random``: the mean over all pairs (what picking blindly earns);
- ``best_static``: the one pair that earns most on average, sent to every one of them (best
  in probability and best in value are found separately).

``captured_share`` is (decided - random) / (oracle - random); ``vs_static`` is decided over the
best static rule.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from dagster_project.demo.truth_files import PROPENSITIES_FILE, truth_labels

ACTIONS = "decisioning.next_best_actions"


@dataclass(frozen=True)
class Measure:
    decided: float
    oracle: float
    random: float
    best_static: float
    best_static_pair: str

    @property
    def captured_share(self) -> float:
        room = self.oracle - self.random
        return (self.decided - self.random) / room if room > 0 else float("nan")

    @property
    def vs_static(self) -> float:
        return self.decided / self.best_static if self.best_static > 0 else float("nan")


@dataclass(frozen=True)
class PolicyValues:
    decided_at: str
    contacts: int
    probability: Measure
    value: Measure

    def as_metrics(self) -> dict[str, float]:
        metrics: dict[str, float] = {"policy_contacts": float(self.contacts)}
        for name, measure in (("probability", self.probability), ("value", self.value)):
            for key, number in asdict(measure).items():
                if isinstance(number, float):
                    metrics[f"policy_{name}_{key}"] = number
            metrics[f"policy_{name}_captured_share"] = measure.captured_share
            metrics[f"policy_{name}_vs_static"] = measure.vs_static
        return metrics

    def tags(self) -> dict[str, str]:
        return {
            "decided_at": self.decided_at,
            "best_static_pair_probability": self.probability.best_static_pair,
            "best_static_pair_value": self.value.best_static_pair,
        }


def _person_per_key(conn: duckdb.DuckDBPyConnection, truth_dir: Path) -> pd.Series | None:
    truth = truth_labels(truth_dir)
    if truth is None:
        return None
    keys = conn.execute("SELECT record_id, customer_key FROM identity.customer_keys").df()
    keys["person_id"] = keys["record_id"].map(truth)
    keys = keys.dropna(subset=["person_id"])
    majority = keys.groupby(["customer_key", "person_id"]).size().rename("records").reset_index()
    majority = majority.sort_values(
        ["customer_key", "records", "person_id"], ascending=[True, False, True]
    )
    return majority.drop_duplicates("customer_key").set_index("customer_key")["person_id"]


def _measure(truth: np.ndarray, chosen: np.ndarray, pairs: list[tuple[str, str]]) -> Measure:
    static = truth.mean(axis=0)
    return Measure(
        decided=float(truth[np.arange(len(truth)), chosen].mean()),
        oracle=float(truth.max(axis=1).mean()),
        random=float(truth.mean()),
        best_static=float(static.max()),
        best_static_pair="/".join(pairs[int(static.argmax())]),
    )


def evaluate_policies(
    conn: duckdb.DuckDBPyConnection, truth_dir: Path, offer_values: dict[str, float]
) -> PolicyValues | None:
    """The latest decision run's contacts valued (``offer_values``: product -> value); None when
    there is no truth (not a demo world) or no contact was decided."""
    from dagster_project.warehouse import table_exists

    propensity_file = truth_dir / PROPENSITIES_FILE
    person = _person_per_key(conn, truth_dir)
    if person is None or not propensity_file.exists() or not table_exists(conn, ACTIONS):
        return None
    decided = conn.execute(
        f"SELECT customer_key, product, channel, decided_at FROM {ACTIONS} "
        f"WHERE action = 'contact' AND decided_at = (SELECT max(decided_at) FROM {ACTIONS})"
    ).df()
    truth = pd.read_parquet(
        propensity_file, columns=["person_id", "offer", "channel", "propensity"]
    )
    truth = truth[truth["offer"].isin(offer_values)]
    table = truth.pivot_table(
        index="person_id", columns=["offer", "channel"], values="propensity", aggfunc="first"
    )
    decided["person_id"] = decided["customer_key"].map(person)
    decided = decided.dropna(subset=["person_id"])
    decided = decided[decided["person_id"].isin(table.index)]
    pairs = list(table.columns)
    index = {pair: i for i, pair in enumerate(pairs)}
    decided = decided[
        [(o, c) in index for o, c in zip(decided["product"], decided["channel"], strict=True)]
    ]
    if decided.empty:
        return None
    probability = table.loc[decided["person_id"]].to_numpy()
    value = probability * np.array([offer_values[o] for o, _ in pairs])[None, :]
    chosen = np.array(
        [index[(o, c)] for o, c in zip(decided["product"], decided["channel"], strict=True)]
    )
    return PolicyValues(
        decided_at=str(decided["decided_at"].iloc[0]),
        contacts=len(decided),
        probability=_measure(probability, chosen, pairs),
        value=_measure(value, chosen, pairs),
    )
