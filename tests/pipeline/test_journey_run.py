"""``journey run`` on a data directory of hand-made landing files: the whole pipeline runs, the
terminal gets a progress line and a summary per stage within 80 columns while the tools' output
goes to a log file, and the run is an ordinary run of the code location: the Dagster UI's
GraphQL API re-executes it, and the real daemon carries the re-execution to success
(issue 17: quiet commands, `journey run`, re-executable runs)."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from dagster_project.settings import REPO_ROOT
from tests.pipeline.hand_made_landing import pipeline_env, write_landing
from tests.pipeline.test_killed_run import BIN, wait_for

pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def hand_made(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    """A data directory of hand-made files after one `journey run`, its output and environment."""
    root = tmp_path_factory.mktemp("hand-made")
    data, home = root / "data", root / "dagster_home"
    declared = write_landing(data / "landing")
    env = pipeline_env(root, COLUMNS="80")
    run = subprocess.run(
        [BIN / "journey", "run", "--data-dir", data],
        env=env,
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    yield {"data": data, "home": home, "env": env, "declared": declared, "run": run}


def test_journey_run_runs_every_stage_on_hand_made_files(hand_made: dict) -> None:
    run = hand_made["run"]
    assert run.returncode == 0, run.stdout + run.stderr
    out = run.stdout
    assert "succeeded" in out and "FAILED" not in out
    for stage in ("ingest", "identity", "profile", "models", "decisions", "deliveries"):
        assert re.search(rf"^  {stage}\s", out, re.M), f"no {stage} line in:\n{out}"
    # Within 80 columns, but for a path printed whole on a line of its own.
    assert all(len(line) <= 80 or re.search(r" /\S+$", line) for line in out.splitlines()), out
    assert len(out.splitlines()) <= 30, out
    # Every declared row loaded, none quarantined.
    total = sum(hand_made["declared"].values())
    assert f"ingest     {total} rows" in out and "0 quarantined" in out, out

    # dbt's and the rest of the tools' output is in the log named, not on the terminal.
    (log_name,) = re.findall(r"^  (/\S+\.log)$", out, re.M)
    log = Path(log_name).read_text()
    assert "Running with dbt" in log
    assert "Running with dbt" not in out and "Running with dbt" not in run.stderr

    with duckdb.connect(str(hand_made["data"] / "warehouse.duckdb"), read_only=True) as conn:
        for table, rows in hand_made["declared"].items():
            assert conn.execute(f"SELECT count(*) FROM raw.{table}").fetchone()[0] == rows
        key = dict(
            conn.execute("SELECT source_id, customer_key FROM identity.customer_keys").fetchall()
        )
        decided = conn.execute(
            "SELECT count(DISTINCT customer_key) FROM decisioning.next_best_actions"
        ).fetchone()[0]
    # The household's two people stay two customers; Ana's login device, emails and application
    # are Ana; the call of a verified caller is hers (Mei).
    assert key["H-001"] != key["H-002"]
    for source_id in ("dev-a", "ana.lopez@mail.test", "APP-1"):
        assert key[source_id] == key["H-001"], source_id
    assert key["K-2"] == key["H-003"]
    assert decided == len(set(key.values()))


def test_the_run_is_re_executed_from_the_dagster_ui(hand_made: dict, tmp_path: Path) -> None:
    assert hand_made["run"].returncode == 0
    env = hand_made["env"]
    with dg.DagsterInstance.from_config(str(hand_made["home"])) as instance:
        (parent,) = instance.get_runs(filters=dg.RunsFilter(job_name="pipeline"))
    port = _free_port()
    logs = (tmp_path / "webserver.log").open("w"), (tmp_path / "daemon.log").open("w")
    processes = [
        subprocess.Popen(
            command,
            env=env,
            cwd=REPO_ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        for command, log in zip(
            (
                [
                    BIN / "dagster-webserver",
                    "-w",
                    "workspace.yaml",
                    "-h",
                    "127.0.0.1",
                    "-p",
                    str(port),
                ],
                [BIN / "dagster-daemon", "run", "-w", "workspace.yaml"],
            ),
            logs,
            strict=True,
        )
    ]

    def graphql(query: str, **variables: object) -> dict:
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/graphql",
            data=json.dumps({"query": query, "variables": variables}).encode(),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.load(response)["data"]

    def up() -> bool:
        try:
            return bool(graphql("{ version }"))
        except OSError:
            return False

    try:
        wait_for("the Dagster webserver", up, 120)
        origin = graphql(
            "query($id: ID!) { runOrError(runId: $id) { ... on Run { pipelineName "
            "repositoryOrigin { repositoryLocationName } } } }",
            id=parent.run_id,
        )["runOrError"]
        assert origin == {
            "pipelineName": "pipeline",
            "repositoryOrigin": {"repositoryLocationName": "journey_orchestrator"},
        }
        launched = graphql(
            "mutation($id: String!) { launchPipelineReexecution(reexecutionParams: "
            "{parentRunId: $id, strategy: ALL_STEPS}) { __typename "
            "... on LaunchRunSuccess { run { runId } } ... on PythonError { message } } }",
            id=parent.run_id,
        )["launchPipelineReexecution"]
        assert launched["__typename"] == "LaunchRunSuccess", launched
        child_id = launched["run"]["runId"]
        with dg.DagsterInstance.from_config(str(hand_made["home"])) as instance:

            def finished() -> dg.DagsterRun | None:
                child = instance.get_run_by_id(child_id)
                return child if child and child.is_finished else None

            child = wait_for("the re-executed run", finished, 420)
            assert child.status == dg.DagsterRunStatus.SUCCESS, (
                tmp_path / "daemon.log"
            ).read_text()
            assert child.parent_run_id == parent.run_id
    finally:
        for process in processes:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=60)
        for log in logs:
            log.close()
