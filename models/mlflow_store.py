"""Where MLflow keeps runs and models: embedded SQLite under the data directory by default.

``MLFLOW_TRACKING_URI`` points a team at their own tracking server instead (the registry follows
it). Experiment artefacts go under the data directory's ``mlflow/artifacts`` for the embedded store,
never to ``./mlruns`` beside whatever directory a process happened to start in.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mlflow import MlflowClient

TRACKING_URI_ENV = "MLFLOW_TRACKING_URI"

# MLflow copies every URI it is given into MLFLOW_TRACKING_URI (for subprocesses), so the
# variable alone cannot tell a team's server from the embedded store this process chose.
_embedded_uri_in_use: str | None = None


def mlflow_dir(data_root: Path) -> Path:
    return data_root / "mlflow"


def embedded_tracking_uri(data_root: Path) -> str:
    return f"sqlite:///{(mlflow_dir(data_root) / 'mlflow.db').resolve()}"


def tracking_uri(data_root: Path) -> str:
    configured = os.environ.get(TRACKING_URI_ENV)
    if configured and configured != _embedded_uri_in_use:
        return configured
    return embedded_tracking_uri(data_root)


def is_embedded(data_root: Path) -> bool:
    return tracking_uri(data_root) == embedded_tracking_uri(data_root)


def connect_mlflow(data_root: Path) -> MlflowClient:
    """Point this process's MLflow at the store and return a client for it."""
    global _embedded_uri_in_use
    import mlflow
    from mlflow import MlflowClient

    # Progress bars for local artefact copies only clutter logs and the terminal.
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    uri = tracking_uri(data_root)
    if is_embedded(data_root):
        mlflow_dir(data_root).mkdir(parents=True, exist_ok=True)
        _embedded_uri_in_use = uri
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)
    return MlflowClient(tracking_uri=uri, registry_uri=uri)


# The tag MLflow's UI shows as an experiment's (or run's) description.
NOTE_TAG = "mlflow.note.content"


def experiment_id(
    client: MlflowClient, name: str, data_root: Path, description: str | None = None
) -> str:
    """The experiment for a model, created with its artefacts under the data directory; with a
    ``description``, the experiment says what it holds (kept current when the text changes)."""
    existing = client.get_experiment_by_name(name)
    if existing is not None:
        if description and existing.tags.get(NOTE_TAG) != description:
            client.set_experiment_tag(existing.experiment_id, NOTE_TAG, description)
        return existing.experiment_id
    location = None
    if is_embedded(data_root):
        location = (mlflow_dir(data_root) / "artifacts" / name).resolve().as_uri()
    tags = {NOTE_TAG: description} if description else None
    return client.create_experiment(name, artifact_location=location, tags=tags)
