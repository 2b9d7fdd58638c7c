"""``journey models list`` at 80 columns: one block per model, nothing cut, and the gate's
same-holdout comparison beside each version (why a version with a higher own-holdout ROC-AUC
can still be kept_champion)."""

from __future__ import annotations

from io import StringIO
from pathlib import Path

from rich.console import Console

from dagster_project.cli.models import print_models
from dagster_project.settings import DataPaths
from models.mlflow_store import connect_mlflow, experiment_id
from models.registry import GateResult


def register(client, name: str, roc_auc: float, gate: GateResult, aliases: list[str]) -> None:
    run = client.create_run(experiment_id(client, name, Path(".")))
    client.log_metric(run.info.run_id, "roc_auc", roc_auc)
    client.log_metric(run.info.run_id, "pr_auc", roc_auc / 3)
    client.set_terminated(run.info.run_id)
    version = client.create_model_version(
        name, f"runs:/{run.info.run_id}/model", run_id=run.info.run_id
    )
    assert str(version.version) == gate.challenger_version
    for key, value in gate.tags().items():
        client.set_model_version_tag(name, version.version, key, value)
    for alias in aliases:
        client.set_registered_model_alias(name, alias, version.version)


def test_the_list_fits_80_columns_and_says_why_a_higher_auc_was_not_promoted(
    tmp_path: Path,
) -> None:
    client = connect_mlflow(tmp_path)
    name = "offer_propensity"
    client.create_registered_model(name)
    common = {"metric": "roc_auc", "margin": 0.01}
    register(
        client,
        name,
        0.7012,
        GateResult("first_champion", **common, challenger_version="1", challenger_value=0.7012),
        ["champion"],
    )
    # v2 scores higher on its own (newer) holdout, yet only 0.004 better than v1 on the same one.
    register(
        client,
        name,
        0.7291,
        GateResult(
            "kept_champion",
            **common,
            challenger_version="2",
            challenger_value=0.7183,
            champion_version="1",
            champion_value=0.7143,
        ),
        ["challenger"],
    )
    out = StringIO()
    print_models(DataPaths(tmp_path), Console(file=out, width=80, color_system=None))
    text = out.getvalue()
    uri, *lines = text.splitlines()[1:]
    assert uri.endswith("mlflow.db")  # whole on its own line, however long
    assert max(len(line) for line in lines) <= 80
    assert "…" not in text
    assert "first_champion" in text and "kept_champion" in text
    assert "vs v1: +0.0040 < margin 0.01" in " ".join(" ".join(lines).split())
    v2 = next(line for line in lines if line.strip().startswith("2 "))
    assert "0.7291" in v2 and "kept_champion" in v2 and "challenger" in v2
    # Models never trained say so in their own block.
    assert "channel_response" in text and "population rates" in text
