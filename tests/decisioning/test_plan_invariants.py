"""The plan's invariant checks on a real DuckDB warehouse: consent per channel, and the global
control group, each passing on a clean plan and failing on one violating row."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import dagster as dg
import pandas as pd
import pytest

from dagster_project.decisioning.checks import contacts_have_consent, control_group_not_contacted
from dagster_project.decisioning.store import append_decisions
from dagster_project.resources import WarehouseResource
from dagster_project.warehouse import connect

DAY = datetime(2026, 3, 2, 9, 0)
# ck_a may be emailed only; ck_b may be sent sms and push; ck_c may be contacted on nothing.
CONSENT = {
    "ck_a": (True, False, False),
    "ck_b": (False, True, True),
    "ck_c": (False, False, False),
}


def decision(key: str, action: str, channel: str | None, control: bool = False) -> dict:
    return {
        "decision_id": f"d-{key}-{action}-{channel}",
        "customer_key": key,
        "action": action,
        "offer_id": "mortgage_rates",
        "product": "mortgage",
        "channel": channel,
        "control": control,
        "policy_hash": "test",
        "decided_at": DAY,
        "decision_date": DAY.date().isoformat(),
        "decision_run_id": "run-1",
    }


CLEAN_PLAN = [
    decision("ck_a", "contact", "email"),
    decision("ck_b", "contact", "sms"),
    decision("ck_c", "web", None),
    decision("ck_d", "control", "email", control=True),  # held out: recorded, never sent
]


def warehouse_with(root: Path, rows: list[dict]) -> WarehouseResource:
    with connect(root / "warehouse.duckdb") as conn:
        conn.execute("CREATE SCHEMA marts")
        conn.execute(
            "CREATE TABLE marts.customer_contactability (customer_key VARCHAR, "
            "can_email BOOLEAN, can_sms BOOLEAN, can_push BOOLEAN)"
        )
        conn.executemany(
            "INSERT INTO marts.customer_contactability VALUES (?, ?, ?, ?)",
            [(k, *c) for k, c in CONSENT.items()],
        )
        append_decisions(conn, pd.DataFrame(rows))  # the real decisioning DDL
    return WarehouseResource(data_dir=str(root))


def evaluate(check: dg.AssetChecksDefinition, warehouse: WarehouseResource) -> dg.AssetCheckResult:
    result = check(warehouse=warehouse)
    assert isinstance(result, dg.AssetCheckResult)
    return result


@pytest.mark.parametrize("check", [contacts_have_consent, control_group_not_contacted])
def test_a_plan_that_keeps_the_rules_passes(tmp_path: Path, check) -> None:
    result = evaluate(check, warehouse_with(tmp_path, CLEAN_PLAN))
    assert result.passed
    assert result.metadata["contacts_checked"].value == 2


@pytest.mark.parametrize(
    "bad",
    [
        decision("ck_a", "contact", "sms"),  # email consent only
        decision("ck_c", "contact", "push"),  # no consent at all
        decision("ck_unknown", "contact", "email"),  # not in contactability: no consent
    ],
)
def test_a_contact_without_consent_for_its_channel_fails(tmp_path: Path, bad: dict) -> None:
    result = evaluate(contacts_have_consent, warehouse_with(tmp_path, [*CLEAN_PLAN, bad]))
    assert not result.passed
    assert result.severity == dg.AssetCheckSeverity.ERROR
    assert result.metadata["decision_ids"].value == [bad["decision_id"]]


@pytest.mark.parametrize(
    "bad",
    [
        decision("ck_a", "contact", "email", control=True) | {"decision_id": "d-flagged"},
        decision("ck_d", "contact", "email"),  # ck_d holds a control row that day
    ],
)
def test_a_contact_to_the_control_group_fails(tmp_path: Path, bad: dict) -> None:
    result = evaluate(control_group_not_contacted, warehouse_with(tmp_path, [*CLEAN_PLAN, bad]))
    assert not result.passed
    assert result.metadata["decision_ids"].value == [bad["decision_id"]]


def test_only_the_latest_decision_day_is_checked(tmp_path: Path) -> None:
    yesterday = decision("ck_c", "contact", "push") | {"decision_date": "2026-03-01"}
    result = evaluate(contacts_have_consent, warehouse_with(tmp_path, [*CLEAN_PLAN, yesterday]))
    assert result.passed


def test_the_invariants_block_what_is_downstream() -> None:
    for check in (contacts_have_consent, control_group_not_contacted):
        (spec,) = check.check_specs
        assert spec.blocking
