"""Activation's Dagster definitions: deliveries, their checks, the dispatch job and the
due-actions sensor."""

import dagster as dg

from .assets import activation_assets, dispatch_job
from .checks import activation_checks
from .sensors import due_actions_sensor

defs = dg.Definitions(
    assets=activation_assets,
    asset_checks=activation_checks,
    jobs=[dispatch_job],
    sensors=[due_actions_sensor],
)
