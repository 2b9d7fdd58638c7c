"""Clusters that must not hold two different people, even when a chain of links says so.

Connected components are transitive: a tax return with no date of birth can link a father and
his son who share name and address, and the component then holds both. A component is split
when two of its records *conflict*: both carry a date of birth and they differ beyond a typing
error (not day/month swapped, not one digit or transposition apart, more than a year apart), or
both carry a
middle initial and it differs; and neither carries a national id nor do they share an email
(where those exist, they say who is who). Split components are
rebuilt from their links, strongest first, joining two groups only when no record of one
conflicts with a record of the other; a record linked about equally to two such groups stays
alone.
"""

from __future__ import annotations

import math
from itertools import combinations

import duckdb
import pandas as pd

MAX_CHECKED = 60  # components larger than this are kept whole (a pairwise check is quadratic)
AMBIGUOUS_BITS = 1.0  # links closer than this (log2 odds) are a tie


def _one_edit_apart(a: str, b: str) -> bool:
    """Equal, or one character substituted, or two adjacent characters transposed."""
    if a == b:
        return True
    if len(a) != len(b):
        return False
    diff = [i for i in range(len(a)) if a[i] != b[i]]
    if len(diff) == 1:
        return True
    first, second = diff[0], diff[-1]
    return len(diff) == 2 and second == first + 1 and (a[first], a[second]) == (b[second], b[first])


def _dob_conflict(a: str | None, b: str | None) -> bool:
    """Both known and apart beyond any typing error: not equal, not day and month swapped, not
    one digit or one transposition apart, and more than a year apart."""
    if not a or not b or _one_edit_apart(a, b) or a[:4] + a[6:8] + a[4:6] == b:
        return False
    return abs(int(a[:4]) - int(b[:4])) > 1  # a mistyped day or month keeps the year


def conflicting(a: dict, b: dict) -> bool:
    """Two different people, whatever links them: their dates of birth or middle initials
    disagree, and no personal identifier (national id, email) says otherwise."""
    middle_a, middle_b = a.get("middle"), b.get("middle")
    differ = _dob_conflict(a.get("dob"), b.get("dob")) or bool(
        middle_a and middle_b and middle_a != middle_b
    )
    # Where records carry a national id or share an email, those, not a chain of names, say
    # who is who.
    has_id = bool(a.get("national_id") or b.get("national_id"))
    same_email = bool(a.get("email") and a.get("email") == b.get("email"))
    return differ and not has_id and not same_email


def _log_odds(probability: float) -> float:
    if probability >= 1:
        return 60.0  # a deterministic link
    return math.log2(probability / (1 - probability))


def _detach_ambiguous(group: dict[str, set[str]], links: pd.DataFrame) -> None:
    """A record linked about as strongly (within ``AMBIGUOUS_BITS``) to two groups that cannot
    be one person (a tax form without a date of birth, equally like a father and his namesake
    son) belongs to neither: it stays alone rather than with the wrong one."""
    best: dict[str, dict[int, float]] = {}
    for left, right, weight in zip(links["left"], links["right"], links["weight"], strict=True):
        odds = _log_odds(weight)
        for record, other in ((left, right), (right, left)):
            key = id(group[other])
            strongest = best.setdefault(record, {})
            strongest[key] = max(strongest.get(key, -math.inf), odds)
    for record, by_group in best.items():
        own = group[record]
        own_best = by_group.get(id(own), -math.inf)
        rivals = [w for key, w in by_group.items() if key != id(own)]
        if len(own) > 1 and rivals and max(rivals) >= own_best - AMBIGUOUS_BITS:
            own.discard(record)
            group[record] = {record}


def split_conflicts(
    conn: duckdb.DuckDBPyConnection,
    table: str,
    clusters: pd.DataFrame,
    edges: pd.DataFrame,
) -> tuple[pd.DataFrame, int]:
    """``clusters`` (record_id, cluster_id) with conflicting components rebuilt; ``edges`` has
    ``left``, ``right`` and ``weight`` (higher links first). Returns the clusters and how many
    components were split."""
    sizes = clusters.groupby("cluster_id")["record_id"].transform("size")
    candidates = clusters[(sizes > 2) & (sizes <= MAX_CHECKED)]
    if candidates.empty:
        return clusters, 0
    columns = {r[0] for r in conn.execute(f"DESCRIBE {table}").fetchall()}
    select = ", ".join(
        f"{expr} AS {name}" if name_present else f"NULL AS {name}"
        for name, expr, name_present in (
            ("dob", "strftime(dob, '%Y%m%d')", "dob" in columns),
            ("middle", "left(middle_name, 1)", "middle_name" in columns),
            ("national_id", "national_id", "national_id" in columns),
            ("email", "email", "email" in columns),
        )
    )
    conn.register("_candidates", candidates[["record_id"]])
    facts = conn.execute(
        f"SELECT record_id, {select} FROM {table} WHERE record_id IN "
        "(SELECT record_id FROM _candidates)"
    ).df()
    conn.unregister("_candidates")
    attributes = facts.set_index("record_id").to_dict("index")

    # Only components holding two different dates of birth or middle initials can conflict.
    known = candidates.merge(facts, on="record_id")
    varied = known.groupby("cluster_id")[["dob", "middle"]].nunique().gt(1).any(axis=1)
    candidates = candidates[candidates["cluster_id"].isin(varied[varied].index)]
    by_cluster = candidates.groupby("cluster_id")["record_id"].apply(list)
    weighted = edges.sort_values("weight", ascending=False)
    new_ids: dict[str, str] = {}
    split = 0
    for members in by_cluster:
        known = [m for m in members if m in attributes]
        if not any(conflicting(attributes[a], attributes[b]) for a, b in combinations(known, 2)):
            continue
        split += 1
        inside = set(members)
        group = {m: {m} for m in members}
        links = weighted[weighted["left"].isin(inside) & weighted["right"].isin(inside)]
        for left, right in zip(links["left"], links["right"], strict=True):
            a, b = group[left], group[right]
            if a is b:
                continue
            if any(conflicting(attributes.get(x, {}), attributes.get(y, {})) for x in a for y in b):
                continue
            merged = a | b
            for record in merged:
                group[record] = merged
        _detach_ambiguous(group, links)
        for record in members:
            new_ids[record] = min(group[record])
    if not new_ids:
        return clusters, 0
    out = clusters.copy()
    rebuilt = out["record_id"].map(new_ids)
    out["cluster_id"] = rebuilt.fillna(out["cluster_id"])
    return out, split
