"""A decided world with a published serving snapshot, and real ``journey serve`` processes."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from dagster_project.decisioning.assets import next_best_actions
from dagster_project.ml.assets import ml_assets
from dagster_project.serving.snapshot import latest_snapshot_id
from dagster_project.settings import DataPaths
from tests.factories import materialize
from tests.worlds import copy_world

API_KEY = "test-key-1"
STARTUP_SECONDS = 300  # imports, the snapshot and deciding everyone, on a loaded machine
OTHER_KEY = "test-key-2"


@dataclass
class Server:
    url: str
    process: subprocess.Popen
    paths: DataPaths

    def request(
        self, path: str, key: str | None = API_KEY, body: object = None, method: str = "GET"
    ) -> tuple[int, dict, bytes]:
        data = None if body is None else json.dumps(body).encode()
        headers = {"Content-Type": "application/json"} if data else {}
        if key is not None:
            headers["X-API-Key"] = key
        request = urllib.request.Request(self.url + path, data=data, headers=headers, method=method)
        try:
            with urllib.request.urlopen(request, timeout=30) as answer:
                return answer.status, _lower(answer.headers), answer.read()
        except urllib.error.HTTPError as error:
            return error.code, _lower(error.headers), error.read()


def _lower(headers: object) -> dict:
    return {k.lower(): v for k, v in headers.items()}  # type: ignore[attr-defined]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _ready(server: Server) -> bool:
    """This server (not another one that took the port) answers from the latest snapshot, and
    has decided everyone for the API's current day."""
    try:
        status, _, body = server.request("/readyz", key=None)
    except OSError:
        return False
    if status != 200:
        return False
    ready = json.loads(body)
    return (
        ready["snapshot_id"] == latest_snapshot_id(server.paths.root)
        and ready["day"] == ready["now"][:10]
        and server.process.poll() is None
    )


def _launch(paths: DataPaths, rate: float | None) -> Server:
    port = _free_port()
    env = {**os.environ, "JOURNEY_DATA_DIR": str(paths.root)}
    env["JOURNEY_API_KEYS"] = f"{API_KEY}, {OTHER_KEY}"
    if rate is not None:
        env["JOURNEY_API_RATE"] = str(rate)
    journey = Path(sys.executable).parent / "journey"
    with (paths.root / f"serve-{port}.log").open("w") as log:
        process = subprocess.Popen(
            [str(journey), "serve", "--port", str(port)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=log,
        )
    return Server(f"http://127.0.0.1:{port}", process, paths)


def start_server(paths: DataPaths, rate: float | None = None, attempts: int = 3) -> Server:
    """A ``journey serve`` on a free port, once it is ready. The port is free when chosen but
    can be taken before the server binds it (by this machine's other tests): then the server
    exits and another port is tried."""
    for _ in range(attempts):
        server = _launch(paths, rate)
        deadline = time.monotonic() + STARTUP_SECONDS
        while time.monotonic() < deadline and server.process.poll() is None:
            if _ready(server):
                return server
            time.sleep(0.25)
        if server.process.poll() is None:
            stop_server(server)
            raise TimeoutError(f"journey serve did not become ready in {STARTUP_SECONDS} s")
        log = (paths.root / f"serve-{server.url.rsplit(':', 1)[1]}.log").read_text()
        if "address already in use" not in log.lower():
            raise RuntimeError(f"journey serve exited:\n{log[-2000:]}")
    raise RuntimeError("journey serve found no free port")


def stop_server(server: Server) -> None:
    if server.process.poll() is None:
        server.process.terminate()
        try:
            server.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.process.kill()
            server.process.wait()


@pytest.fixture(scope="session")
def decided_world(model_world: DataPaths, tmp_path_factory: pytest.TempPathFactory) -> DataPaths:
    """Scored and decided once: the decision asset published the serving snapshot."""
    paths = copy_world(model_world, tmp_path_factory.mktemp("decided-world"))
    result = materialize(paths, [*ml_assets, next_best_actions])
    assert result.success
    return paths


@pytest.fixture(scope="module")
def server(decided_world: DataPaths) -> Iterator[Server]:
    running = start_server(decided_world)
    yield running
    stop_server(running)
