"""Identity's Dagster definitions: person records, the Splink model, stable customer keys."""

import dagster as dg

from .assets import identity_assets, identity_job, nightly_identity_schedule

defs = dg.Definitions(
    assets=identity_assets, jobs=[identity_job], schedules=[nightly_identity_schedule]
)
