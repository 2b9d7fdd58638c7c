"""Dagster wiring for the dbt profile: every model an asset, every dbt test an asset check."""

import json
import os
import shutil
import sys
from collections.abc import Iterator, Mapping, Sequence
from datetime import timedelta
from functools import cached_property
from importlib.metadata import version
from pathlib import Path
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DbtCliResource, DbtProject, dbt_assets
from packaging.version import Version

from ..resources import WAREHOUSE_POOL, WarehouseResource
from .dbt_project import DBT_DIR, manifest_path

GROUP = "profile"
DBT_PROJECT = DbtProject(project_dir=DBT_DIR, profiles_dir=DBT_DIR)
DBT_RUNS_KEPT = 20  # dbt target folders kept under <data>/dbt_runs, newest first
PARTIAL_PARSE = "partial_parse.msgpack"


# The marts are rebuilt by every micro-batch and at least nightly: a day and a bit without a
# build means the nightly run did not happen (warn at a day, fail two hours later).
MARTS_FRESHNESS = dg.FreshnessPolicy.time_window(
    fail_window=timedelta(hours=26), warn_window=timedelta(hours=24)
)


class ProfileTranslator(DagsterDbtTranslator):
    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        return GROUP

    def get_owners(self, dbt_resource_props: Mapping[str, Any]) -> Sequence[str] | None:
        # dbt says who owns each model (`meta.owner`, by folder in dbt_project.yml), so dbt docs
        # and Dagster show the same team.
        meta = dbt_resource_props.get("config", {}).get("meta") or dbt_resource_props.get("meta")
        owner = (meta or {}).get("owner")
        return [owner] if owner else super().get_owners(dbt_resource_props)

    def get_asset_spec(
        self, manifest: Mapping[str, Any], unique_id: str, project: DbtProject | None
    ) -> dg.AssetSpec:
        spec = super().get_asset_spec(manifest, unique_id, project)
        if spec.key.path[0] == "marts":
            return spec.replace_attributes(freshness_policy=MARTS_FRESHNESS)
        return spec


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
    target = dbt_run_folder(warehouse.paths.root, context.run.run_id)
    yield from dbt.cli(args, context=context, target_path=target).stream()


def dbt_run_folder(data_root: Path, run_id: str) -> Path:
    """This run's dbt target folder (manifest, run results, compiled SQL, dbt.log) under the data
    directory. Each is a few MB and a micro-batch makes one a minute, so only the newest
    ``DBT_RUNS_KEPT`` are kept. The newest one's partial-parse state seeds the new folder: the
    repo's own (from ``make dbt-manifest``) was made with another data directory in the profile
    whenever this one is not the default, and dbt would then parse the whole project again."""
    runs = data_root / "dbt_runs"
    folder = runs / run_id
    if runs.exists():
        older = sorted(runs.iterdir(), key=_modified, reverse=True)
        for stale in older[DBT_RUNS_KEPT - 1 :]:
            shutil.rmtree(stale, ignore_errors=True)
        state = next((p / PARTIAL_PARSE for p in older if (p / PARTIAL_PARSE).exists()), None)
        if state is not None and folder != state.parent:
            folder.mkdir(parents=True, exist_ok=True)
            shutil.copy(state, folder / PARTIAL_PARSE)
    return folder


def _modified(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except FileNotFoundError:  # pruned by another run meanwhile
        return 0.0


class LocalDbtCliResource(DbtCliResource):
    """dbt Core installed beside this Python, invoked without two costs a micro-batch pays each run.

    On every run dagster-dbt asks the executable for its version (a `dbt --version` subprocess,
    about 3 s here) and opens a dbt adapter in the run's own process (about 1.2 s), which it
    uses only to fetch row counts and column metadata. The executable is the dbt-core of this
    environment, so its version is the installed package's; and this project fetches neither,
    so no adapter is opened.
    """

    @cached_property
    def _cli_version(self) -> Version:
        return Version(version("dbt-core"))

    def _initialize_dbt_core_adapter(self, args: Any) -> Any:
        return None


def dbt_resource() -> DbtCliResource:
    # The dbt installed beside this Python, so it works without an activated virtualenv.
    return LocalDbtCliResource(
        project_dir=DBT_PROJECT, dbt_executable=str(Path(sys.executable).parent / "dbt")
    )
