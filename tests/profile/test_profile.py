"""The dbt profile on a generated world, run through Dagster: builds, gates and point in time."""

from __future__ import annotations

import json
from pathlib import Path

import dagster as dg
import pandas as pd
import pytest

from dagster_project.definitions import defs
from dagster_project.demo import WorldConfig
from dagster_project.profile.dbt_project import manifest_path
from dagster_project.settings import DataPaths
from dagster_project.warehouse import connect
from tests.worlds import build_profile, build_world, copy_world, truncate_raw

MARTS = {"dim_customer", "fct_interactions", "customer_features", "customer_contactability"}


def materialized(result: dg.ExecuteInProcessResult) -> set[str]:
    return {event.asset_key.path[-1] for event in result.get_asset_materialization_events()}


def failed_checks(result: dg.ExecuteInProcessResult) -> set[str]:
    return {e.check_name for e in result.get_asset_check_evaluations() if not e.passed}


def downstream_of(check_name: str, result: dg.ExecuteInProcessResult) -> set[str]:
    """Names of every asset downstream of the asset the failed check belongs to."""
    graph = defs.resolve_asset_graph()
    key = next(
        e.asset_key for e in result.get_asset_check_evaluations() if e.check_name == check_name
    )
    seen: set[dg.AssetKey] = set()
    todo = [key]
    while todo:
        for child in graph.get(todo.pop()).child_keys:
            if child not in seen:
                seen.add(child)
                todo.append(child)
    return {k.path[-1] for k in seen}


@pytest.fixture(scope="module")
def world_build(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[DataPaths, dg.ExecuteInProcessResult]:
    paths, result = build_world(
        tmp_path_factory.mktemp("profile-world"), WorldConfig(customers=1200, days=30, seed=7)
    )
    assert result.success
    assert materialized(result) >= MARTS
    assert not failed_checks(result)
    return paths, result


@pytest.fixture(scope="module")
def world(world_build: tuple[DataPaths, dg.ExecuteInProcessResult]) -> DataPaths:
    return world_build[0]


def test_every_model_materializes_with_its_column_schema_and_lineage(
    world_build: tuple[DataPaths, dg.ExecuteInProcessResult],
) -> None:
    result = world_build[1]
    metadata = {
        e.asset_key.to_user_string(): e.materialization.metadata
        for e in result.get_asset_materialization_events()
    }
    dim = metadata["marts/dim_customer"]
    types = {c.name: c.type for c in dim["dagster/column_schema"].schema.columns}
    assert types["customer_key"] == "VARCHAR" and types["consent_email"] == "BOOLEAN"
    lineage = dim["dagster/column_lineage"].lineage.deps_by_column
    assert {d.asset_key.to_user_string() for d in lineage["customer_key"]} == {
        "intermediate/int_identity_map"
    }
    # Every model carries both, down to the staging views over the raw tables.
    for key, values in metadata.items():
        assert "dagster/column_schema" in values, key
        assert "dagster/column_lineage" in values, key


def test_a_build_told_not_to_reads_no_columns(world: DataPaths, tmp_path: Path) -> None:
    # As a micro-batch's subset does by default: its latency would double.
    result = build_profile(copy_world(world, tmp_path / "copy"), column_metadata=False)
    assert result.success
    for event in result.get_asset_materialization_events():
        assert "dagster/column_lineage" not in event.materialization.metadata


def test_declared_column_types_are_the_warehouse_types(world: DataPaths) -> None:
    """The yml's data_type (what Dagster shows before a build) says what dbt builds."""
    manifest = json.loads(manifest_path().read_text())
    with connect(world.warehouse, read_only=True) as conn:
        built = {
            (schema, table, column): data_type
            for schema, table, column, data_type in conn.execute(
                "SELECT table_schema, table_name, column_name, data_type "
                "FROM information_schema.columns"
            ).fetchall()
        }
    declared = 0
    for node in manifest["nodes"].values():
        if node["resource_type"] != "model":
            continue
        for column in node["columns"].values():
            assert column.get("data_type"), f"{node['name']}.{column['name']} has no data_type"
            where = (node["schema"], node["alias"], column["name"])
            assert built[where] == column["data_type"], where
            declared += 1
    assert declared > 150


def test_every_dbt_test_is_an_asset_check_and_marts_are_filled(world: DataPaths) -> None:
    checks = {key.name for key in defs.resolve_asset_graph().asset_check_keys}
    assert "unique_stg_web__events_event_id" in checks
    assert "assert_consent_changes_have_timestamps" in checks
    with connect(world.warehouse, read_only=True) as conn:
        customers = conn.execute("SELECT count(*) FROM marts.dim_customer").fetchone()[0]
        keys = conn.execute(
            "SELECT count(DISTINCT customer_key) FROM identity.customer_keys"
        ).fetchone()[0]
        channels = {
            r[0]
            for r in conn.execute("SELECT DISTINCT channel FROM marts.fct_interactions").fetchall()
        }
    assert customers == keys
    assert {"web", "app", "email", "contact_centre"} <= channels


PLANTED = {
    "null key": (
        "INSERT INTO raw.web__events (event_id, event_ts, event_type, anonymous_id, session_id, _loaded_at) "
        "SELECT NULL, event_ts, event_type, anonymous_id, session_id, _loaded_at FROM raw.web__events LIMIT 1",
        "not_null_stg_web__events_event_id",
    ),
    "duplicated event id": (
        "INSERT INTO raw.email__events SELECT * FROM raw.email__events LIMIT 1",
        "unique_stg_email__events_event_id",
    ),
    "timestamp in the future": (
        "UPDATE raw.contact_centre__calls SET call_started_at = _loaded_at + INTERVAL 2 DAY "
        "WHERE call_id = (SELECT min(call_id) FROM raw.contact_centre__calls)",
        "not_after_load_stg_contact_centre__calls_occurred_at",
    ),
    "consent flip without timestamp": (
        "INSERT INTO raw.crm__customers BY NAME SELECT * REPLACE ("
        "NOT consent_email AS consent_email, updated_at + INTERVAL 1 DAY AS updated_at) "
        "FROM raw.crm__customers WHERE consent_email IS NOT NULL LIMIT 1",
        "assert_consent_changes_have_timestamps",
    ),
}


@pytest.mark.parametrize("case", PLANTED, ids=list(PLANTED))
def test_planted_bad_data_fails_its_check_and_stops_downstream(
    world: DataPaths, tmp_path: Path, case: str
) -> None:
    paths = copy_world(world, tmp_path)
    sql, check = PLANTED[case]
    with connect(paths.warehouse) as conn:
        conn.execute(sql)
    result = build_profile(paths)
    assert not result.success
    assert check in failed_checks(result)
    stopped = downstream_of(check, result)
    assert stopped & MARTS  # the gate guards at least one mart...
    assert not stopped & materialized(result)  # ...and nothing past it was built


def test_point_in_time_features_equal_a_rebuild_from_truncated_data(
    world: DataPaths, tmp_path: Path
) -> None:
    as_of = "2026-01-20 00:00:00"
    full = copy_world(world, tmp_path / "full")
    assert build_profile(full, as_of=as_of, full_refresh=True).success

    truncated = copy_world(world, tmp_path / "truncated")
    truncate_raw(truncated, as_of)
    assert build_profile(truncated, as_of=as_of, full_refresh=True).success

    def features(paths: DataPaths, table: str) -> pd.DataFrame:
        with connect(paths.warehouse, read_only=True) as conn:
            frame = conn.execute(f"SELECT * FROM marts.{table}").df()
        return frame.sort_values(list(frame.columns[:2])).reset_index(drop=True)

    for table in ("customer_features", "customer_journey_stages"):
        pd.testing.assert_frame_equal(features(full, table), features(truncated, table))
    assert features(full, "customer_features")["mortgage_intent_90d"].sum() > 0


def test_incremental_micro_batch_equals_a_full_rebuild(world: DataPaths, tmp_path: Path) -> None:
    paths = copy_world(world, tmp_path)
    with connect(paths.warehouse) as conn:
        before = conn.execute("SELECT count(*) FROM intermediate.int_interactions").fetchone()[0]
        # A micro-batch: 50 new web events of known devices, loaded after everything else.
        conn.execute(
            "INSERT INTO raw.web__events SELECT * REPLACE (event_id || '-batch' AS event_id, "
            "_loaded_at + INTERVAL 1 HOUR AS _loaded_at, 'micro-batch' AS _load_id) "
            "FROM raw.web__events WHERE anonymous_id IN (SELECT source_id FROM identity.customer_keys) "
            "LIMIT 50"
        )
    assert build_profile(paths).success

    def interactions() -> pd.DataFrame:
        with connect(paths.warehouse, read_only=True) as conn:
            return conn.execute(
                "SELECT * FROM intermediate.int_interactions ORDER BY interaction_id"
            ).df()

    incremental = interactions()
    assert len(incremental) == before + 50
    assert build_profile(paths, full_refresh=True).success
    pd.testing.assert_frame_equal(incremental, interactions())


def test_repeat_opens_and_a_bounced_old_address_stop_nothing(
    world: DataPaths, tmp_path: Path
) -> None:
    """Two habits of real email platforms: privacy proxies open one email many times, and an
    old address bounces after the customer moved to a new one. Neither may break the features'
    range nor make a reachable customer unreachable."""
    paths = copy_world(world, tmp_path)
    with connect(paths.warehouse) as conn:
        opened = conn.execute(
            "SELECT recipient_email, message_id, campaign_id, event_ts FROM raw.email__events "
            "WHERE event_type = 'open' ORDER BY event_id LIMIT 1"
        ).fetchone()
        # The same message opened five more times.
        conn.execute(
            "INSERT INTO raw.email__events SELECT e.* REPLACE (e.event_id || '-again-' || r.i AS "
            "event_id, e.event_ts + to_minutes(r.i) AS event_ts) FROM raw.email__events AS e, "
            "range(1, 6) AS r(i) WHERE e.event_type = 'open' AND e.message_id = ?",
            [opened[1]],
        )
        reachable = conn.execute(
            "SELECT customer_key FROM marts.customer_contactability WHERE can_email "
            "ORDER BY customer_key LIMIT 1"
        ).fetchone()[0]
        # An old address of that customer (linked to them through CRM's email history) bounces.
        conn.execute(
            "INSERT INTO raw.email__events SELECT * REPLACE ('old-bounce' AS event_id, "
            "'bounce' AS event_type, 'old.' || recipient_email AS recipient_email, "
            "event_ts + INTERVAL 1 DAY AS event_ts) FROM raw.email__events AS e WHERE "
            "e.event_id = (SELECT min(event_id) FROM raw.email__events WHERE "
            "'email__events:' || recipient_email IN (SELECT record_id FROM identity.customer_keys "
            "WHERE customer_key = ?))",
            [reachable],
        )
        conn.execute(
            "INSERT INTO identity.customer_keys SELECT * REPLACE ("
            "'email__events:' || 'old.' || substr(record_id, 15) AS record_id) "
            "FROM identity.customer_keys WHERE customer_key = ? AND source_table = 'email__events' "
            "LIMIT 1",
            [reachable],
        )
    result = build_profile(paths, full_refresh=True)
    assert result.success
    with connect(paths.warehouse, read_only=True) as conn:
        highest = conn.execute("SELECT max(email_open_rate_90d) FROM marts.customer_features")
        assert highest.fetchone()[0] <= 1.0
        bounced, can_email = conn.execute(
            "SELECT email_bounced, can_email FROM marts.customer_contactability "
            "WHERE customer_key = ?",
            [reachable],
        ).fetchone()
    assert (bounced, can_email) == (False, True)


def test_age_is_whole_years_at_as_of_from_the_date_of_birth(world: DataPaths) -> None:
    with connect(world.warehouse, read_only=True) as conn:
        rows = conn.execute(
            "SELECT f.customer_key, f.as_of, f.age_years, d.date_of_birth "
            "FROM marts.customer_features AS f JOIN marts.dim_customer AS d USING (customer_key)"
        ).df()
    born = pd.to_datetime(rows["date_of_birth"])
    assert born.notna().mean() > 0.5
    days = (pd.to_datetime(rows["as_of"]).dt.normalize() - born).dt.days
    expected = (days // 365.25).where(days.between(0, 110 * 365))
    # An older record's date of birth still counts when the latest record has none.
    assert not (rows["age_years"].isna() & expected.notna()).any()
    known = expected.notna()
    assert (rows.loc[known, "age_years"] == expected[known]).all()
    assert rows.loc[known, "age_years"].between(16, 100).mean() > 0.95
