"""Ingestion's Dagster definitions: one asset per landing source, their job, schedule and sensor."""

import dagster as dg

from .assets import ingest_assets, ingest_job, nightly_ingest_schedule
from .sensors import landing_files_sensor

defs = dg.Definitions(
    assets=ingest_assets,
    jobs=[ingest_job],
    schedules=[nightly_ingest_schedule],
    sensors=[landing_files_sensor],
)
