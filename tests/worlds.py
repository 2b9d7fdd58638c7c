"""Generated worlds for tests: landing files, raw tables, identity and the dbt profile, built
once per module and copied per test."""

from __future__ import annotations

import shutil
from pathlib import Path

import dagster as dg

from dagster_project.demo import WorldConfig, generate_world
from dagster_project.identity.person_records import build_person_records
from dagster_project.identity.stage import resolve_identities, train_identity_model
from dagster_project.ingest.contracts import CONTRACTS
from dagster_project.ingest.loader import load_source
from dagster_project.profile.assets import dbt_resource, profile_models
from dagster_project.resources import WarehouseResource
from dagster_project.settings import DataPaths, data_paths
from dagster_project.warehouse import connect

# Each raw table and the column that says when its rows happened (or changed).
RAW_EVENT_TIMES = (
    ("web__events", "event_ts"),
    ("email__events", "event_ts"),
    ("contact_centre__calls", "call_started_at"),
    ("outcomes__applications", "event_ts"),
    ("crm__advisor_notes", "created_at"),
    ("crm__products", "updated_at"),
    ("crm__customers", "updated_at"),
)


def build_profile(paths: DataPaths, **config) -> dg.ExecuteInProcessResult:
    """``dbt build`` through the Dagster asset, with ProfileConfig values as keyword arguments."""
    with dg.instance_for_test() as instance:
        return dg.materialize(
            [profile_models],
            instance=instance,
            resources={
                "warehouse": WarehouseResource(data_dir=str(paths.root)),
                "dbt": dbt_resource(),
            },
            run_config={"ops": {"profile_models": {"config": config}}} if config else None,
            raise_on_error=False,
        )


def build_world(root: Path, config: WorldConfig) -> tuple[DataPaths, dg.ExecuteInProcessResult]:
    """Generate, ingest, resolve identities and build the profile; returns the dbt run too."""
    paths = data_paths(root)
    generate_world(paths, config)
    with connect(paths.warehouse) as conn:
        for contract in CONTRACTS:
            load_source(conn, contract, paths.landing, "test")
        build_person_records(conn)
        model = train_identity_model(conn, paths)
        resolve_identities(conn, model, run_id="test")
    return paths, build_profile(paths)


def copy_world(world: DataPaths, destination: Path, truth: bool = False) -> DataPaths:
    """A private copy of the warehouse (and the demo truth, if asked) to change freely."""
    paths = data_paths(destination)
    paths.root.mkdir(parents=True, exist_ok=True)
    shutil.copy(world.warehouse, paths.warehouse)
    if truth:
        shutil.copytree(world.truth, paths.truth)
    return paths


def truncate_raw(paths: DataPaths, before: str) -> None:
    """Delete every raw row that happened at or after ``before``: the world as known then."""
    with connect(paths.warehouse) as conn:
        for table, column in RAW_EVENT_TIMES:
            conn.execute(f"DELETE FROM raw.{table} WHERE {column} >= TIMESTAMP '{before}'")
