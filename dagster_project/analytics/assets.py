"""Dagster wiring for journey analytics: one asset, its job and a nightly schedule."""

import dagster as dg

from ..activation.assets import DELIVERIES
from ..decisioning.assets import NEXT_BEST_ACTIONS
from ..pipeline.automation import schedule_status
from ..resources import WAREHOUSE_POOL, WarehouseResource
from ..settings import MARKETING_OPS

GROUP = "analytics"
JOURNEY_ANALYTICS = dg.AssetKey(["analytics", "journey_analytics"])
CONSOLE = dg.AssetKey(["analytics", "console"])


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


@dg.asset(
    key=CONSOLE,
    group_name=GROUP,
    pool=WAREHOUSE_POOL,  # a read-only connection still needs the file to itself
    kinds={"duckdb", "html"},
    owners=[MARKETING_OPS],
    deps=[NEXT_BEST_ACTIONS, DELIVERIES, JOURNEY_ANALYTICS],
    description="The console for marketing ops: static pages of the newest decision date's "
    "plan with why in words, what was held back by which rule, deliveries and failures, "
    "campaign results against the control group, and journeys and funnels, under "
    "<data dir>/console/ (served by `journey console`).",
)
def console(warehouse: WarehouseResource) -> dg.MaterializeResult:
    from datetime import UTC, datetime

    from ..console.site import build_console

    with warehouse.connect(read_only=True) as conn:
        site = build_console(conn, warehouse.paths.root, datetime.now(UTC))
    return dg.MaterializeResult(
        metadata={
            "index": dg.MetadataValue.path(str(site.folder / "index.html")),
            "decision_date": site.decision_date or "",
            "rows": dg.MetadataValue.json(site.rows),
            "open_with": "journey console",
        }
    )


analytics_assets = [journey_analytics, console]

analytics_job = dg.define_asset_job(
    "journey_analytics",
    selection=dg.AssetSelection.assets(JOURNEY_ANALYTICS, CONSOLE),
    description="Recompute journey analytics, the report and the console from the warehouse.",
)

nightly_analytics_schedule = dg.ScheduleDefinition(
    name="nightly_journey_analytics",
    job=analytics_job,
    cron_schedule="0 6 * * *",
    execution_timezone="UTC",
    description="The report marketing ops read in the morning, from yesterday's data.",
    default_status=schedule_status(),
)
