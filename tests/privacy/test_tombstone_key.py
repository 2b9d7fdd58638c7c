"""Tombstones without their key cannot match anything: ingest refuses to load rather than let
forgotten people back in."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from dagster_project.ingest.contracts import CRM_PRODUCTS
from dagster_project.ingest.loader import load_source
from dagster_project.privacy.tombstones import KEY_ENV, key_path, record_tombstones, tombstone_key
from dagster_project.warehouse import connect
from tests.ingest.hostile_corpus import csv_text, good


def test_a_lost_tombstone_key_stops_ingest(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(KEY_ENV, raising=False)
    landing = tmp_path / "landing"
    folder = landing / CRM_PRODUCTS.landing_subdir
    folder.mkdir(parents=True)
    (folder / "day.csv").write_text(csv_text(good("key", 2)), encoding="utf-8")
    key = tombstone_key(tmp_path, create=True)
    with connect(tmp_path / "warehouse.duckdb") as conn:
        record_tombstones(
            conn, key, [("email", "gone@example.org")], "erasure-1", datetime(2026, 1, 1)
        )
    key_path(tmp_path).unlink()

    with connect(tmp_path / "warehouse.duckdb") as conn, pytest.raises(RuntimeError) as raised:
        load_source(conn, CRM_PRODUCTS, landing, "load-1")
    assert "key is missing" in str(raised.value)
    with connect(tmp_path / "warehouse.duckdb", read_only=True) as conn:
        loaded = conn.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_name = ?",
            [CRM_PRODUCTS.name],
        ).fetchone()[0]
        rows = (
            conn.execute(f"SELECT count(*) FROM raw.{CRM_PRODUCTS.name}").fetchone()[0]
            if loaded
            else 0
        )
    assert rows == 0
