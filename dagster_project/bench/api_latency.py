"""Benchmark stage: the decision API under a steady load on loopback, beside its no-op endpoint.

``journey serve`` runs over the demo-sized latency world (the one ``micro_batch_latency``
prepares, or a new one). A bounded open-loop load generator (asyncio, keep-alive connections)
sends requests on a fixed schedule, at 200 and then 500 requests a second for ``seconds`` each,
first to ``/v1/noop`` (authentication, rate limit and routing, no work: the reference) and then
to ``/v1/decisions`` over every customer in turn. A request's latency runs from when the
schedule said to send it, so a server that falls behind is charged for the wait (no coordinated
omission). Errors are anything but 200 or 204, and timeouts.
"""

from __future__ import annotations

import asyncio
import os
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlencode

from .latency import LATENCY_CUSTOMERS, _env, _percentile, _prepare_world

RATES = (200, 500)
CONNECTIONS = 32
API_KEY = "bench-key"
TIMEOUT_S = 5.0


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


async def _read_response(reader: asyncio.StreamReader) -> int:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ")[1])
    length = 0
    for line in lines[1:]:
        if line.lower().startswith("content-length:"):
            length = int(line.split(":", 1)[1])
    if length:
        await reader.readexactly(length)
    return status


async def _load(port: int, paths: list[str], rate: int, seconds: float) -> dict:
    total = int(rate * seconds)
    start = time.perf_counter() + 0.2
    latencies: list[float] = []
    errors = 0

    async def connection(index: int) -> None:
        nonlocal errors
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            for i in range(index, total, CONNECTIONS):
                due = start + i / rate
                delay = due - time.perf_counter()
                if delay > 0:
                    await asyncio.sleep(delay)
                request = (
                    f"GET {paths[i % len(paths)]} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                    f"X-API-Key: {API_KEY}\r\n\r\n"
                )
                writer.write(request.encode())
                try:
                    status = await asyncio.wait_for(_read_response(reader), TIMEOUT_S)
                except (TimeoutError, asyncio.IncompleteReadError, ConnectionError):
                    errors += 1
                    writer.close()
                    reader, writer = await asyncio.open_connection("127.0.0.1", port)
                    continue
                latencies.append((time.perf_counter() - due) * 1000)
                errors += status not in (200, 204)
        finally:
            writer.close()

    await asyncio.gather(*(connection(c) for c in range(CONNECTIONS)))
    elapsed = time.perf_counter() - start
    return {
        "rate": rate,
        "requests": total,
        "achieved_rate": round(len(latencies) / elapsed, 1),
        "errors": errors,
        "p50_ms": round(statistics.median(latencies), 3),
        "p95_ms": round(_percentile(latencies, 0.95), 3),
        "p99_ms": round(_percentile(latencies, 0.99), 3),
    }


def _wait_ready(port: int, process: subprocess.Popen, timeout: float = 300) -> None:
    import urllib.request

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError("journey serve exited")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.5)
    raise TimeoutError("journey serve did not become ready")


def _ready(port: int) -> dict:
    import json
    import urllib.request

    with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=5) as answer:
        return json.loads(answer.read())


def _past_day_change(port: int, run_seconds: float, timeout: float = 600) -> float:
    """Seconds waited so the runs measure a settled day. A simulated world decides at the end
    of its last day, so the API's day changes soon after a snapshot is published; the server
    then decides everyone again off the request path. When that falls within the runs, wait
    until the new day's plan is in (``/readyz``: ``day`` equals the date of ``now``)."""
    from datetime import datetime, timedelta

    started = time.monotonic()
    now = datetime.fromisoformat(_ready(port)["now"])
    midnight = datetime.combine(now.date() + timedelta(days=1), datetime.min.time(), now.tzinfo)
    near = (midnight - now).total_seconds() <= run_seconds
    while time.monotonic() - started < timeout:
        ready = _ready(port)
        settled = ready["day"] == ready["now"][:10]
        if settled and (not near or datetime.fromisoformat(ready["now"]) >= midnight):
            return round(time.monotonic() - started, 1)
        time.sleep(1)
    raise TimeoutError("the decision API did not settle on a new day")


def api_latency(bench_dir: Path, seconds: int = 60, seed: int = 42) -> dict:
    root = (bench_dir / f"latency-c{LATENCY_CUSTOMERS}").resolve()
    from ..serving.snapshot import latest_snapshot_id, load_snapshot

    if latest_snapshot_id(root) is None:
        root.mkdir(parents=True, exist_ok=True)
        _prepare_world(root, seed)
    snapshot = load_snapshot(root, latest_snapshot_id(root))  # type: ignore[arg-type]
    keys = sorted(snapshot.inputs.customers["customer_key"].astype(str))
    placements = ("web_home", "web_product", "app_home")
    decisions = [
        "/v1/decisions?" + urlencode({"customer_key": k, "placement": placements[i % 3]})
        for i, k in enumerate(keys)
    ]
    port = _free_port()
    env = _env(root) | {"JOURNEY_API_KEYS": API_KEY, "JOURNEY_API_RATE": "100000"}
    journey = Path(sys.executable).parent / "journey"
    process = subprocess.Popen(
        [str(journey), "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    runs = []
    try:
        _wait_ready(port, process)
        waited = _past_day_change(port, run_seconds=len(RATES) * 2 * seconds + 60)
        asyncio.run(_load(port, ["/v1/noop"], 200, 3))  # warm up connections and caches
        asyncio.run(_load(port, decisions, 200, 3))
        for rate in RATES:
            for name, paths in (("noop", ["/v1/noop"]), ("decisions", decisions)):
                runs.append({"endpoint": name} | asyncio.run(_load(port, paths, rate, seconds)))
    finally:
        process.terminate()
        process.wait(timeout=30)
    by = {(r["endpoint"], r["rate"]): r for r in runs}
    top = max(RATES)
    return {
        "seconds": by[("decisions", top)]["p50_ms"] / 1000,
        "rows": sum(r["requests"] for r in runs),
        "runs": runs,
        "p99_ratio_to_noop": round(
            by[("decisions", top)]["p99_ms"] / by[("noop", top)]["p99_ms"], 2
        ),
        "cores": os.cpu_count(),
        "duration_s": seconds,
        "waited_for_day_change_s": waited,
    }
