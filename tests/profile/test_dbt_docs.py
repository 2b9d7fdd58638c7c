"""dbt docs say what the project holds: an overview of its layers, an owner on every model, and
the exposures that read the marts (the decision API and the marketing console)."""

from __future__ import annotations

import json

from dagster_project.profile.dbt_project import manifest_path
from dagster_project.settings import TEAMS


def manifest() -> dict:
    return json.loads(manifest_path().read_text())


def test_the_overview_page_explains_the_layers() -> None:
    overview = manifest()["docs"]["doc.journey.__overview__"]["block_contents"]
    for layer in ("staging", "intermediate", "marts", "training", "sources"):
        assert f"| {layer} |" in overview


def test_every_model_has_an_owner_among_the_teams() -> None:
    models = [n for n in manifest()["nodes"].values() if n["resource_type"] == "model"]
    assert models
    for node in models:
        assert node["config"]["meta"].get("owner") in TEAMS, node["name"]


def test_the_decision_api_and_the_console_are_exposures_of_the_marts() -> None:
    exposures = {e["name"]: e for e in manifest()["exposures"].values()}
    assert set(exposures) == {"decision_api", "marketing_console"}
    for exposure in exposures.values():
        assert exposure["owner"]["name"] in TEAMS
        assert exposure["depends_on"]["nodes"]
        assert all(n.startswith("model.journey.") for n in exposure["depends_on"]["nodes"])
    assert "journey serve" in exposures["decision_api"]["description"]
    assert "journey console" in exposures["marketing_console"]["description"]
