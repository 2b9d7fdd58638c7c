"""Benchmark stages, each run in its own process so its peak memory is its own.

``python -m dagster_project.bench.stages STAGE BENCH_DIR`` runs one stage and prints its result as
one JSON line. New pipeline stages add a function here and a row in ``bench.py``.
"""

from __future__ import annotations

import json
import shutil
import sys
import time
from collections.abc import Callable
from pathlib import Path

from ..ingest.contracts import CONTRACTS
from ..ingest.readers import file_format
from ..settings import data_paths
from ..warehouse import connect, quote_literal
from .analytics_stages import analytics_events
from .api_latency import api_latency
from .latency import micro_batch_latency
from .model_stages import (
    arbitrate_million,
    bare_predict,
    score_million,
    score_world,
    train_models,
)

EVENT_TABLES = ("web__events", "email__events", "contact_centre__calls", "outcomes__applications")


def generate(bench_dir: Path, customers: int, days: int, seed: int) -> dict:
    from ..demo.world import WorldConfig, generate_world

    paths = data_paths(bench_dir)
    shutil.rmtree(paths.landing, ignore_errors=True)
    shutil.rmtree(paths.truth, ignore_errors=True)
    started = time.perf_counter()
    generate_world(paths, WorldConfig(customers=customers, days=days, seed=seed))
    return {"seconds": time.perf_counter() - started}


def _bare_scan_sql(files: list[Path]) -> str:
    listed = "[" + ", ".join(quote_literal(str(f)) for f in files) + "]"
    fmt = file_format(files[0])
    if fmt == "parquet":
        return f"read_parquet({listed})"
    if fmt == "jsonl":
        return f"read_json({listed}, format = 'newline_delimited', ignore_errors = true)"
    return f"read_csv({listed}, header = true, ignore_errors = true)"


def reference_scan(bench_dir: Path) -> dict:
    """The reference: DuckDB loading the same landing files into a table, with no checks."""
    landing = data_paths(bench_dir).landing
    target = bench_dir / "reference.duckdb"
    target.unlink(missing_ok=True)
    per_table = {}
    with connect(target) as conn:
        for contract in CONTRACTS:
            files = sorted((landing / contract.landing_subdir).glob("*.*"))
            if not files:
                continue
            started = time.perf_counter()
            conn.execute(f"CREATE TABLE {contract.name} AS SELECT * FROM {_bare_scan_sql(files)}")
            rows = conn.execute(f"SELECT count(*) FROM {contract.name}").fetchone()[0]
            per_table[contract.name] = {"seconds": time.perf_counter() - started, "rows": rows}
    target.unlink(missing_ok=True)
    return _totals(per_table)


def ingest(bench_dir: Path) -> dict:
    """Ingestion as the pipeline runs it, into a fresh warehouse."""
    from ..ingest.loader import load_source

    paths = data_paths(bench_dir)
    paths.warehouse.unlink(missing_ok=True)
    per_table = {}
    with connect(paths.warehouse) as conn:
        for contract in CONTRACTS:
            started = time.perf_counter()
            report = load_source(conn, contract, paths.landing, load_id="bench")
            per_table[contract.name] = {
                "seconds": time.perf_counter() - started,
                "rows": report.rows_loaded + report.rows_quarantined,
                "quarantined": report.rows_quarantined,
            }
    return _totals(per_table)


def ingest_again(bench_dir: Path) -> dict:
    """A second ingestion with no new files: the cost of finding nothing to do."""
    from ..ingest.loader import load_source

    paths = data_paths(bench_dir)
    started = time.perf_counter()
    with connect(paths.warehouse) as conn:
        rows = sum(
            load_source(conn, c, paths.landing, "bench-again").rows_loaded for c in CONTRACTS
        )
    return {"seconds": time.perf_counter() - started, "rows": rows}


def identity_world(bench_dir: Path, customers: int, days: int, seed: int) -> dict:
    """A world sized for the identity benchmark, generated and ingested (not timed as a row)."""
    from ..ingest.loader import load_source

    paths = data_paths(bench_dir)
    if not (paths.truth / "world.json").exists():
        generate(bench_dir, customers, days, seed)
    if not paths.warehouse.exists():
        with connect(paths.warehouse) as conn:
            for contract in CONTRACTS:
                load_source(conn, contract, paths.landing, load_id="bench")
    return {"seconds": 0.0}


def identity(bench_dir: Path) -> dict:
    """The identity stage as the pipeline runs it: records, training, full resolution."""
    from ..demo.evaluation import identity_accuracy
    from ..identity.linkage import Timer
    from ..identity.person_records import build_person_records
    from ..identity.stage import resolve_identities, train_identity_model

    paths = data_paths(bench_dir)
    shutil.rmtree(paths.root / "identity", ignore_errors=True)
    timer = Timer()
    started = time.perf_counter()
    with connect(paths.warehouse) as conn:
        conn.execute("DROP SCHEMA IF EXISTS identity CASCADE")
        with timer.phase("normalise person records"):
            records = build_person_records(conn)
        model = train_identity_model(conn, paths, timer=timer)
        run = resolve_identities(conn, model, run_id="bench")
        seconds = time.perf_counter() - started
        evaluation = identity_accuracy(conn, paths.truth)
    return {
        "seconds": seconds,
        "rows": records,
        "devices": run.devices,
        "comparisons": run.comparisons,
        "matched_pairs": run.matched_pairs,
        "pair_f1": evaluation[0].pair_f1 if evaluation else None,
        "phases": timer.timings | run.timings,
    }


def _dbt(bench_dir: Path, *args: str) -> float:
    """Run dbt against the benchmark world's warehouse; return its wall time."""
    import os
    import subprocess

    from ..profile.dbt_project import DBT_DIR

    dbt = Path(sys.executable).parent / "dbt"
    bench_dir = bench_dir.resolve()  # dbt resolves relative paths against its project directory
    env = os.environ | {"JOURNEY_DATA_DIR": str(bench_dir)}
    command = [
        str(dbt),
        *args,
        "--project-dir",
        str(DBT_DIR),
        "--profiles-dir",
        str(DBT_DIR),
        "--target-path",
        str(bench_dir / "dbt_target"),
        "--quiet",
    ]
    started = time.perf_counter()
    subprocess.run(command, env=env, check=True)
    return time.perf_counter() - started


def profile(bench_dir: Path) -> dict:
    """The whole dbt profile rebuilt from scratch (models and tests), as `dbt build`."""
    seconds = _dbt(bench_dir, "build", "--full-refresh")
    with connect(data_paths(bench_dir).warehouse, read_only=True) as conn:
        rows = conn.execute("SELECT count(*) FROM marts.fct_interactions").fetchone()[0]
    return {"seconds": seconds, "rows": rows}


MICRO_BATCH_EVENTS = 10_000


def profile_micro_batch(bench_dir: Path) -> dict:
    """A micro-batch of 10k web events lands, is ingested and added by the incremental model."""
    from ..ingest.contracts import WEB_EVENTS
    from ..ingest.loader import load_source

    paths = data_paths(bench_dir)
    folder = paths.landing / WEB_EVENTS.landing_subdir
    batch_number = len(list(folder.glob("micro_batch_*.parquet"))) + 1
    latest = sorted(folder.glob("web_events_*.parquet"))[-1]
    target = folder / f"micro_batch_{batch_number:04d}.parquet"
    with connect(":memory:") as conn:
        conn.execute(
            f"COPY (SELECT * REPLACE (event_id || '-mb{batch_number}' AS event_id, "
            f"event_ts + INTERVAL {batch_number} HOUR AS event_ts) "
            f"FROM read_parquet({quote_literal(str(latest))}) LIMIT {MICRO_BATCH_EVENTS}) "
            f"TO {quote_literal(str(target))} (FORMAT PARQUET)"
        )
    started = time.perf_counter()
    with connect(paths.warehouse) as conn:
        report = load_source(conn, WEB_EVENTS, paths.landing, load_id=f"micro-batch-{batch_number}")
    ingest_seconds = time.perf_counter() - started
    dbt_seconds = _dbt(bench_dir, "run", "--select", "int_interactions")
    return {
        "seconds": ingest_seconds + dbt_seconds,
        "rows": report.rows_loaded,
        "phases": {"ingest": round(ingest_seconds, 2), "dbt incremental": round(dbt_seconds, 2)},
    }


def _totals(per_table: dict[str, dict]) -> dict:
    events = [t for name, t in per_table.items() if name in EVENT_TABLES]
    return {
        "seconds": sum(t["seconds"] for t in per_table.values()),
        "rows": sum(t["rows"] for t in per_table.values()),
        "event_seconds": sum(t["seconds"] for t in events),
        "event_rows": sum(t["rows"] for t in events),
        "tables": per_table,
    }


STAGES: dict[str, Callable[..., dict]] = {
    "generate": generate,
    "reference_scan": reference_scan,
    "ingest": ingest,
    "ingest_again": ingest_again,
    "identity_world": identity_world,
    "identity": identity,
    "profile": profile,
    "profile_micro_batch": profile_micro_batch,
    "train_models": train_models,
    "score_world": score_world,
    "score_million": score_million,
    "bare_predict": bare_predict,
    "arbitrate_million": arbitrate_million,
    "micro_batch_latency": micro_batch_latency,
    "api_latency": api_latency,
    "analytics_events": analytics_events,
}


def main(argv: list[str]) -> None:
    stage, bench_dir, *numbers = argv
    result = STAGES[stage](Path(bench_dir), *(int(n) for n in numbers))
    print(json.dumps(result))


if __name__ == "__main__":
    main(sys.argv[1:])
