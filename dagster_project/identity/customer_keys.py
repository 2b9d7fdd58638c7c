"""Stable customer keys on top of clusterings whose own ids change from run to run.

Each run's clusters inherit keys from the previous run by majority of records:

* a cluster keeps the key that most of its previously keyed records carried (largest overlap first,
  so when two clusters compete for a key the one holding more of its records wins);
* when clusters merge, the merged cluster keeps the majority key and the others are recorded as
  ``merged`` into it;
* when a cluster splits, the part holding most of the records keeps the key and the other parts get
  new keys recorded as ``split`` from it;
* a brand-new cluster gets a new key (``created``); a key whose records all disappeared is
  ``retired``.

New keys derive from the cluster's smallest record id, so two fresh runs on the same data agree.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import pandas as pd

HISTORY_COLUMNS = ["customer_key", "event", "related_key", "records"]


@dataclass(frozen=True)
class KeyAssignment:
    keys: pd.DataFrame  # record_id, customer_key
    history: pd.DataFrame  # customer_key, event, related_key, records


def new_key(seed_record_id: str, taken: set[str]) -> str:
    attempt = 0
    while True:
        text = seed_record_id if attempt == 0 else f"{seed_record_id}#{attempt}"
        key = "ck_" + hashlib.blake2b(text.encode(), digest_size=6).hexdigest()
        if key not in taken:
            return key
        attempt += 1


def assign_customer_keys(
    clusters: pd.DataFrame, previous: pd.DataFrame, issued: set[str] | None = None
) -> KeyAssignment:
    """``clusters``: record_id, cluster_id. ``previous``: record_id, customer_key (may be empty).

    ``issued`` holds every key ever handed out, so a retired key is never reused.
    """
    taken = set(issued or ()) | set(previous["customer_key"])
    overlap = (
        clusters.merge(previous, on="record_id", how="inner")
        .groupby(["cluster_id", "customer_key"], sort=False)
        .size()
        .reset_index(name="n")
        .sort_values(["n", "customer_key", "cluster_id"], ascending=[False, True, True])
    )
    key_of_cluster: dict = {}
    used_keys: set[str] = set()
    for cluster_id, key in zip(overlap["cluster_id"], overlap["customer_key"], strict=True):
        if cluster_id not in key_of_cluster and key not in used_keys:
            key_of_cluster[cluster_id] = key
            used_keys.add(key)

    history: list[tuple[str, str, str | None, int]] = []
    majority_previous = overlap.drop_duplicates("cluster_id").set_index("cluster_id")[
        "customer_key"
    ]
    sizes = clusters.groupby("cluster_id").size()
    seeds = clusters.groupby("cluster_id")["record_id"].min().sort_values()
    for cluster_id, seed in seeds.items():
        if cluster_id in key_of_cluster:
            continue
        key = new_key(str(seed), taken)
        taken.add(key)
        key_of_cluster[cluster_id] = key
        origin = majority_previous.get(cluster_id)
        event = "split" if origin is not None else "created"
        history.append((key, event, origin, int(sizes[cluster_id])))

    keys = clusters.assign(customer_key=clusters["cluster_id"].map(key_of_cluster))[
        ["record_id", "customer_key"]
    ]
    # Keys that lost their cluster: merged where most of their records went, else retired.
    moved = previous.merge(keys, on="record_id", how="left", suffixes=("_old", "")).loc[
        lambda f: ~f["customer_key_old"].isin(used_keys)
    ]
    for old_key, group in moved.groupby("customer_key_old", sort=True):
        landed = group["customer_key"].dropna()
        if landed.empty:
            history.append((old_key, "retired", None, len(group)))
        else:
            history.append((old_key, "merged", landed.mode().sort_values().iloc[0], len(landed)))
    return KeyAssignment(keys, pd.DataFrame(history, columns=HISTORY_COLUMNS))
