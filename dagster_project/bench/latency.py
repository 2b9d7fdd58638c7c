"""Benchmark stage: event file landing -> action delivered, with the real Dagster daemon.

A demo-sized world is generated and run once in-process; then the daemon runs with the micro-batch
sensor (and, in a second code location, a probe sensor). Each trial lands a web events file in
which one customer with a known device reads mortgage pages on a new day, and times until that
customer's new web offer is in the served personalisation snapshot. Probe trials time a trigger
file to a finished no-op run: the bare sensor latency.
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from ..activation.personalisation import SNAPSHOT
from ..settings import REPO_ROOT
from ..warehouse import connect
from .definitions import PROBE_DIR, micro_batch_idle

LATENCY_CUSTOMERS = 2000
LATENCY_DAYS = 64
TIMEOUT_S = 180.0


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * (len(ordered) - 1))))]


def _env(root: Path) -> dict[str, str]:
    home = root / "dagster_home"
    home.mkdir(parents=True, exist_ok=True)
    shutil.copy(REPO_ROOT / "dagster_instance.yaml", home / "dagster.yaml")
    env = {**os.environ, "DAGSTER_HOME": str(home), "JOURNEY_DATA_DIR": str(root)}
    env.pop("MLFLOW_TRACKING_URI", None)
    return env


def _prepare_world(root: Path, seed: int) -> None:
    bin_dir = Path(sys.executable).parent
    command = [
        str(bin_dir / "journey"),
        "demo",
        "run",
        "--customers",
        str(LATENCY_CUSTOMERS),
        "--days",
        str(LATENCY_DAYS),
        "--seed",
        str(seed),
        "--loop-days",
        "0",
    ]
    subprocess.run(command, env=_env(root), cwd=REPO_ROOT, check=True, capture_output=True)


def _snapshot(root: Path) -> dict:
    path = root / SNAPSHOT
    for _ in range(5):
        try:
            return json.loads(path.read_text())
        except (FileNotFoundError, json.JSONDecodeError):
            time.sleep(0.05)
    return {"customers": {}, "devices": {}}


def _wait(predicate, timeout: float = TIMEOUT_S) -> float:
    started = time.perf_counter()
    while time.perf_counter() - started < timeout:
        if predicate():
            return time.perf_counter() - started
        time.sleep(0.2)
    raise TimeoutError("the daemon did not finish a trial in time")


def _trial_file(root: Path, device: str, day: date, trial: int) -> Path:
    at = datetime.combine(day, datetime.min.time(), tzinfo=UTC) + timedelta(hours=15)
    n = 6
    table = pa.table(
        {
            "event_id": [f"trial-{trial}-{i}" for i in range(n)],
            "event_ts": pa.array(
                [at + timedelta(minutes=i) for i in range(n)], pa.timestamp("us", tz="UTC")
            ),
            "event_type": ["page_view"] * (n - 1) + ["calculator_submit"],
            "anonymous_id": [device] * n,
            "session_id": [f"trial-session-{trial}"] * n,
            "platform": ["web"] * n,
            "page_path": ["/mortgages/rates"] * n,
            "page_category": ["rates"] * n,
            "product_topic": ["mortgage"] * n,
            **{
                c: pa.nulls(n, pa.string())
                for c in ("login_email", "login_customer_id", "referrer", "utm_campaign")
            },
        }
    )
    folder = root / "landing" / "web" / "events"
    target = folder / f"web_events_trial_{trial:03d}.parquet"
    partial = folder / f".{target.name}.tmp"
    pq.write_table(table, partial)
    partial.replace(target)
    return target


def micro_batch_latency(bench_dir: Path, trials: int = 5, seed: int = 42) -> dict:
    root = (bench_dir / f"latency-c{LATENCY_CUSTOMERS}").resolve()
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True)
    _prepare_world(root, seed)
    with connect(root / "warehouse.duckdb", read_only=True) as conn:
        last_day = conn.execute(
            "SELECT max(occurred_at)::DATE FROM marts.fct_interactions"
        ).fetchone()[0]
        # One device each of distinct customers who are shown a web offer now (so neither in
        # the control group nor without an eligible offer): a new day's events give them a new
        # decision, whose id includes the day, or there would be no new action to wait for.
        devices = conn.execute(
            "SELECT min(k.source_id) AS device, k.customer_key FROM identity.customer_keys AS k "
            "JOIN marts.customer_contactability AS c USING (customer_key) "
            "JOIN activation.web_personalisation AS w USING (customer_key) "
            "WHERE k.source_table = 'web__events' AND NOT coalesce(k.shared_device, false) "
            "AND NOT c.do_not_contact GROUP BY k.customer_key ORDER BY device LIMIT ?",
            [trials],
        ).fetchall()
    env = _env(root)
    workspace = root / "workspace.yaml"
    workspace.write_text(
        "load_from:\n"
        "  - python_module: {module_name: dagster_project.definitions, location_name: journey_orchestrator}\n"
        "  - python_module: {module_name: dagster_project.bench.definitions, location_name: bench_probe}\n"
    )
    bin_dir = Path(sys.executable).parent
    for sensor, location in (
        ("event_micro_batch_sensor", "journey_orchestrator"),
        ("probe_sensor", "bench_probe"),
    ):
        subprocess.run(
            [
                str(bin_dir / "dagster"),
                "sensor",
                "start",
                sensor,
                "-w",
                str(workspace),
                "-l",
                location,
            ],
            env=env,
            cwd=REPO_ROOT,
            check=True,
            capture_output=True,
        )
    (root / PROBE_DIR).mkdir(exist_ok=True)
    daemon = subprocess.Popen(
        [str(bin_dir / "dagster-daemon"), "run", "-w", str(workspace)],
        env=env,
        cwd=REPO_ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    landing: list[float] = []
    bare: list[float] = []
    timeouts = 0
    try:
        # The sensor's first look sees every existing file as new: let that run finish first.
        _wait(
            lambda: (root / SNAPSHOT).exists() and _snapshot(root)["customers"] and _idle(root), 300
        )
        for trial, (device, customer) in enumerate(devices):
            before = _snapshot(root)["customers"].get(customer, {}).get("decision_id")
            _trial_file(root, device, last_day + timedelta(days=trial + 1), trial)
            try:
                landing.append(
                    _wait(
                        lambda c=customer, b=before: (
                            _snapshot(root)["customers"].get(c, {}).get("decision_id")
                            not in (None, b)
                        )
                    )
                )
                _wait(lambda: _idle(root))
                value = f"probe-{trial}"
                (root / PROBE_DIR / "trigger").write_text(value)
                bare.append(_wait(lambda v=value: _read(root / PROBE_DIR / "done") == v))
            except TimeoutError:
                timeouts += 1  # counted and reported; the trials that finished still count
    finally:
        daemon.terminate()
        daemon.wait(timeout=60)
    if not landing or not bare:
        raise RuntimeError(f"no latency trial finished ({timeouts} timed out)")
    return {
        "timeouts": timeouts,
        "seconds": statistics.median(landing),
        "rows": len(landing),
        "p50": statistics.median(landing),
        "p95": _percentile(landing, 0.95),
        "bare_p50": statistics.median(bare),
        "bare_p95": _percentile(bare, 0.95),
        "trials": landing,
        "bare_trials": bare,
    }


def _read(path: Path) -> str:
    return path.read_text() if path.exists() else ""


def _idle(root: Path) -> bool:
    """No micro-batch run queued or going (read from the Dagster instance, not the warehouse)."""
    os.environ["DAGSTER_HOME"] = str(root / "dagster_home")
    return micro_batch_idle()
