"""Great Expectations checks on a real warehouse: a failing blocking check stops what is downstream."""

from __future__ import annotations

import json
from pathlib import Path

import dagster as dg
import pytest

from dagster_project.quality.checks import build_gx_check
from dagster_project.quality.expectations import suites
from dagster_project.resources import WarehouseResource

CONTACTABILITY = next(s for s in suites() if s.name == "customer_contactability")

GOOD = [
    # customer_key, consents (email, sms, push, phone), do_not_contact, can_* (email, sms, push, call)
    ("ck_1", True, True, False, True, False, True, True, False, True),
    ("ck_2", False, False, False, False, True, False, False, False, False),
]
# Contactable by email without consent, and by SMS while do-not-contact: must never happen.
BAD = [
    ("ck_3", False, True, False, False, False, True, False, False, False),
    ("ck_4", True, True, True, True, True, False, True, False, False),
]


def run_with_contactability(data_dir: Path, rows: list[tuple]) -> dg.ExecuteInProcessResult:
    @dg.asset(key=dg.AssetKey(["marts", "customer_contactability"]))
    def customer_contactability(warehouse: WarehouseResource) -> None:
        with warehouse.connect() as conn:
            conn.execute(
                "CREATE SCHEMA IF NOT EXISTS marts; CREATE OR REPLACE TABLE marts.customer_contactability "
                "(customer_key VARCHAR, consent_email BOOLEAN, consent_sms BOOLEAN, consent_push BOOLEAN, "
                "consent_phone BOOLEAN, do_not_contact BOOLEAN, can_email BOOLEAN, can_sms BOOLEAN, "
                "can_push BOOLEAN, can_call BOOLEAN)"
            )
            conn.executemany(
                "INSERT INTO marts.customer_contactability VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                rows,
            )

    @dg.asset(deps=[customer_contactability])
    def outbound_campaign() -> None:
        """Stands for decisioning: must not run on contactability that failed its gate."""

    with dg.instance_for_test() as instance:
        return dg.materialize(
            [customer_contactability, outbound_campaign, build_gx_check(CONTACTABILITY)],
            instance=instance,
            resources={"warehouse": WarehouseResource(data_dir=str(data_dir))},
            raise_on_error=False,
        )


def materialized(result: dg.ExecuteInProcessResult) -> set[str]:
    return {e.asset_key.to_user_string() for e in result.get_asset_materialization_events()}


def test_passing_gate_lets_downstream_run(tmp_path: Path) -> None:
    result = run_with_contactability(tmp_path, GOOD)
    (evaluation,) = result.get_asset_check_evaluations()
    assert evaluation.passed
    assert "outbound_campaign" in materialized(result)
    saved = sorted((tmp_path / "quality" / "customer_contactability").glob("*.json"))
    assert json.loads(saved[-1].read_text())["success"] is True


@pytest.mark.parametrize("bad_row", BAD, ids=["email without consent", "sms while do-not-contact"])
def test_failing_blocking_gate_stops_downstream(tmp_path: Path, bad_row: tuple) -> None:
    result = run_with_contactability(tmp_path, [*GOOD, bad_row])
    (evaluation,) = result.get_asset_check_evaluations()
    assert not evaluation.passed
    assert evaluation.severity == dg.AssetCheckSeverity.ERROR
    assert evaluation.metadata["failed_expectations"].value >= 1
    assert "marts/customer_contactability" in materialized(result)
    assert "outbound_campaign" not in materialized(result)
