"""The identity stage on a generated demo world, in a real DuckDB warehouse, against its truth."""

from __future__ import annotations

import shutil
from pathlib import Path

import dagster as dg
import pandas as pd
import pytest

from dagster_project.demo import WorldConfig, generate_world
from dagster_project.demo.evaluation import identity_accuracy
from dagster_project.demo.truth_files import truth_labels
from dagster_project.identity.accuracy import linkage_accuracy
from dagster_project.identity.assets import customer_keys, splink_model
from dagster_project.identity.person_records import build_person_records
from dagster_project.identity.stage import (
    latest_model,
    link_new_identities,
    resolve_identities,
    train_identity_model,
)
from dagster_project.identity.stitching import DEVICE_PREFIX
from dagster_project.ingest.contracts import CONTRACTS
from dagster_project.ingest.loader import load_source
from dagster_project.resources import WarehouseResource
from dagster_project.settings import DataPaths, data_paths
from dagster_project.warehouse import connect
from tests.worlds import copy_world

LAST_DAY = "2026-02-03"  # the 30th day of the default world


def ingest(paths: DataPaths) -> None:
    with connect(paths.warehouse) as conn:
        for contract in CONTRACTS:
            load_source(conn, contract, paths.landing, "test")


def keys(paths: DataPaths) -> pd.Series:
    with connect(paths.warehouse, read_only=True) as conn:
        frame = conn.execute("SELECT record_id, customer_key FROM identity.customer_keys").df()
    return frame.set_index("record_id")["customer_key"]


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> DataPaths:
    paths = data_paths(tmp_path_factory.mktemp("identity-world"))
    generate_world(paths, WorldConfig(customers=2000, days=30, seed=42))
    ingest(paths)
    with connect(paths.warehouse) as conn:
        build_person_records(conn)
        train_identity_model(conn, paths)
        resolve_identities(conn, latest_model(paths), run_id="first")
    return paths


def test_demo_world_accuracy_including_households(world: DataPaths) -> None:
    with connect(world.warehouse, read_only=True) as conn:
        overall, per_source = identity_accuracy(conn, world.truth)
    assert overall.pair_f1 >= 0.97, overall
    assert overall.pair_precision >= 0.99, overall
    assert set(per_source) >= {"crm__customers", "contact_centre__calls", "web__events"}


def test_households_are_not_merged(world: DataPaths) -> None:
    persons = pd.read_parquet(world.truth / "persons.parquet")
    crm = truth_labels(world.truth)
    crm = crm[crm.index.str.startswith("crm__customers:")]
    household = crm.map(persons.set_index("person_id")["household_id"])
    key = keys(world).reindex(crm.index)
    frame = pd.DataFrame({"person": crm, "household": household, "key": key}).dropna()
    shared = frame.groupby("household").filter(lambda g: g["person"].nunique() > 1)
    assert shared["household"].nunique() > 50
    # within a household, no key holds two different people
    assert (shared.groupby("key")["person"].nunique() == 1).all()


def test_keys_are_stable_across_a_rerun(world: DataPaths) -> None:
    before = keys(world)
    with connect(world.warehouse) as conn:
        run = resolve_identities(conn, latest_model(world), run_id="second")
    after = keys(world)
    assert after.equals(before.reindex(after.index))
    assert run.key_events == {}


def test_incremental_batch_agrees_with_a_full_run(world: DataPaths, tmp_path: Path) -> None:
    partial = data_paths(tmp_path)
    shutil.copytree(world.landing, partial.landing)
    shutil.copytree(world.root / "identity", partial.root / "identity")  # the same model
    held_back = sorted(partial.landing.rglob(f"*{LAST_DAY}*"))
    assert held_back
    moved = tmp_path / "held_back"
    for path in held_back:
        target = moved / path.relative_to(partial.landing)
        target.parent.mkdir(parents=True, exist_ok=True)
        path.rename(target)
    ingest(partial)
    model = latest_model(partial)
    with connect(partial.warehouse) as conn:
        build_person_records(conn)
        resolve_identities(conn, model, run_id="before-batch")
    before = keys(partial)

    for path in moved.rglob("*.*"):
        target = partial.landing / path.relative_to(moved)
        path.rename(target)
    ingest(partial)
    with connect(partial.warehouse) as conn:
        build_person_records(conn)
        run = link_new_identities(conn, model, run_id="batch")
    incremental = keys(partial)
    assert run.new_records and run.new_records > 10

    full = keys(world).reindex(incremental.index)
    agreement = linkage_accuracy(incremental, full)
    assert agreement.pair_f1 == pytest.approx(1.0), agreement
    # records keyed before the batch keep their keys unless the history says why; a device
    # follows the person with most of its logins, so new logins may move it (stitching.py)
    kept = before.index.intersection(incremental.index)
    kept = kept[~kept.str.startswith(DEVICE_PREFIX)]
    changed = kept[incremental[kept] != before[kept]]
    with connect(partial.warehouse, read_only=True) as conn:
        # the old key merged into another, or records split off it under a new key
        explained = set(
            conn.execute(
                "SELECT CASE WHEN event = 'merged' THEN customer_key ELSE related_key END "
                "FROM identity.customer_key_history "
                "WHERE run_id = 'batch' AND event IN ('merged', 'split')"
            )
            .df()
            .iloc[:, 0]
        )
    assert set(before[changed]) <= explained


def splink_tables(paths: DataPaths) -> list[str]:
    with connect(paths.warehouse, read_only=True) as conn:
        rows = conn.execute(
            "SELECT table_schema || '.' || table_name FROM information_schema.tables "
            "WHERE starts_with(table_name, '__splink__')"
        ).fetchall()
    return [r[0] for r in rows]


def test_identity_assets_drop_splink_working_tables(world: DataPaths, tmp_path: Path) -> None:
    # Called directly, the stage leaves Splink's cached tables behind (as Splink does) ...
    assert splink_tables(world)
    paths = copy_world(world, tmp_path, truth=True)
    with dg.instance_for_test() as instance:
        result = dg.materialize(
            [splink_model, customer_keys],
            instance=instance,
            resources={"warehouse": WarehouseResource(data_dir=str(paths.root))},
        )
    assert result.success
    # ... a run of the assets drops them, and the keys it wrote are there
    assert splink_tables(paths) == []
    assert len(keys(paths)) == len(keys(world))
