"""Measure the project's resolver on the census-style registers.

    python -m tests.generators.measure_registers --persons 4000 --seed 0

Writes both shapes to a temporary directory, resolves each in-process and prints pairwise
precision, recall and F1, the false pairs that join two members of one household, the true pairs
missed, and the noise or trap most often behind the misses.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections import Counter
from pathlib import Path

import pandas as pd

from tests.generators.person_registers import (
    DIAGNOSTIC_COLUMNS,
    NICKNAMES,
    SHAPES,
    TRUTH_COLUMN,
    register_frame,
    role_map,
)


def _resolver():
    """The project's entry points; the one place to repoint when modules move."""
    from dagster_project.identity.accuracy import linkage_accuracy
    from dagster_project.identity.linkage_config import LinkageConfig as ResolverConfig
    from dagster_project.identity.person_file import parse_role_map, resolve_file

    return resolve_file, parse_role_map, ResolverConfig, linkage_accuracy


def _pairs_within(frame: pd.DataFrame, group: str) -> pd.DataFrame:
    """Every unordered pair of records that share ``group``."""
    left = frame[["record_id", group]]
    pairs = left.merge(left, on=group, suffixes=("_a", "_b"))
    return pairs[pairs["record_id_a"] < pairs["record_id_b"]]


def measure_shape(
    shape: str, persons: int, seed: int, workdir: Path, shared_only: bool = False
) -> dict[str, object]:
    resolve_file, parse_role_map, resolver_config, linkage_accuracy = _resolver()
    frame = register_frame(shape, persons, seed)
    path = workdir / f"{shape}-{seed}.csv"
    file_columns = [c for c in frame.columns if c not in DIAGNOSTIC_COLUMNS]
    frame[file_columns].to_csv(path, index=False)
    roles = parse_role_map(
        [f"{role}={column}" for role, column in role_map(shape, shared_only).items()]
    )

    started = time.perf_counter()
    out = workdir / f"{shape}-{seed}.parquet"
    resolve_file(path, "record_id", roles, out, config=resolver_config())
    seconds = time.perf_counter() - started

    clusters = pd.read_parquet(out, columns=["record_id", "cluster_id"])
    merged = frame.merge(clusters, on="record_id", how="left")
    indexed = merged.set_index("record_id")
    accuracy = linkage_accuracy(indexed["cluster_id"], indexed[TRUTH_COLUMN])

    info = merged.set_index("record_id")[[TRUTH_COLUMN, "household_id", "tags", "noise", "source"]]
    predicted = _pairs_within(merged, "cluster_id")
    predicted = predicted.join(info, on="record_id_a").join(info, on="record_id_b", rsuffix="_b")
    false = predicted[predicted[TRUTH_COLUMN] != predicted[f"{TRUTH_COLUMN}_b"]]
    household_false = int((false["household_id"] == false["household_id_b"]).sum())

    details = merged.set_index("record_id")[["cluster_id", "noise", "tags", "moved"]]
    truth = _pairs_within(merged, TRUTH_COLUMN)
    truth = truth.join(details, on="record_id_a").join(details, on="record_id_b", rsuffix="_b")
    missed = truth[truth["cluster_id"] != truth["cluster_id_b"]]
    causes: Counter[str] = Counter()
    for row in missed.itertuples():
        kinds = {item for item in f"{row.noise},{row.noise_b}".split(",") if item}
        kinds |= {f"tag:{t}" for t in f"{row.tags},{row.tags_b}".split(",") if t}
        if row.moved or row.moved_b:
            kinds.add("moved")
        causes.update(kinds or {"(no noise)"})
    false_causes: Counter[str] = Counter()
    for row in false[false["household_id"] == false["household_id_b"]].itertuples():
        tags = {t for t in f"{row.tags},{row.tags_b}".split(",") if t}
        noise = {n.split(":")[0] for n in f"{row.noise},{row.noise_b}".split(",") if n}
        false_causes.update({*(f"tag:{t}" for t in tags), *noise} or {"(no noise)"})
    reference = reference_clusters(frame).reindex(indexed.index)
    reference_accuracy = linkage_accuracy(reference, indexed[TRUTH_COLUMN])
    return {
        "reference_precision": reference_accuracy.pair_precision,
        "reference_recall": reference_accuracy.pair_recall,
        "reference_f1": reference_accuracy.pair_f1,
        "shape": shape,
        "seed": seed,
        "records": accuracy.records,
        "true_pairs": accuracy.true_pairs,
        "predicted_pairs": accuracy.predicted_pairs,
        "precision": accuracy.pair_precision,
        "recall": accuracy.pair_recall,
        "f1": accuracy.pair_f1,
        "false_pairs": len(false),
        "household_false_pairs": household_false,
        "missed_pairs": accuracy.true_pairs - accuracy.true_positive_pairs,
        "missed_causes": causes.most_common(8),
        "household_false_causes": false_causes.most_common(6),
        "resolve_seconds": seconds,
    }


# ---------------------------------------------------------------------------------------------
# A hand-tuned reference linkage: shows what careful rules reach on the same file
# ---------------------------------------------------------------------------------------------

_CANONICAL = {short.lower(): full.lower() for full, shorts in NICKNAMES.items() for short in shorts}


def _within_one_edit(a: str, b: str) -> bool:
    """Damerau-Levenshtein distance at most one."""
    if a == b:
        return True
    if abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        diff = [i for i in range(len(a)) if a[i] != b[i]]
        return len(diff) == 1 or (
            len(diff) == 2
            and diff[1] == diff[0] + 1
            and a[diff[0]] == b[diff[1]]
            and a[diff[1]] == b[diff[0]]
        )
    short, long = sorted((a, b), key=len)
    return any(long[:i] + long[i + 1 :] == short for i in range(len(long)))


def _name_score(a: str, b: str, agree: float, near: float, differ: float) -> float:
    if not a or not b:
        return 0.0
    if a == b:
        return agree
    if _CANONICAL.get(a, a) == _CANONICAL.get(b, b) or _within_one_edit(a, b):
        return near
    return differ


def _dob_score(a: str, b: str) -> float:
    if not a or not b:
        return 0.0
    if a == b:
        return 6.0
    year_a, month_a, day_a = a.split("-")
    year_b, month_b, day_b = b.split("-")
    if (year_a, month_a, day_a) == (year_b, day_b, month_b) or _within_one_edit(a, b):
        return 2.5
    return 0.5 if year_a == year_b else -5.0


def _pair_score(c: dict, o: dict) -> float:
    first_c, last_c = c["first_name"].lower(), c["last_name"].lower()
    first_o, last_o = o["first_name"].lower(), o["last_name"].lower()
    if first_c and first_c == last_o and last_c == first_o:  # first and last name swapped
        first_o, last_o = last_o, first_o
    score = _name_score(first_c, first_o, 4.0, 3.0, -4.0)
    score += _name_score(last_c, last_o, 3.0, 2.0, -1.5)
    mi_c, mi_o = c["middle_initial"], o["middle_initial"]
    score += 0.0 if not mi_c or not mi_o else (1.0 if mi_c == mi_o else -1.5)
    score += _dob_score(c["dob"], o["dob"])
    if c["sex"] and o["sex"]:
        score += 0.5 if c["sex"] == o["sex"] else -3.0
    if o["street_name"]:
        same_street = c["street_number"] == o["street_number"] and _within_one_edit(
            c["street_name"].lower(), o["street_name"].lower()
        )
        score += 3.0 if same_street else 0.0
        score += 1.0 if c["zipcode"] and c["zipcode"] == o["zipcode"] else 0.0
    if c["phone"] and c["phone"] == o["phone"]:
        score += 1.5
    return score


def reference_clusters(frame: pd.DataFrame, threshold: float = 6.0) -> pd.Series:
    """Census-to-other links by hand-set weights, one-to-one (each source lists a person once),
    best score first. Record id to cluster id."""
    census = frame[frame["source"] == "census"]
    other = frame[frame["source"] != "census"]
    keys = [
        ["last_name"],
        ["first_name"],
        ["street_number", "zipcode"],
        ["dob"],
        ["middle_initial", "zipcode"],
    ]
    candidates: set[tuple[str, str]] = set()
    for key in keys:
        if not all(other[k].ne("").any() for k in key):
            continue
        left = census[census[key].ne("").all(axis=1)][["record_id", *key]]
        right = other[other[key].ne("").all(axis=1)][["record_id", *key]]
        joined = left.merge(right, on=key, suffixes=("_c", "_o"))
        candidates.update(zip(joined["record_id_c"], joined["record_id_o"], strict=True))
    rows = frame.set_index("record_id").to_dict("index")
    scored = sorted(((_pair_score(rows[c], rows[o]), c, o) for c, o in candidates), reverse=True)
    cluster = {rid: rid for rid in frame["record_id"]}
    taken: set[str] = set()
    for score, c, o in scored:
        if score < threshold:
            break
        if c in taken or o in taken:
            continue
        taken.update((c, o))
        cluster[o] = c
    return pd.Series(cluster, name="cluster_id")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--persons", type=int, default=4000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--shape", choices=SHAPES, action="append")
    parser.add_argument(
        "--shared-roles",
        action="store_true",
        help="map only the roles both sources fill (census_tax then has no dob)",
    )
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="registers-") as tmp:
        for shape in args.shape or SHAPES:
            result = measure_shape(shape, args.persons, args.seed, Path(tmp), args.shared_roles)
            print(
                f"{shape} seed={args.seed} records={result['records']} "
                f"true_pairs={result['true_pairs']} predicted_pairs={result['predicted_pairs']}\n"
                f"  precision={result['precision']:.4f} recall={result['recall']:.4f} "
                f"f1={result['f1']:.4f}\n"
                f"  false pairs={result['false_pairs']} "
                f"(same household: {result['household_false_pairs']}) "
                f"missed true pairs={result['missed_pairs']} "
                f"resolve={result['resolve_seconds']:.1f}s\n"
                f"  hand-tuned reference rules: precision={result['reference_precision']:.4f} "
                f"recall={result['reference_recall']:.4f} f1={result['reference_f1']:.4f}\n"
                f"  missed, by noise or trap: {result['missed_causes']}\n"
                f"  household false pairs, by cause: {result['household_false_causes']}",
                flush=True,
            )


if __name__ == "__main__":
    main()
