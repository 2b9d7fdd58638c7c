"""Where the dbt project and its prepared manifest are. Paths only: nothing is parsed here.

The manifest is prepared once, by ``make`` (``dbt parse``), before Dagster loads the code
location, so loading never runs dbt and run workers never race to parse.
"""

from __future__ import annotations

from pathlib import Path

from dagster_dbt import DbtProject

from ..settings import REPO_ROOT

DBT_DIR = REPO_ROOT / "dbt"
DBT_PROJECT = DbtProject(project_dir=DBT_DIR, profiles_dir=DBT_DIR)


def manifest_path() -> Path:
    path = Path(DBT_PROJECT.manifest_path)
    if not path.exists():
        raise FileNotFoundError(
            f"{path} is missing: prepare it with `make dbt-manifest` (dbt parse) before loading "
            "the Dagster definitions"
        )
    return path
