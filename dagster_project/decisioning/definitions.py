"""Decisioning's Dagster definitions: today's next-best-action plan."""

import dagster as dg

from .assets import decisioning_assets

defs = dg.Definitions(assets=decisioning_assets)
