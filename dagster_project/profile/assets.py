"""Dagster wiring for the dbt profile: every model an asset, every dbt test an asset check."""

import json
import os
import shutil
import sys
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
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
    # Each model's column schema and lineage read from the warehouse after dbt exits: about
    # 15 s on a full build. Unset: only when every model is built (nightly, a demo run, the
    # UI's "materialize all"), not in a micro-batch's subset, whose latency it would double.
    column_metadata: bool | None = None


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
    if not _reads_columns(context, config):
        with _no_adapter():  # nothing reads the columns: no adapter to open
            invocation = dbt.cli(args, context=context, target_path=target)
        yield from invocation.stream()
        return
    invocation = dbt.cli(args, context=context, target_path=target)
    # Column schema (the warehouse's types) and column lineage (sqlglot on the compiled SQL) on
    # every model's materialization. With DuckDB, dagster-dbt waits for dbt to exit, and so to
    # release the warehouse, before its adapter reads the columns.
    try:
        events = invocation.stream().fetch_column_metadata()
        yield from (_duckdb_type_names(event) for event in events)
    finally:
        _close_adapter(invocation.adapter)


def _reads_columns(context: dg.AssetExecutionContext, config: ProfileConfig) -> bool:
    if config.column_metadata is not None:
        return config.column_metadata
    return set(context.selected_asset_keys) == set(context.assets_def.keys)


@contextmanager
def _no_adapter() -> Iterator[None]:
    token = _OPEN_ADAPTER.set(False)
    try:
        yield
    finally:
        _OPEN_ADAPTER.reset(token)


def _close_adapter(adapter: Any) -> None:
    """Close the DuckDB file the column metadata was read through. dbt-duckdb keeps it open
    (read-write) for the process's life, and DuckDB then refuses the read-only connections that
    later steps of an in-process run open on the same file."""
    if adapter is None:
        return
    adapter.cleanup_connections()
    close_all = getattr(type(adapter.connections), "close_all_connections", None)
    if close_all is not None:  # dbt-duckdb: drops its environment, and with it the file
        close_all()


# dbt's adapter names DuckDB's VARCHAR by its generic string type, with a length DuckDB never
# enforces; the column schema says what the warehouse holds.
_DBT_STRING_TYPE = "character varying(256)"


def _duckdb_type_names(event: Any) -> Any:
    schema = (getattr(event, "metadata", None) or {}).get("dagster/column_schema")
    if not isinstance(schema, dg.TableSchemaMetadataValue):
        return event
    columns = [
        dg.TableColumn(c.name, "VARCHAR", c.description, c.constraints, c.tags)
        if c.type == _DBT_STRING_TYPE
        else c
        for c in schema.schema.columns
    ]
    return event.with_metadata(
        {**event.metadata, "dagster/column_schema": dg.TableSchema(columns=columns)}
    )


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


# Whether dbt.cli opens a dbt adapter in this process (profile_models says no when it reads
# no columns).
_OPEN_ADAPTER: ContextVar[bool] = ContextVar("open_dbt_adapter", default=True)


class LocalDbtCliResource(DbtCliResource):
    """dbt Core installed beside this Python, invoked without two costs a micro-batch pays each run.

    On every run dagster-dbt asks the executable for its version (a `dbt --version` subprocess,
    about 3 s here) and opens a dbt adapter in the run's own process (about 1.2 s), which it
    uses only to fetch row counts and column metadata. The executable is the dbt-core of this
    environment, so its version is the installed package's; and the adapter is opened only when
    the columns are read (``ProfileConfig.column_metadata``).
    """

    @cached_property
    def _cli_version(self) -> Version:
        return Version(version("dbt-core"))

    def _initialize_dbt_core_adapter(self, args: Any) -> Any:
        return super()._initialize_dbt_core_adapter(args) if _OPEN_ADAPTER.get() else None


def dbt_resource() -> DbtCliResource:
    # The dbt installed beside this Python, so it works without an activated virtualenv.
    return LocalDbtCliResource(
        project_dir=DBT_PROJECT, dbt_executable=str(Path(sys.executable).parent / "dbt")
    )
