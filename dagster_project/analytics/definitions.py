"""Analytics' Dagster definitions: journeys, funnels, attribution and the report, nightly."""

import dagster as dg

from .assets import analytics_assets, analytics_job, nightly_analytics_schedule

defs = dg.Definitions(
    assets=analytics_assets, jobs=[analytics_job], schedules=[nightly_analytics_schedule]
)
