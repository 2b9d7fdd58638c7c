"""Where everything lives. One setting, ``JOURNEY_DATA_DIR``, feeds Dagster, dbt and the CLI."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class DataPaths:
    """The data directory and the well-known places inside it."""

    root: Path

    @property
    def landing(self) -> Path:
        return self.root / "landing"

    @property
    def truth(self) -> Path:
        """Ground truth of the demo world: read by evaluation code only, never by the pipeline."""
        return self.root / "truth"

    @property
    def warehouse(self) -> Path:
        return self.root / "warehouse.duckdb"


def data_paths(root: str | os.PathLike[str] | None = None) -> DataPaths:
    """Resolve the data directory: an explicit root, else ``JOURNEY_DATA_DIR``, else ``data/``."""
    chosen = root or os.environ.get("JOURNEY_DATA_DIR") or REPO_ROOT / "data"
    return DataPaths(Path(chosen).expanduser().resolve())


def config_dir(override: str | os.PathLike[str] | None = None) -> Path:
    """Marketing's YAML: an explicit folder, else ``JOURNEY_CONFIG_DIR``, else ``config/``."""
    chosen = override or os.environ.get("JOURNEY_CONFIG_DIR") or REPO_ROOT / "config"
    return Path(chosen).expanduser().resolve()
