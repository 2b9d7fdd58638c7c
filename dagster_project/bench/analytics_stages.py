"""Benchmark stage: all journey analytics over about 5M events of the timeline.

The benchmark world's ``marts.fct_interactions`` is copied into a warehouse of its own, repeated
under suffixed customer keys (the last copy for a hashed share of the customers; a larger world
is cut down the same way) to about ``ANALYTICS_EVENTS`` rows, so the population grows, not the
journeys. Then the whole analytics pass runs on it: journeys, funnels, friction, paths, seven
attribution models twice (by channel and by offer), incrementality, tables, charts and the
report. Decisions are copied too when the world has any.
"""

from __future__ import annotations

import math
import shutil
import time
from pathlib import Path

from ..settings import data_paths
from ..warehouse import connect, quote_literal

ANALYTICS_EVENTS = 5_000_000


def analytics_events(bench_dir: Path) -> dict:
    from ..analytics.journey_analytics import run_journey_analytics

    root = bench_dir / "analytics_bench"
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True)
    warehouse = root / "warehouse.duckdb"
    with connect(warehouse) as conn:
        source = quote_literal(str(data_paths(bench_dir).warehouse))
        conn.execute(f"ATTACH {source} AS world (READ_ONLY)")
        events = conn.execute("SELECT count(*) FROM world.marts.fct_interactions").fetchone()[0]
        if not events:
            raise RuntimeError("the benchmark world has an empty timeline: build its profile")
        copies = max(1, math.ceil(ANALYTICS_EVENTS / events))
        last_share = ANALYTICS_EVENTS / events - (copies - 1)  # of the customers, in the last copy
        conn.execute("CREATE SCHEMA marts")
        conn.execute(
            "CREATE TABLE marts.fct_interactions AS SELECT f.* REPLACE ("
            "f.customer_key || '~' || c.i AS customer_key, "
            "f.interaction_id || '~' || c.i AS interaction_id) "
            "FROM world.marts.fct_interactions AS f, range(?) AS c(i) "
            "WHERE c.i < ? - 1 OR hash(f.customer_key) % 10000 < ?",
            [copies, copies, round(last_share * 10000)],
        )
        decided = conn.execute(
            "SELECT count(*) FROM duckdb_tables() WHERE database_name = 'world' "
            "AND schema_name = 'decisioning' AND table_name = 'next_best_actions'"
        ).fetchone()[0]
        if decided:
            conn.execute("CREATE SCHEMA decisioning")
            conn.execute(
                "CREATE TABLE decisioning.next_best_actions AS SELECT d.* REPLACE ("
                "d.customer_key || '~' || c.i AS customer_key) "
                "FROM world.decisioning.next_best_actions AS d, range(?) AS c(i) "
                "WHERE c.i < ? - 1 OR hash(d.customer_key) % 10000 < ?",
                [copies, copies, round(last_share * 10000)],
            )
        conn.execute("DETACH world")
        rows = conn.execute("SELECT count(*) FROM marts.fct_interactions").fetchone()[0]
    started = time.perf_counter()
    with connect(warehouse) as conn:
        result = run_journey_analytics(conn, root)
    return {
        "seconds": time.perf_counter() - started,
        "rows": rows,
        "copies": copies,
        "journeys": result.figures["journeys"],
        "conversions": result.figures["conversions"],
        "phases": result.seconds,
    }
