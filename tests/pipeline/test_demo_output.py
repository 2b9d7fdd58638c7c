"""`make demo`'s command prints for people: at most 80 lines within 80 columns, each run with its
progress line and a line per stage, and none of dbt's, MLflow's or Splink's own lines, which go
to the log file it names (issue 17: quiet, informative commands)."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from dagster_project.settings import REPO_ROOT
from tests.pipeline.hand_made_landing import pipeline_env
from tests.pipeline.test_killed_run import BIN

pytestmark = pytest.mark.slow
# Lines as dbt, MLflow and Splink print them (the warnings' summary may quote their text).
TOOL_LINES = re.compile(
    r"^(Running with dbt|Successfully registered model|Created version|\S+ \S+ INFO mlflow|"
    r".*Completed successfully|----- Starting EM training)",
    re.M,
)


def test_the_demo_prints_at_most_80_lines_in_80_columns(tmp_path: Path) -> None:
    env = pipeline_env(tmp_path, COLUMNS="80")
    demo = subprocess.run(
        [BIN / "journey", "demo", "run", "--customers", "600", "--days", "64", "--loop-days", "1"],
        env=env,
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=900,
    )
    out = demo.stdout
    assert demo.returncode == 0, out + demo.stderr[-3000:]
    lines = out.splitlines()
    assert len(lines) <= 80, out
    # Within 80 columns, but for a path printed whole on a line of its own.
    assert all(len(line) <= 80 or re.search(r" /\S+$", line) for line in lines), out
    assert not TOOL_LINES.search(out), out
    assert "pipeline: done" in out and "loop day 1 of 1: done" in out
    for stage in ("ingest", "identity", "profile", "models", "decisions", "deliveries"):
        assert re.search(rf"^  {stage}\s", out, re.M), stage
    (log,) = re.findall(r"^  (/\S+\.log)$", out, re.M)
    assert "Running with dbt" in Path(log).read_text()
