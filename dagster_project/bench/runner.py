"""``make bench``: per-stage wall time and peak memory against a reference, as a table and JSON.

Each stage runs in a child process (``bench_stages``) so its peak resident memory is measured
alone. Timed stages repeat and report medians, since these machines are noisy; ratios are taken
within one run.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from rich.table import Table

from ..settings import DataPaths


@dataclass
class StageResult:
    stage: str
    seconds: float
    peak_mib: float
    rows: int
    reference: str | None = None
    reference_seconds: float | None = None
    runs: list[float] = field(default_factory=list)
    details: dict = field(default_factory=dict)

    @property
    def ratio(self) -> float | None:
        if not self.reference_seconds:
            return None
        return self.seconds / self.reference_seconds


@dataclass
class BenchResults:
    config: dict
    stages: list[StageResult]
    json_path: Path


def _run_stage(stage: str, bench_dir: Path, *args: int) -> tuple[dict, float]:
    """Run one stage in a child process; return its JSON result and its peak RSS in MiB. What
    the tools print (MLflow, dbt, Splink) goes to ``<bench dir>/stages.log``."""
    command = [sys.executable, "-m", "dagster_project.bench.stages", stage, str(bench_dir)]
    log_path = bench_dir / "stages.log"
    with log_path.open("a", encoding="utf-8") as log:
        log.write(f"--- {stage} {' '.join(map(str, args))}\n")
        log.flush()
        child = subprocess.Popen(
            [*command, *map(str, args)], stdout=subprocess.PIPE, stderr=log, text=True
        )
        output = child.stdout.read() if child.stdout else ""
        _, status, usage = os.wait4(child.pid, 0)
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode != 0:
        raise RuntimeError(
            f"benchmark stage {stage} failed with exit code {child.returncode} (see {log_path})"
        )
    return json.loads(output.strip().splitlines()[-1]), usage.ru_maxrss / 1024


def _repeated(
    stage: str, bench_dir: Path, repeat: int, *args: int
) -> tuple[dict, float, list[float]]:
    runs = [_run_stage(stage, bench_dir, *args) for _ in range(repeat)]
    times = [r["seconds"] for r, _ in runs]
    median_run = sorted(runs, key=lambda r: r[0]["seconds"])[len(runs) // 2]
    return median_run[0], max(m for _, m in runs), times


def run_benchmark(
    paths: DataPaths,
    customers: int,
    days: int,
    seed: int,
    repeat: int = 3,
    identity_customers: int = 0,
) -> BenchResults:
    bench_dir = paths.root / "bench" / f"c{customers}-d{days}-s{seed}"
    bench_dir.mkdir(parents=True, exist_ok=True)
    stages: list[StageResult] = []

    generated, peak = _run_stage("generate", bench_dir, customers, days, seed)
    stages.append(StageResult("generate demo world", generated["seconds"], peak, 0))

    # Interleave reference and ingestion runs so machine noise hits both alike.
    reference_runs, ingest_runs = [], []
    for _ in range(repeat):
        reference_runs.append(_run_stage("reference_scan", bench_dir))
        ingest_runs.append(_run_stage("ingest", bench_dir))
    reference, reference_peak = _median(reference_runs)
    ingested, ingest_peak = _median(ingest_runs)
    stages.append(
        StageResult(
            "reference: bare DuckDB load of landing files",
            reference["seconds"],
            reference_peak,
            reference["rows"],
            runs=[r["seconds"] for r, _ in reference_runs],
            details=reference["tables"],
        )
    )
    stages.append(
        StageResult(
            "ingest all sources (validate, quarantine, dedupe)",
            ingested["seconds"],
            ingest_peak,
            ingested["rows"],
            reference="bare DuckDB load",
            reference_seconds=reference["seconds"],
            runs=[r["seconds"] for r, _ in ingest_runs],
            details=ingested["tables"],
        )
    )
    stages.append(
        StageResult(
            f"ingest event sources ({ingested['event_rows']:,} events)",
            ingested["event_seconds"],
            ingest_peak,
            ingested["event_rows"],
            reference="bare DuckDB load of the same event files",
            reference_seconds=reference["event_seconds"],
        )
    )
    again, again_peak, again_runs = _repeated("ingest_again", bench_dir, repeat)
    stages.append(
        StageResult("ingest again, no new files", again["seconds"], again_peak, 0, runs=again_runs)
    )

    stages.append(_identity_row("identity, benchmark world", bench_dir))
    built, peak = _run_stage("profile", bench_dir)
    stages.append(
        StageResult("profile: dbt build, full refresh", built["seconds"], peak, built["rows"])
    )
    batch, peak = _run_stage("profile_micro_batch", bench_dir)
    stages.append(
        StageResult(
            "profile: 10k-event micro-batch (ingest + incremental model)",
            batch["seconds"],
            peak,
            batch["rows"],
            details=batch,
        )
    )
    stages.extend(_model_rows(bench_dir, repeat))
    stages.extend(_latency_rows(bench_dir, seed))
    stages.extend(_api_rows(bench_dir, seed))
    analysed, peak, runs = _repeated("analytics_events", bench_dir, repeat)
    stages.append(
        StageResult(
            f"analytics: journeys, funnels, paths, 7 attribution models x2, incrementality, "
            f"report ({analysed['journeys']:,} journeys)",
            analysed["seconds"],
            peak,
            analysed["rows"],
            reference="target 60 s",
            reference_seconds=60.0,
            runs=runs,
            details=analysed,
        )
    )
    if identity_customers:
        # Identity at scale: ~1.6 person records per person, so 620k people give ~1M records.
        big = paths.root / "bench" / f"identity-c{identity_customers}-d30-s{seed}"
        big.mkdir(parents=True, exist_ok=True)
        _run_stage("identity_world", big, identity_customers, 30, seed)
        stages.append(_identity_row("identity at scale", big))

    config = {
        "customers": customers,
        "days": days,
        "seed": seed,
        "repeat": repeat,
        "identity_customers": identity_customers,
    }
    out = bench_dir / f"bench-{datetime.now(UTC):%Y%m%dT%H%M%SZ}.json"
    results = BenchResults(config, stages, out)
    out.write_text(
        json.dumps(
            {
                "config": config,
                "stages": [asdict(s) | {"ratio": s.ratio} for s in stages],
            },
            indent=2,
        )
    )
    return results


def _identity_row(label: str, bench_dir: Path) -> StageResult:
    result, peak = _run_stage("identity", bench_dir)
    f1 = f", pair F1 {result['pair_f1']:.4f}" if result["pair_f1"] is not None else ""
    return StageResult(
        f"{label} (+{result['devices']:,} devices, {result['comparisons']:,} comparisons{f1})",
        result["seconds"],
        peak,
        result["rows"],
        details=result,
    )


def _model_rows(bench_dir: Path, repeat: int) -> list[StageResult]:
    trained, peak = _run_stage("train_models", bench_dir)
    rows = [
        StageResult(
            f"models: train, log, register and gate all three ({trained['rows']:,} training rows)",
            trained["seconds"],
            peak,
            trained["rows"],
            reference="target 120 s",
            reference_seconds=120.0,
            details=trained,
        )
    ]
    world, peak = _run_stage("score_world", bench_dir)
    rows.append(
        StageResult(
            "models: score the benchmark world (every customer, every champion)",
            world["seconds"],
            peak,
            world["rows"],
            details=world,
        )
    )
    bare, bare_peak, bare_runs = _repeated("bare_predict", bench_dir, repeat)
    rows.append(
        StageResult(
            "reference: bare XGBoost predict, offer model, 1M rows",
            bare["seconds"],
            bare_peak,
            bare["rows"],
            runs=bare_runs,
        )
    )
    for reason_codes, label in ((0, "scores only"), (1, "scores + reason codes for top offers")):
        scored, peak, runs = _repeated("score_million", bench_dir, repeat, reason_codes)
        rows.append(
            StageResult(
                f"models: score 1M customers ({scored['scored_rows']:,} {label})",
                scored["seconds"],
                peak,
                scored["rows"],
                reference="bare 1M-row predict",
                reference_seconds=bare["seconds"],
                runs=runs,
                details=scored,
            )
        )
    arbitrated, peak, runs = _repeated("arbitrate_million", bench_dir, repeat)
    rows.append(
        StageResult(
            f"decisioning: arbitrate 1M customers ({arbitrated['history_contacts']:,} past contacts)",
            arbitrated["seconds"],
            peak,
            arbitrated["rows"],
            reference="target 30 s",
            reference_seconds=30.0,
            runs=runs,
            details=arbitrated,
        )
    )
    return rows


def _latency_rows(bench_dir: Path, seed: int, trials: int = 5) -> list[StageResult]:
    result, peak = _run_stage("micro_batch_latency", bench_dir, trials, seed)
    bare = StageResult(
        "reference: bare Dagster sensor launching a no-op run (p50)",
        result["bare_p50"],
        peak,
        trials,
        runs=result["bare_trials"],
    )
    landed = StageResult(
        f"micro-batch: event file landed -> action delivered, daemon, demo world (p50; p95 "
        f"{result['p95']:.1f} s)",
        result["p50"],
        peak,
        trials,
        reference="bare sensor run",
        reference_seconds=result["bare_p50"],
        runs=result["trials"],
        details=result,
    )
    return [bare, landed]


def _api_rows(bench_dir: Path, seed: int, seconds: int = 60) -> list[StageResult]:
    """The decision API at each load, beside its no-op endpoint at the same load (p99)."""
    result, peak = _run_stage("api_latency", bench_dir, seconds, seed)
    by = {(r["endpoint"], r["rate"]): r for r in result["runs"]}
    rows = []
    for rate in sorted({r["rate"] for r in result["runs"]}):
        noop, decided = by[("noop", rate)], by[("decisions", rate)]
        rows.append(
            StageResult(
                f"reference: API no-op at {rate}/s (p99 {noop['p99_ms']:.1f} ms)",
                noop["p99_ms"] / 1000,
                peak,
                noop["requests"],
            )
        )
        rows.append(
            StageResult(
                f"decision API at {rate}/s, loopback: p50 {decided['p50_ms']:.1f} ms, p95 "
                f"{decided['p95_ms']:.1f}, p99 {decided['p99_ms']:.1f}, "
                f"{decided['errors']} errors",
                decided["p99_ms"] / 1000,
                peak,
                decided["requests"],
                reference=f"no-op at {rate}/s",
                reference_seconds=noop["p99_ms"] / 1000,
                details=result,
            )
        )
    return rows


def _median(runs: list[tuple[dict, float]]) -> tuple[dict, float]:
    ordered = sorted(runs, key=lambda r: r[0]["seconds"])
    median = ordered[len(ordered) // 2][0]
    median["seconds"] = statistics.median(r["seconds"] for r, _ in runs)
    median["event_seconds"] = statistics.median(r["event_seconds"] for r, _ in runs)
    return median, max(m for _, m in runs)


def render_table(results: BenchResults) -> Table:
    c = results.config
    table = Table(
        title=f"make bench: {c['customers']:,} customers, {c['days']} days, "
        f"median of {c['repeat']} runs"
    )
    for column in ("stage", "rows", "wall s", "peak MiB", "vs reference"):
        table.add_column(column, justify="left" if column == "stage" else "right")
    for s in results.stages:
        ratio = f"{s.ratio:.2f}x {s.reference}" if s.ratio is not None else ""
        table.add_row(s.stage, f"{s.rows:,}", f"{s.seconds:.2f}", f"{s.peak_mib:,.0f}", ratio)
    return table


def render_phases(results: BenchResults) -> list[str]:
    """One line per stage that reports its own phases (identity: train, predict, cluster...)."""
    lines = []
    for s in results.stages:
        phases = s.details.get("phases") if isinstance(s.details, dict) else None
        if phases:
            parts = ", ".join(f"{name} {seconds:.1f}s" for name, seconds in phases.items())
            lines.append(f"{s.stage.split(' (')[0]}: {parts}")
    return lines
