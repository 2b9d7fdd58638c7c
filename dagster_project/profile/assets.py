"""Dagster wiring for the dbt profile: every model an asset, every dbt test an asset check."""

import json
import os
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DbtCliResource, dbt_assets

from ..resources import WAREHOUSE_POOL, WarehouseResource
from .dbt_project import DBT_PROJECT, manifest_path

GROUP = "profile"


class ProfileTranslator(DagsterDbtTranslator):
    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        return GROUP


class ProfileConfig(dg.Config):
    as_of: str | None = None  # build features and stages as of this UTC timestamp
    full_refresh: bool = False  # rebuild incremental models from scratch


@dbt_assets(
    manifest=manifest_path(),
    project=DBT_PROJECT,
    dagster_dbt_translator=ProfileTranslator(),
    pool=WAREHOUSE_POOL,
    name="profile_models",
)
def profile_models(
    context: dg.AssetExecutionContext,
    config: ProfileConfig,
    dbt: DbtCliResource,
    warehouse: WarehouseResource,
) -> Iterator:
    # dbt's profile reads the warehouse path from the same setting as every other stage.
    os.environ["JOURNEY_DATA_DIR"] = str(warehouse.paths.root)
    args = ["build"]
    if config.as_of:
        args += ["--vars", json.dumps({"as_of": config.as_of})]
    if config.full_refresh:
        args.append("--full-refresh")
    yield from dbt.cli(args, context=context).stream()


def dbt_resource() -> DbtCliResource:
    # The dbt installed beside this Python, so it works without an activated virtualenv.
    return DbtCliResource(
        project_dir=DBT_PROJECT, dbt_executable=str(Path(sys.executable).parent / "dbt")
    )
