"""Value the plan actually decided with the demo world's true propensities (evaluation only).

The latest decision run's contacts (after eligibility, consent, caps, quiet hours, exploration
and the control group) are mapped to the person most of each customer key's records belong to.
For those customers, each policy's mean true response probability and mean true value
(probability x the offer's value) of one contact:

- ``decided``: the offer and channel the platform chose;
- ``oracle``: per customer, the permitted pair with the highest true value (the ceiling);
- ``random``: the mean over the permitted pairs (what picking blindly earns);
- ``best_static``: one ranking of pairs for everyone (by mean true value), each customer
  getting the highest-ranked pair they may receive (best in probability and in value are
  ranked separately).

"Permitted" is what every rule allowed that contact (eligibility, consent, the offer's channels,
caps): the ``options`` logged with it.

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


def _measure(
    truth: np.ndarray, permitted: np.ndarray, chosen: np.ndarray, pairs: list[tuple[str, str]]
) -> Measure:
    """Each policy over the pairs each customer was permitted (rows: customers, columns: pairs)."""
    masked = np.where(permitted, truth, np.nan)
    # The best static rule: one ranking of pairs for all, by mean value where permitted; each
    # customer gets the highest-ranked pair they may receive.
    counts = permitted.sum(axis=0)
    means = np.where(
        counts > 0, np.where(permitted, truth, 0).sum(axis=0) / np.maximum(counts, 1), -np.inf
    )
    ranking = np.argsort(-means, kind="stable")
    first = ranking[np.argmax(permitted[:, ranking], axis=1)]
    rows = np.arange(len(truth))
    return Measure(
        decided=float(truth[rows, chosen].mean()),
        oracle=float(np.nanmax(masked, axis=1).mean()),
        random=float(np.nanmean(masked, axis=1).mean()),
        best_static=float(truth[rows, first].mean()),
        best_static_pair="/".join(pairs[int(ranking[0])]),
    )


def evaluate_policies(
    conn: duckdb.DuckDBPyConnection, truth_dir: Path, offers: dict[str, tuple[str, float]]
) -> PolicyValues | None:
    """The latest decision run's contacts valued (``offers``: offer id -> (product, value));
    None when there is no truth (not a demo world) or no contact was decided. Every policy
    chooses among the pairs the contact's rules permitted (its logged ``options``)."""
    from dagster_project.warehouse import table_exists

    propensity_file = truth_dir / PROPENSITIES_FILE
    person = _person_per_key(conn, truth_dir)
    if person is None or not propensity_file.exists() or not table_exists(conn, ACTIONS):
        return None
    decided = conn.execute(
        f"SELECT customer_key, offer_id, channel, options, decided_at FROM {ACTIONS} "
        "WHERE action = 'contact' AND options IS NOT NULL "
        f"AND decided_at = (SELECT max(decided_at) FROM {ACTIONS})"
    ).df()
    truth = pd.read_parquet(
        propensity_file, columns=["person_id", "offer", "channel", "propensity"]
    )
    products = {product for product, _ in offers.values()}
    table = truth[truth["offer"].isin(products)].pivot_table(
        index="person_id", columns=["offer", "channel"], values="propensity", aggfunc="first"
    )
    decided["person_id"] = decided["customer_key"].map(person)
    decided = decided[decided["person_id"].isin(table.index)].reset_index(drop=True)
    pairs = list(table.columns)
    index = {pair: i for i, pair in enumerate(pairs)}

    def pair_of(option: str) -> int:
        offer_id, channel = option.split("/", 1)
        return index.get((offers.get(offer_id, ("", 0.0))[0], channel), -1)

    chosen = np.array(
        [pair_of(f"{o}/{c}") for o, c in zip(decided["offer_id"], decided["channel"], strict=True)],
        dtype=np.int64,
    )
    permitted = np.zeros((len(decided), len(pairs)), dtype=bool)
    for row, options in enumerate(decided["options"]):
        columns = [pair_of(o) for o in options]
        permitted[row, [c for c in columns if c >= 0]] = True
    keep = chosen >= 0
    if not keep.any():
        return None
    decided, chosen, permitted = decided[keep], chosen[keep], permitted[keep]
    permitted[np.arange(len(chosen)), chosen] = True
    probability = table.loc[decided["person_id"]].to_numpy()
    value_of = {product: value for product, value in offers.values()}
    value = probability * np.array([value_of[o] for o, _ in pairs])[None, :]
    return PolicyValues(
        decided_at=str(decided["decided_at"].iloc[0]),
        contacts=len(decided),
        probability=_measure(probability, permitted, chosen, pairs),
        value=_measure(value, permitted, chosen, pairs),
    )
