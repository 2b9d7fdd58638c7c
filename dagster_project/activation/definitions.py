"""Activation's Dagster definitions: deliveries, the dispatch job and the due-actions sensor."""

import dagster as dg

from .assets import activation_assets, dispatch_job
from .sensors import due_actions_sensor

defs = dg.Definitions(assets=activation_assets, jobs=[dispatch_job], sensors=[due_actions_sensor])
