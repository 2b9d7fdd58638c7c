"""The Dagster code location: every stage's own definitions, merged, and the shared resources.

Loading this module builds definitions only: no warehouse connection, no dbt parse (the dbt
manifest is prepared beforehand by ``make dbt-manifest``).
"""

from __future__ import annotations

import dagster as dg

from .activation import definitions as activation
from .analytics import definitions as analytics
from .decisioning import definitions as decisioning
from .identity import definitions as identity
from .ingest import definitions as ingest
from .ml import definitions as ml
from .pipeline import definitions as pipeline
from .profile import definitions as profile
from .quality import definitions as quality
from .resources import MarketingConfigResource, WarehouseResource

# Modules, not their Definitions: a code location may hold one Definitions at module scope.
STAGES = (ingest, identity, profile, quality, ml, decisioning, activation, analytics, pipeline)

defs = dg.Definitions.merge(
    *(stage.defs for stage in STAGES),
    dg.Definitions(
        resources={"warehouse": WarehouseResource(), "marketing_config": MarketingConfigResource()}
    ),
)
