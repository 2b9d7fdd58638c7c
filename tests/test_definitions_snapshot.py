"""The code location's contents, snapshotted: an asset, check, job, sensor or schedule that goes
missing (or appears) fails here until ``tests/definitions_snapshot.json`` is updated on purpose.

Regenerate after an intended change with ``python -m tests.test_definitions_snapshot``.
"""

from __future__ import annotations

import json
from pathlib import Path

SNAPSHOT = Path(__file__).with_name("definitions_snapshot.json")


def definitions_contents() -> dict[str, list[str]]:
    from dagster_project.definitions import defs

    graph = defs.resolve_asset_graph()
    return {
        "assets": sorted(k.to_user_string() for k in graph.get_all_asset_keys()),
        "groups": sorted({graph.get(k).group_name for k in graph.materializable_asset_keys}),
        "checks": sorted(
            f"{c.asset_key.to_user_string()}:{c.name}" for c in graph.asset_check_keys
        ),
        "jobs": sorted(j.name for j in defs.resolve_all_job_defs() if j.name != "__ASSET_JOB"),
        "sensors": sorted(s.name for s in defs.sensors or []),
        "schedules": sorted(s.name for s in defs.schedules or []),
        "resources": sorted(defs.resources or {}),
    }


def test_the_code_location_holds_what_the_snapshot_says() -> None:
    assert definitions_contents() == json.loads(SNAPSHOT.read_text())


def test_every_asset_is_in_a_named_stage_group() -> None:
    assert "default" not in definitions_contents()["groups"]


if __name__ == "__main__":
    SNAPSHOT.write_text(json.dumps(definitions_contents(), indent=1) + "\n")
