"""One vocabulary: the words Python defines in ``settings.py`` are the ones dbt and config use."""

from __future__ import annotations

import typing

import yaml

from dagster_project.decisioning.config import Offer
from dagster_project.ingest.contracts import CRM_PRODUCTS, MESSAGING_EVENTS, WEB_EVENTS
from dagster_project.profile.dbt_project import DBT_DIR
from dagster_project.settings import (
    HELD_PRODUCTS,
    OUTBOUND_CHANNELS,
    PRODUCTS,
    SCORES_TABLE,
    dbt_vars,
)


def _field(contract, name):
    return next(f for f in contract.fields if f.name == name)


def test_dbt_vars_are_the_python_vocabulary() -> None:
    declared = yaml.safe_load((DBT_DIR / "dbt_project.yml").read_text())["vars"]
    for name, value in dbt_vars().items():
        assert declared[name] == value, f"dbt var {name} differs from dagster_project.settings"


def test_contracts_and_marketing_config_take_their_words_from_the_vocabulary() -> None:
    assert _field(WEB_EVENTS, "product_topic").allowed == PRODUCTS
    assert _field(CRM_PRODUCTS, "product").allowed == HELD_PRODUCTS
    assert set(_field(MESSAGING_EVENTS, "channel").allowed) == set(OUTBOUND_CHANNELS) - {"email"}
    assert typing.get_args(Offer.model_fields["product"].annotation) == PRODUCTS
    (channel,) = typing.get_args(Offer.model_fields["channels"].annotation)
    assert typing.get_args(channel) == OUTBOUND_CHANNELS


def test_the_ml_stage_has_one_name() -> None:
    from dagster_project.definitions import defs

    graph = defs.resolve_asset_graph()
    ml = [k for k in graph.materializable_asset_keys if graph.get(k).group_name == "ml"]
    assert ml and all(k.path[0] == "ml" for k in ml)
    assert SCORES_TABLE.split(".")[0] == "ml"
