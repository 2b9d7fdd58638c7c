"""Champions for scoring, without starting MLflow when the registry has not changed.

Loading a champion through MLflow costs about 5 s per process before any model is read
(importing MLflow about 3 s, opening its SQLite store about 2 s). A micro-batch that rescores a
few customers cannot afford that on every run.

The embedded registry is one SQLite file that MLflow writes on every registration, alias move
and tag, and never on reads. So each model's champion is cached under
``<data>/mlflow/champion_cache/``: a copy of its booster per version (a registered version never
changes; the folder is named by version and training run, so a registry recreated with its
numbering restarted is never confused with the old one), and a pointer ``<name>.json`` with the
version the ``champion`` alias resolved to,
stamped with the registry file's size and modification time. While the stamp matches, the copy
is loaded directly; after any write to the registry the alias is resolved through MLflow again
and the pointer is rewritten. A team tracking server (``MLFLOW_TRACKING_URI``) has no file to
stamp, so with one every load goes through MLflow.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path

from models.calibrated_booster import CalibratedBooster
from models.mlflow_store import is_embedded, mlflow_dir
from models.registry import CHAMPION, LoadedModel, load_model_version

CACHE_DIR = "champion_cache"
_STORE_FILES = ("mlflow.db", "mlflow.db-wal", "mlflow.db-journal")


def registry_stamp(data_root: Path) -> list[list[int]] | None:
    """Size and modification time of the embedded store's files; None for a tracking server."""
    if not is_embedded(data_root):
        return None
    stamp = []
    for name in _STORE_FILES:
        path = mlflow_dir(data_root) / name
        if path.exists():
            info = path.stat()
            stamp.append([info.st_size, info.st_mtime_ns])
        else:
            stamp.append([])
    return stamp


def load_champion(name: str, data_root: Path) -> LoadedModel:
    """``models:/<name>@champion``, from the cache when the registry is unchanged since it was
    resolved. Raises ``ModelLoadError`` as ``load_model_version`` does."""
    stamp = registry_stamp(data_root)
    if stamp is None:
        return load_model_version(name, CHAMPION, data_root)
    cache = mlflow_dir(data_root) / CACHE_DIR
    pointer = cache / f"{name}.json"
    cached = _read_pointer(pointer)
    if cached is not None and cached.get("stamp") == stamp:
        try:
            model = CalibratedBooster.load(
                _copy_folder(cache, name, cached["version"], cached["run_id"])
            )
        except (OSError, ValueError, KeyError, TypeError):
            pass  # a damaged copy or an older pointer: resolve and copy again
        else:
            return LoadedModel(name, cached["version"], cached["run_id"], model)
    loaded = load_model_version(name, CHAMPION, data_root)
    _store(cache, pointer, loaded, stamp)
    return loaded


def _copy_folder(cache: Path, name: str, version: str, run_id: str) -> Path:
    return cache / name / f"{version}-{run_id}"


def _read_pointer(pointer: Path) -> dict | None:
    try:
        return json.loads(pointer.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _store(cache: Path, pointer: Path, loaded: LoadedModel, stamp: list[list[int]]) -> None:
    """Copy the booster (once per version), then point at it; both appear whole or not at all."""
    directory = _copy_folder(cache, loaded.name, loaded.version, loaded.run_id)
    if not directory.exists():
        directory.parent.mkdir(parents=True, exist_ok=True)
        partial = Path(tempfile.mkdtemp(dir=directory.parent, prefix=".partial-"))
        loaded.model.save(partial)
        try:
            partial.rename(directory)
        except OSError:  # another process cached the same version first
            shutil.rmtree(partial, ignore_errors=True)
    record = {"version": loaded.version, "run_id": loaded.run_id, "stamp": stamp}
    fd, temporary = tempfile.mkstemp(dir=cache, prefix=f".{pointer.name}.")
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(record, handle)
    os.replace(temporary, pointer)
