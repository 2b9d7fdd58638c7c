"""Dagster resources: the one place that turns settings into connections and validated config."""

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import dagster as dg
import duckdb

from .decisioning.config import ConfigError, MarketingConfig, load_marketing_config
from .settings import DataPaths, config_dir, data_paths
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
        # While a command holds the file, the run waits and says so in its own log.
        with connect(
            self.paths.warehouse, read_only=read_only, on_wait=dg.get_dagster_logger().warning
        ) as conn:
            yield conn


class MarketingConfigResource(dg.ConfigurableResource):
    """Marketing's YAML (offers, channels, contact policy); unset means ``JOURNEY_CONFIG_DIR`` or
    ``config/``. Read fresh by every run, so an edit applies to the next decision."""

    config_dir: str | None = None

    @property
    def folder(self) -> Path:
        return config_dir(self.config_dir)

    def load(self, consequence: str) -> MarketingConfig:
        """The validated config, or a Dagster failure whose message lists every problem and says
        what the failure left alone (``consequence``)."""
        try:
            return load_marketing_config(self.folder)
        except ConfigError as error:
            raise invalid_config(error, consequence) from error


def invalid_config(error: ConfigError, consequence: str) -> dg.Failure:
    """The Dagster failure for invalid marketing config: every problem, and what was left alone."""
    return dg.Failure(description=f"Invalid marketing config; {consequence}.\n{error}")
