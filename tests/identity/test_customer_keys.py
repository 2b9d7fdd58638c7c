from __future__ import annotations

import pandas as pd

from dagster_project.identity.customer_keys import assign_customer_keys

NO_KEYS = pd.DataFrame({"record_id": pd.Series(dtype=str), "customer_key": pd.Series(dtype=str)})


def clusters(mapping: dict[str, int]) -> pd.DataFrame:
    return pd.DataFrame({"record_id": list(mapping), "cluster_id": list(mapping.values())})


def key_of(assignment, record_id: str) -> str:
    keys = assignment.keys.set_index("record_id")["customer_key"]
    return keys[record_id]


def test_fresh_runs_agree_even_when_cluster_ids_differ() -> None:
    first = assign_customer_keys(clusters({"a": 1, "b": 1, "c": 2}), NO_KEYS)
    second = assign_customer_keys(clusters({"a": 7, "b": 7, "c": 3}), NO_KEYS)
    assert first.keys.equals(second.keys)
    assert key_of(first, "a") == key_of(first, "b") != key_of(first, "c")
    assert set(first.history["event"]) == {"created"}


def test_rerun_keeps_keys_when_cluster_ids_change() -> None:
    first = assign_customer_keys(clusters({"a": 1, "b": 1, "c": 2}), NO_KEYS)
    again = assign_customer_keys(clusters({"a": 9, "b": 9, "c": 4, "d": 4}), first.keys)
    assert key_of(again, "a") == key_of(first, "a")
    assert key_of(again, "d") == key_of(first, "c")
    assert again.history.empty


def test_merge_keeps_the_majority_key_and_records_the_merge() -> None:
    first = assign_customer_keys(clusters({"a": 1, "b": 1, "c": 1, "d": 2}), NO_KEYS)
    merged = assign_customer_keys(clusters({"a": 5, "b": 5, "c": 5, "d": 5}), first.keys)
    majority, minority = key_of(first, "a"), key_of(first, "d")
    assert set(merged.keys["customer_key"]) == {majority}
    row = merged.history.iloc[0]
    assert (row.customer_key, row.event, row.related_key) == (minority, "merged", majority)


def test_split_keeps_key_with_the_larger_part() -> None:
    first = assign_customer_keys(clusters({"a": 1, "b": 1, "c": 1}), NO_KEYS)
    split = assign_customer_keys(clusters({"a": 1, "b": 1, "c": 2}), first.keys)
    original = key_of(first, "a")
    assert key_of(split, "b") == original
    assert key_of(split, "c") != original
    row = split.history.iloc[0]
    assert (row.customer_key, row.event, row.related_key) == (key_of(split, "c"), "split", original)


def test_retired_keys_are_never_reissued() -> None:
    first = assign_customer_keys(clusters({"a": 1}), NO_KEYS)
    gone = assign_customer_keys(clusters({"b": 1}), first.keys)
    assert list(gone.history["event"]) == ["created", "retired"]
    back = assign_customer_keys(clusters({"a": 1}), gone.keys, issued={key_of(first, "a")})
    assert key_of(back, "a") != key_of(first, "a")


def test_components_follow_edges_and_name_clusters_by_smallest_id() -> None:
    from dagster_project.identity.graph import components

    nodes = pd.Series(["c", "a", "b", "d", "e"])
    edges = pd.DataFrame({"left": ["a", "d", "x"], "right": ["c", "e", "b"]})
    out = components(nodes, edges).set_index("record_id")["cluster_id"].to_dict()
    assert out == {"a": "a", "c": "a", "b": "b", "d": "d", "e": "d"}
