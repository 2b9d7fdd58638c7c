"""The ML stage's Dagster definitions: training and gating, scoring, the policy's value."""

import dagster as dg

from .assets import ml_assets, train_models_job, weekly_training_schedule

defs = dg.Definitions(
    assets=ml_assets, jobs=[train_models_job], schedules=[weekly_training_schedule]
)
