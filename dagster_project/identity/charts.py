"""Splink's charts as self-contained HTML files (the JavaScript is embedded, nothing is fetched).

Model charts (match weights, m and u parameters) hold parameters only. The cluster studio shows
the records of a sample of clusters, names and emails included, so it is written under the data
directory beside the warehouse, never into shared reports.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb

if TYPE_CHECKING:  # splink is imported when a chart is drawn, not when Dagster loads the code
    from splink import DuckDBAPI, Linker


def _linker(conn: duckdb.DuckDBPyConnection, table: str, model: dict) -> tuple[Linker, DuckDBAPI]:
    conn.execute(f"CREATE OR REPLACE TEMP VIEW _chart_input AS SELECT * FROM {table}")
    from splink import DuckDBAPI, Linker

    api = DuckDBAPI(connection=conn)
    return Linker(api.register("_chart_input"), model, log_level=logging.ERROR), api


def save_model_charts(
    conn: duckdb.DuckDBPyConnection, table: str, model: dict, folder: Path
) -> dict[str, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    linker, _ = _linker(conn, table, model)
    charts = {
        "match_weights": linker.visualisations.match_weights_chart(),
        "m_u_parameters": linker.visualisations.m_u_parameters_chart(),
    }
    paths = {}
    for name, chart in charts.items():
        paths[name] = folder / f"{name}.html"
        chart.save(str(paths[name]), inline=True)
    return paths


def save_cluster_studio(
    conn: duckdb.DuckDBPyConnection,
    table: str,
    model: dict,
    predictions_table: str,
    clusters_sql: str,
    path: Path,
    sample_size: int = 20,
) -> Path:
    """Cluster studio for the largest clusters among a sample (``clusters_sql`` gives
    ``record_id``, ``cluster_id``)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    linker, api = _linker(conn, table, model)
    conn.execute(
        f"CREATE OR REPLACE TEMP VIEW _chart_predictions AS SELECT * FROM {predictions_table}"
    )
    conn.execute(f"CREATE OR REPLACE TEMP VIEW _chart_clusters AS {clusters_sql}")
    linker.visualisations.cluster_studio_dashboard(
        api.register("_chart_predictions"),
        api.register("_chart_clusters"),
        str(path),
        sampling_method="by_cluster_size",
        sample_size=sample_size,
        overwrite=True,
    )
    return path
