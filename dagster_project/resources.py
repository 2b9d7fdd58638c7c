"""Dagster resources: the one place that turns settings into connections."""

from collections.abc import Iterator
from contextlib import contextmanager

import dagster as dg
import duckdb

from .settings import DataPaths, data_paths
from .warehouse import connect

WAREHOUSE_POOL = "warehouse"


class WarehouseResource(dg.ConfigurableResource):
    """The data directory and its DuckDB warehouse; unset means ``JOURNEY_DATA_DIR`` or ``data/``."""

    data_dir: str | None = None

    @property
    def paths(self) -> DataPaths:
        return data_paths(self.data_dir)

    @contextmanager
    def connect(self, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
        with connect(self.paths.warehouse, read_only=read_only) as conn:
            yield conn
