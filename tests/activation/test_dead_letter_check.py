"""The deliveries' dead-letter check on a real DuckDB outbox: passes when everything was
delivered, warns (does not block) when a delivery was dead-lettered lately."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import dagster as dg

from dagster_project.activation.checks import no_recent_dead_letters
from dagster_project.activation.outbox import OUTBOX, StateChange, ensure_tables, record
from dagster_project.resources import WarehouseResource
from dagster_project.warehouse import connect

NOW = datetime(2026, 3, 2, 15, 0)


def outbox_with(root: Path, changes: list[tuple[StateChange, datetime]]) -> WarehouseResource:
    with connect(root / "warehouse.duckdb") as conn:
        conn.execute("CREATE SCHEMA marts")  # the contact-history view reads the timeline
        conn.execute(
            "CREATE TABLE marts.fct_interactions (customer_key VARCHAR, channel VARCHAR, "
            "occurred_at TIMESTAMP, interaction_type VARCHAR)"
        )
        ensure_tables(conn)  # the real outbox DDL
        for change, _ in changes:
            conn.execute(
                f"INSERT INTO {OUTBOX} VALUES (?, ?, 'contact', 'email', 'mortgage_rates', "
                "?, 'queued', 0, ?, NULL, ?)",
                [change.decision_id, f"ck_{change.decision_id}", NOW, NOW, NOW],
            )
        for change, at in changes:
            record(conn, [change], at, "dispatch-run")
    return WarehouseResource(data_dir=str(root))


def test_passes_when_everything_was_delivered(tmp_path: Path) -> None:
    warehouse = outbox_with(tmp_path, [(StateChange("d1", "delivered", 1, "ok"), NOW)])
    result = no_recent_dead_letters(warehouse=warehouse)
    assert result.passed
    assert result.metadata["dead_letters_in_outbox"].value == 0


def test_warns_on_a_recent_dead_letter(tmp_path: Path) -> None:
    warehouse = outbox_with(
        tmp_path,
        [
            (StateChange("d1", "delivered", 1, "ok"), NOW),
            (StateChange("d2", "dead_letter", 5, "550 mailbox unavailable"), NOW),
        ],
    )
    result = no_recent_dead_letters(warehouse=warehouse)
    assert not result.passed
    assert result.severity == dg.AssetCheckSeverity.WARN
    assert result.metadata["recent_by_channel"].value == {"email": 1}
    assert result.metadata["decision_ids"].value == ["d2"]
    (spec,) = no_recent_dead_letters.check_specs
    assert not spec.blocking


def test_old_dead_letters_are_counted_not_warned_about(tmp_path: Path) -> None:
    warehouse = outbox_with(
        tmp_path,
        [
            (StateChange("d1", "dead_letter", 5, "timeout"), NOW - timedelta(days=3)),
            (StateChange("d2", "delivered", 1, "ok"), NOW),
        ],
    )
    result = no_recent_dead_letters(warehouse=warehouse)
    assert result.passed
    assert result.metadata["dead_letters_in_outbox"].value == 1
