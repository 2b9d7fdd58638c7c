"""dbt works from dbt/ with the documented defaults: no JOURNEY_DATA_DIR needed."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from dagster_project.profile.dbt_project import DBT_DIR


def test_plain_dbt_in_the_project_folder_needs_no_data_dir_setting(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "JOURNEY_DATA_DIR"}
    dbt = Path(sys.executable).parent / "dbt"
    result = subprocess.run(
        [str(dbt), "parse", "--profiles-dir", ".", "--target-path", str(tmp_path / "target")],
        cwd=DBT_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Env var required" not in result.stdout
    assert (tmp_path / "target" / "manifest.json").exists()


def test_the_profile_defaults_to_the_repo_data_dir() -> None:
    profile = (DBT_DIR / "profiles.yml").read_text()
    # Relative to dbt/, where dbt runs: <repo>/data, the Makefile's default JOURNEY_DATA_DIR.
    assert "env_var('JOURNEY_DATA_DIR', '../data')" in profile
