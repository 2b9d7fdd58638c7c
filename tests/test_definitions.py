"""The Dagster code location loads, and ingestion materializes through Dagster on real files."""

from __future__ import annotations

import json
from functools import cached_property
from pathlib import Path

import dagster as dg
import pytest

from dagster_project.definitions import defs
from dagster_project.ingest.assets import ingest_assets
from dagster_project.ingest.contracts import CONTACT_CENTRE_CALLS, CONTRACTS
from dagster_project.ingest.sensors import landing_files_sensor
from dagster_project.resources import WarehouseResource
from dagster_project.warehouse import connect
from tests.ingest.test_loader import good_row, write_rows


def test_definitions_hold_every_ingest_asset_check_sensor_and_schedule() -> None:
    graph = defs.resolve_asset_graph()
    keys = {k.to_user_string() for k in graph.get_all_asset_keys()}
    assert {f"raw/{c.name}" for c in CONTRACTS} <= keys
    assert {"identity/person_records", "identity/splink_model", "identity/customer_keys"} <= keys
    checks = {(c.asset_key.to_user_string(), c.name) for c in graph.asset_check_keys}
    assert ("raw/web__events", "quarantine_share") in checks
    assert ("identity/customer_keys", "identity_accuracy") in checks
    assert defs.resolve_sensor_def("landing_files_sensor")
    assert defs.resolve_schedule_def("nightly_ingest")
    # DuckDB has one writer: every asset that writes the warehouse shares one pool.
    assert {assets_def.op.pool for assets_def in defs.assets} == {"warehouse"}


def test_loading_the_definitions_opens_no_warehouse(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("JOURNEY_DATA_DIR", str(tmp_path))
    import importlib

    import dagster_project.definitions as module

    importlib.reload(module)
    assert not (tmp_path / "warehouse.duckdb").exists()


@pytest.fixture
def landing_world(tmp_path: Path) -> Path:
    contract = CONTACT_CENTRE_CALLS
    rows = [good_row(contract, i) for i in range(3)]
    rows.append(good_row(contract, 9) | {"caller_phone": "not a phone"})
    write_rows(tmp_path / "landing" / contract.landing_subdir / "calls_1.csv", rows, "csv")
    return tmp_path


def test_ingestion_materializes_through_dagster(landing_world: Path) -> None:
    with dg.instance_for_test() as instance:
        result = dg.materialize(
            ingest_assets,
            instance=instance,
            resources={"warehouse": WarehouseResource(data_dir=str(landing_world))},
        )
        assert result.success
        materialization = next(
            m for m in result.asset_materializations_for_node("raw__contact_centre__calls")
        )
        metadata = materialization.metadata
        assert metadata["rows_loaded"].value == 3
        assert metadata["rows_quarantined"].value == 1
        assert metadata["dagster/row_count"].value == 3
        checks = {
            (e.asset_key.to_user_string(), e.check_name): e.passed
            for e in result.get_asset_check_evaluations()
        }
        # 1 of 4 rows quarantined is far above the 2% ceiling; empty sources pass.
        assert checks[("raw/contact_centre__calls", "quarantine_share")] is False
        assert checks[("raw/web__events", "quarantine_share")] is True
    with connect(landing_world / "warehouse.duckdb", read_only=True) as conn:
        assert conn.execute("SELECT count(*) FROM raw.contact_centre__calls").fetchone() == (3,)


def test_landing_sensor_requests_only_changed_sources(landing_world: Path, monkeypatch) -> None:
    monkeypatch.setenv("JOURNEY_DATA_DIR", str(landing_world))
    with dg.instance_for_test() as instance:
        first = landing_files_sensor(dg.build_sensor_context(instance=instance))
        assert [r.asset_selection for r in first.run_requests] == [
            [dg.AssetKey(["raw", "contact_centre__calls"])]
        ]
        assert "contact_centre__calls" in json.loads(first.cursor)

        idle = landing_files_sensor(dg.build_sensor_context(instance=instance, cursor=first.cursor))
        assert not idle.run_requests

        write_rows(
            landing_world / "landing" / CONTACT_CENTRE_CALLS.landing_subdir / "calls_2.csv",
            [good_row(CONTACT_CENTRE_CALLS, 50)],
            "csv",
        )
        again = landing_files_sensor(
            dg.build_sensor_context(instance=instance, cursor=first.cursor)
        )
        assert len(again.run_requests) == 1
        assert again.run_requests[0].run_key != first.run_requests[0].run_key


def test_workspace_yaml_loads_the_code_location(tmp_path: Path) -> None:
    """What `make dev` loads: the code location named in workspace.yaml validates."""
    import os
    import subprocess
    import sys

    from dagster_project.settings import REPO_ROOT

    dagster = Path(sys.executable).parent / "dagster"
    env = os.environ | {"DAGSTER_HOME": str(tmp_path), "JOURNEY_DATA_DIR": str(tmp_path)}
    result = subprocess.run(
        [str(dagster), "definitions", "validate", "-w", "workspace.yaml"],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "journey_orchestrator" in result.stdout + result.stderr


def test_decisioning_activation_and_micro_batch_are_wired() -> None:
    assert defs.resolve_sensor_def("due_actions_sensor")
    assert defs.resolve_sensor_def("event_micro_batch_sensor")
    for job in ("dispatch_actions", "micro_batch", "train_and_score_models"):
        assert defs.resolve_job_def(job)
    micro = {
        k.to_user_string()
        for k in defs.resolve_job_def("micro_batch").asset_layer.selected_asset_keys
    }
    assert {
        "raw/web__events",
        "marts/customer_features",
        "ml/customer_scores",
        "decisioning/next_best_actions",
        "activation/deliveries",
    } <= micro
    assert not {k for k in micro if k.startswith(("training/", "ml/offer", "ml/policy"))}


def test_a_micro_batch_takes_only_what_new_files_can_change() -> None:
    from dagster_project.pipeline.jobs import micro_batch_job
    from dagster_project.pipeline.sensors import affected_by
    from dagster_project.quality.checks import gx_checks

    repository = defs.get_repository_def()
    assets, checks = affected_by(repository, ["web__events"])
    names = {k.to_user_string() for k in assets}
    assert {
        "raw/web__events",
        "marts/fct_interactions",
        "marts/customer_features",
        "ml/customer_scores",
        "decisioning/next_best_actions",
        "activation/deliveries",
    } <= names
    # Not the other sources, not what only they (or identity, not in the job) feed.
    assert not names & {"raw/crm__customers", "raw/email__events", "marts/dim_customer"}
    assert set(assets) <= micro_batch_job.selection.resolve(repository.asset_graph)
    assert checks and {c.asset_key for c in checks} <= set(assets)
    gx = {key for check in gx_checks for key in check.check_keys}
    assert not set(checks) & gx  # Great Expectations runs nightly, not per micro-batch
    assert affected_by(None, ["web__events"]) == (None, None)


def test_the_dbt_resource_skips_the_version_probe_with_the_same_answer() -> None:
    """LocalDbtCliResource overrides two private dagster-dbt members; if an upgrade renames
    them, the saving silently stops: this notices, and checks the version it assumes."""
    from dagster_dbt import DbtCliResource

    from dagster_project.profile.assets import dbt_resource

    assert callable(DbtCliResource._initialize_dbt_core_adapter)
    assert isinstance(DbtCliResource.__dict__["_cli_version"], cached_property)
    ours = dbt_resource()
    probed = DbtCliResource(project_dir=ours.project_dir, dbt_executable=ours.dbt_executable)
    assert ours._cli_version == probed._cli_version  # the latter runs `dbt --version`
