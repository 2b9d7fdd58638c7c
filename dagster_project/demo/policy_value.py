"""Value targeting policies with the demo world's true propensities (evaluation code only).

Each customer key is mapped to the person most of its records belong to. A policy picks one
(offer, channel) per customer; its value is the mean true response probability of those picks:

- ``model``: the customer's top-scored offer on their top-scored channel;
- ``oracle``: the pair with the highest true propensity (the ceiling);
- ``random``: the mean over all pairs (what picking blindly earns);
- ``best_static``: the one pair with the highest mean true propensity, sent to everyone.

``captured_share`` is (model - random) / (oracle - random): how much of the room above random the
models capture.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from dagster_project.demo.truth_files import PROPENSITIES_FILE, truth_labels
from dagster_project.settings import SCORES_TABLE


@dataclass(frozen=True)
class PolicyValues:
    customers: int
    model: float
    oracle: float
    random: float
    best_static: float
    best_static_pair: str
    captured_share: float

    def as_metrics(self) -> dict[str, float]:
        return {
            f"policy_{k}": float(v) for k, v in asdict(self).items() if isinstance(v, (int, float))
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


def _top_subject(conn: duckdb.DuckDBPyConnection, model: str) -> pd.Series:
    return (
        conn.execute(
            f"SELECT customer_key, subject FROM {SCORES_TABLE} WHERE model_name = ? AND rank = 1",
            [model],
        )
        .df()
        .set_index("customer_key")["subject"]
    )


def evaluate_policies(conn: duckdb.DuckDBPyConnection, truth_dir: Path) -> PolicyValues | None:
    """None when there is no truth (not a demo world) or nothing was scored."""
    propensity_file = truth_dir / PROPENSITIES_FILE
    person = _person_per_key(conn, truth_dir)
    if person is None or not propensity_file.exists():
        return None
    truth = pd.read_parquet(
        propensity_file, columns=["person_id", "offer", "channel", "propensity"]
    )
    table = truth.pivot_table(
        index="person_id", columns=["offer", "channel"], values="propensity", aggfunc="first"
    )
    picks = pd.DataFrame(
        {
            "person_id": person,
            "offer": _top_subject(conn, "offer_propensity"),
            "channel": _top_subject(conn, "channel_response"),
        }
    ).dropna()
    picks = picks[picks["person_id"].isin(table.index)]
    if picks.empty:
        return None
    values = table.loc[picks["person_id"]].to_numpy()
    pairs = list(table.columns)
    chosen = [pairs.index((o, c)) for o, c in zip(picks["offer"], picks["channel"], strict=True)]
    model = float(values[np.arange(len(values)), chosen].mean())
    oracle = float(values.max(axis=1).mean())
    random = float(values.mean())
    static = values.mean(axis=0)
    room = oracle - random
    return PolicyValues(
        customers=len(picks),
        model=model,
        oracle=oracle,
        random=random,
        best_static=float(static.max()),
        best_static_pair="/".join(pairs[int(static.argmax())]),
        captured_share=(model - random) / room if room > 0 else float("nan"),
    )
