"""The Dagster code location: every stage's assets, checks, jobs, sensors and schedules.

Loading this module builds definitions only: no warehouse connection, no dbt parse (the dbt
manifest is prepared beforehand by ``make dbt-manifest``).
"""

from __future__ import annotations

import dagster as dg

from .activation.assets import activation_assets, dispatch_job
from .activation.sensors import due_actions_sensor
from .analytics.assets import analytics_assets, analytics_job, nightly_analytics_schedule
from .decisioning.assets import decisioning_assets
from .identity.assets import identity_assets, identity_job, nightly_identity_schedule
from .ingest.assets import ingest_assets, ingest_job, nightly_ingest_schedule
from .ingest.sensors import landing_files_sensor
from .micro_batch import event_micro_batch_sensor, micro_batch_job
from .ml.assets import ml_assets, train_models_job, weekly_training_schedule
from .profile.assets import dbt_resource, profile_models
from .quality.checks import gx_checks
from .resources import WarehouseResource

defs = dg.Definitions(
    assets=[
        *ingest_assets,
        *identity_assets,
        profile_models,
        *ml_assets,
        *decisioning_assets,
        *activation_assets,
        *analytics_assets,
    ],
    asset_checks=gx_checks,
    jobs=[
        ingest_job,
        identity_job,
        train_models_job,
        dispatch_job,
        micro_batch_job,
        analytics_job,
    ],
    sensors=[landing_files_sensor, due_actions_sensor, event_micro_batch_sensor],
    schedules=[
        nightly_ingest_schedule,
        nightly_identity_schedule,
        weekly_training_schedule,
        nightly_analytics_schedule,
    ],
    resources={"warehouse": WarehouseResource(), "dbt": dbt_resource()},
)
