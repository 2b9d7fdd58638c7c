"""Fixtures shared across stages."""

from __future__ import annotations

import pytest

from dagster_project.demo import WorldConfig
from dagster_project.settings import DataPaths
from tests.worlds import build_world


@pytest.fixture(autouse=True)
def embedded_mlflow(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests use the embedded MLflow store of their own data directory, never a team server."""
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)


@pytest.fixture(scope="session")
def model_world(tmp_path_factory: pytest.TempPathFactory) -> DataPaths:
    """A world with enough history for the models' purged split (about 58 days), profile built.
    Tests copy it (``tests.worlds.copy_world``) before changing anything."""
    paths, result = build_world(
        tmp_path_factory.mktemp("model-world"), WorldConfig(customers=2000, days=64, seed=11)
    )
    assert result.success
    return paths
