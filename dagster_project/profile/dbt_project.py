"""Where the dbt project and its prepared manifest are. Paths only: nothing is parsed here.

The manifest is prepared once, by ``make`` (``dbt parse``), before Dagster loads the code
location, so loading never runs dbt and run workers never race to parse.
"""

from __future__ import annotations

from pathlib import Path

from ..settings import REPO_ROOT

DBT_DIR = REPO_ROOT / "dbt"
MANIFEST = DBT_DIR / "target" / "manifest.json"


def manifest_path() -> Path:
    if not MANIFEST.exists():
        raise FileNotFoundError(
            f"{MANIFEST} is missing: prepare it with `make dbt-manifest` (dbt parse) before "
            "loading the Dagster definitions"
        )
    return MANIFEST
