"""Run a suite with Great Expectations (GX Core 1.x) on rows read from the warehouse.

GX is imported when a validation runs, never at import: it takes seconds to load. Every result is
written as JSON under ``<data dir>/quality/<suite>/`` so it can be read after the fact.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from .expectations import Suite


@dataclass(frozen=True)
class SuiteResult:
    suite: str
    success: bool
    rows: int
    evaluated: int
    failed: list[dict]
    result_path: Path


def _gx_suite(gx, suite: Suite):
    expectations = [getattr(gx.expectations, e.type)(**e.kwargs) for e in suite.expectations]
    return gx.ExpectationSuite(name=suite.name, expectations=expectations)


def validate_suite(conn: duckdb.DuckDBPyConnection, suite: Suite, results_dir: Path) -> SuiteResult:
    import great_expectations as gx

    where = f" WHERE {suite.where.format(table=suite.table)}" if suite.where else ""
    frame = conn.execute(f"SELECT * FROM {suite.table}{where}").df()
    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = {"globally": False}
    batch = (
        context.data_sources.add_pandas("warehouse")
        .add_dataframe_asset(name=suite.table)
        .add_batch_definition_whole_dataframe("rows")
        .get_batch(batch_parameters={"dataframe": frame})
    )
    result = batch.validate(_gx_suite(gx, suite))
    failed = [
        {
            "expectation": r.expectation_config.type,
            "kwargs": {k: v for k, v in r.expectation_config.kwargs.items() if k != "batch_id"},
            "unexpected_count": r.result.get("unexpected_count"),
            "unexpected_percent": r.result.get("unexpected_percent"),
            "partial_unexpected_list": r.result.get("partial_unexpected_list", [])[:5],
            "error": (r.exception_info or {}).get("exception_message"),
        }
        for r in result.results
        if not r.success
    ]
    folder = results_dir / suite.name
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{datetime.now(UTC):%Y%m%dT%H%M%S%fZ}.json"
    path.write_text(json.dumps(result.to_json_dict(), indent=2, default=str))
    return SuiteResult(
        suite.name, bool(result.success), len(frame), len(result.results), failed, path
    )
