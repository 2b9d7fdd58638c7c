"""Data quality's Dagster definitions: the Great Expectations suites as asset checks."""

import dagster as dg

from .checks import gx_checks

defs = dg.Definitions(asset_checks=gx_checks)
