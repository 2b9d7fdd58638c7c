"""Dagster wiring for journey analytics: one asset, its job and a nightly schedule."""

import dagster as dg

from ..activation.assets import DELIVERIES
from ..decisioning.assets import NEXT_BEST_ACTIONS
from ..resources import WAREHOUSE_POOL, WarehouseResource
from ..settings import MARKETING_OPS

GROUP = "analytics"
JOURNEY_ANALYTICS = dg.AssetKey(["analytics", "journey_analytics"])


@dg.asset(
    key=JOURNEY_ANALYTICS,
    group_name=GROUP,
    pool=WAREHOUSE_POOL,
    kinds={"duckdb", "pandas"},
    owners=[MARKETING_OPS],
    deps=[dg.AssetKey(["marts", "fct_interactions"]), NEXT_BEST_ACTIONS, DELIVERIES],
    description="Paths, funnels, friction points, seven attribution models, incrementality "
    "against the control group and, in the demo world, attribution checked against the causal "
    "truth: tables in schema analytics, charts and the report under <data dir>/analytics/.",
)
def journey_analytics(warehouse: WarehouseResource) -> dg.MaterializeResult:
    from .journey_analytics import run_journey_analytics

    truth = warehouse.paths.truth if warehouse.paths.truth.is_dir() else None
    with warehouse.connect() as conn:
        result = run_journey_analytics(conn, warehouse.paths.root, truth)
    return dg.MaterializeResult(
        metadata={
            "report": dg.MetadataValue.path(str(result.report)),
            **{f"chart_{name}": dg.MetadataValue.path(str(p)) for name, p in result.pages.items()},
            "tables": dg.MetadataValue.json(result.tables),
            "figures": dg.MetadataValue.json(result.figures),
            "seconds": dg.MetadataValue.json(result.seconds),
            "dagster/row_count": sum(result.tables.values()),
        }
    )


analytics_assets = [journey_analytics]

analytics_job = dg.define_asset_job(
    "journey_analytics",
    selection=dg.AssetSelection.assets(JOURNEY_ANALYTICS),
    description="Recompute journey analytics and the report from the warehouse.",
)

nightly_analytics_schedule = dg.ScheduleDefinition(
    name="nightly_journey_analytics",
    job=analytics_job,
    cron_schedule="0 6 * * *",
    execution_timezone="UTC",
    description="The report marketing ops read in the morning, from yesterday's data.",
)
