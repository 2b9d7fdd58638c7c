"""Which scored pairs link, and how u is freed of the matches among random pairs: hand-worked."""

from __future__ import annotations

import duckdb
import pandas as pd
import pytest

from dagster_project.identity.linkage import _matched_edges
from dagster_project.identity.linkage_config import LinkageConfig
from dagster_project.identity.training import _remove_matches_from_u


def _scored(conn: duckdb.DuckDBPyConnection, name: str, pairs: list[tuple[str, str, float]]) -> str:
    frame = pd.DataFrame(pairs, columns=["record_id_l", "record_id_r", "match_probability"])
    conn.register(f"_{name}", frame)
    conn.execute(f"CREATE TABLE {name} AS SELECT * FROM _{name}")
    return name


def _linked(edges: pd.DataFrame) -> set[frozenset[str]]:
    return {frozenset(pair) for pair in zip(edges["left"], edges["right"], strict=True)}


def test_a_likely_pair_links_only_where_each_is_the_others_best() -> None:
    conn = duckdb.connect()
    table = _scored(
        conn,
        "scored",
        [
            ("a", "b", 0.80),  # each the other's only candidate: a move, say
            ("c", "d", 0.97),  # confident
            ("d", "e", 0.80),  # d's best is c: e is likely someone close to d
            ("f", "g", 0.60),
            ("f", "h", 0.70),  # f's best is h, and h's is f
            ("i", "j", 0.40),  # below the likely floor
        ],
    )
    edges = _matched_edges(conn, [table], LinkageConfig(match_threshold=0.95))
    assert _linked(edges) == {
        frozenset("ab"),
        frozenset("cd"),
        frozenset("fh"),
    }


def test_earlier_pairs_count_towards_the_best_but_do_not_link() -> None:
    conn = duckdb.connect()
    new = _scored(conn, "new_pairs", [("n", "x", 0.8), ("m", "y", 0.8)])
    # x already has a better candidate from the last full run; y does not.
    earlier = _scored(conn, "earlier_pairs", [("x", "z", 0.9), ("y", "w", 0.7)])
    edges = _matched_edges(conn, [new], LinkageConfig(match_threshold=0.95), [earlier])
    assert _linked(edges) == {frozenset("my")}


def test_u_loses_the_matches_random_sampling_counted() -> None:
    # random pairs: 1% match; of matches 90% agree exactly, so 0.9% of random pairs agree
    # because they match; the sampled 1.95% leaves 1.05% / 0.99 for strangers.
    model = {
        "comparisons": [
            {
                "comparison_levels": [
                    {"is_null_level": True},
                    {"m_probability": 0.9, "u_probability": 0.0195},
                    {"m_probability": 0.1, "u_probability": 0.0001},  # all of it matches
                ]
            }
        ]
    }
    assert _remove_matches_from_u(model, 0.01, floor=1e-6)
    levels = model["comparisons"][0]["comparison_levels"]
    assert levels[1]["u_probability"] == pytest.approx(0.0105 / 0.99)
    assert levels[2]["u_probability"] == 1e-6  # fewer than one stranger pair: the floor
    assert not _remove_matches_from_u(model, 0.0, floor=1e-6)
