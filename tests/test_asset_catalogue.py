"""The Dagster UI says what each asset holds: every asset has an owner among the teams, a
description, kinds and a stage group, and is defined by the code location (no orphan stubs)."""

from __future__ import annotations

import dagster as dg

from dagster_project.definitions import defs
from dagster_project.settings import TEAMS


def test_every_asset_says_who_owns_it_what_it_is_and_where_it_belongs() -> None:
    graph = defs.resolve_asset_graph()
    for key in graph.get_all_asset_keys():
        node = graph.get(key)
        name = key.to_user_string()
        assert node.is_materializable, f"{name} is referenced but no asset defines it"
        assert node.group_name not in (None, "default"), name
        assert node.owners and set(node.owners) <= set(TEAMS), (name, node.owners)
        assert (node.description or "").strip(), name
        assert node.kinds, name


def test_marts_and_decisions_have_a_freshness_policy() -> None:
    graph = defs.resolve_asset_graph()
    fresh = {
        k.to_user_string() for k in graph.get_all_asset_keys() if graph.get(k).freshness_policy
    }
    marts = {k.to_user_string() for k in graph.get_all_asset_keys() if k.path[0] == "marts"}
    assert marts and marts | {"decisioning/next_best_actions"} == fresh


def test_dbt_training_sets_belong_to_data_science_and_the_profile_to_data_engineering() -> None:
    graph = defs.resolve_asset_graph()
    assert graph.get(dg.AssetKey(["training", "churn_labels"])).owners == ["team:data-science"]
    assert graph.get(dg.AssetKey(["marts", "dim_customer"])).owners == ["team:data-engineering"]
