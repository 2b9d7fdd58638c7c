"""Decisioning's Dagster definitions: today's next-best-action plan and its invariants."""

import dagster as dg

from .assets import decisioning_assets
from .checks import decisioning_checks

defs = dg.Definitions(assets=decisioning_assets, asset_checks=decisioning_checks)
