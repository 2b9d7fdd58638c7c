"""The profile's Dagster definitions: every dbt model an asset, every dbt test a check."""

import dagster as dg

from .assets import dbt_resource, profile_models

defs = dg.Definitions(assets=[profile_models], resources={"dbt": dbt_resource()})
