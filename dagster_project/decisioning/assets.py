"""Dagster wiring for decisioning: marketing's config + the champions' scores -> today's plan."""

from datetime import UTC, datetime, timedelta

import dagster as dg

from ..resources import (
    WAREHOUSE_POOL,
    MarketingConfigResource,
    WarehouseResource,
    invalid_config,
)
from ..serving.decision_log import ingest_decision_log
from ..serving.snapshot import publish_after_decisions
from ..settings import DELIVERABLE_ACTIONS, MARKETING_OPS, ML
from .arbitration import decide_with_evidence
from .config import ConfigError
from .explanations import explain_plan
from .inputs import load_decision_inputs
from .reasons import fill_reason_codes
from .store import ACTIONS_TABLE, log_contexts, store_decisions

GROUP = "decisioning"
NEXT_BEST_ACTIONS = dg.AssetKey(["decisioning", "next_best_actions"])
# Marketing reads today's plan every morning: decided at least daily (warn at a day, fail two
# hours later, when the nightly run has clearly not happened).
DECISIONS_FRESHNESS = dg.FreshnessPolicy.time_window(
    fail_window=timedelta(hours=26), warn_window=timedelta(hours=24)
)


class DecisionConfig(dg.Config):
    # The decision instant (UTC, ISO). Unset: the data's own clock, just after the latest
    # interaction the features saw, so a replayed or simulated day decides deterministically.
    decide_at: str | None = None


def _decision_instant(conn, configured: str | None) -> datetime:
    if configured:
        instant = datetime.fromisoformat(configured)
        return instant if instant.tzinfo else instant.replace(tzinfo=UTC)
    as_of = conn.execute("SELECT max(as_of) FROM marts.customer_features").fetchone()[0]
    return (as_of or datetime.now(UTC).replace(tzinfo=None)).replace(tzinfo=UTC)


@dg.asset(
    key=NEXT_BEST_ACTIONS,
    group_name=GROUP,
    pool=WAREHOUSE_POOL,
    kinds={"duckdb", "python"},
    owners=[MARKETING_OPS],
    freshness_policy=DECISIONS_FRESHNESS,
    deps=[
        dg.AssetKey([ML, "customer_scores"]),
        dg.AssetKey(["marts", "customer_contactability"]),
        dg.AssetKey(["marts", "customer_journey_stages"]),
        dg.AssetKey(["marts", "dim_customer"]),
    ],
    description=f"One coordinated plan (or nothing) per customer in {ACTIONS_TABLE}: the best "
    "permitted contact, the web offer, advisor tasks, the control group, with scores, reason "
    "codes, model versions and the policy hash; exported as Parquet and CSV.",
)
def next_best_actions(
    context: dg.AssetExecutionContext,
    config: DecisionConfig,
    warehouse: WarehouseResource,
    marketing_config: MarketingConfigResource,
) -> dg.MaterializeResult:
    marketing = marketing_config.load("nothing was decided and earlier decisions are unchanged")
    with warehouse.connect() as conn:
        # What the real-time API decided since the last run joins the table first, so its
        # contacts are queued, delivered and counted against caps like the batch's own.
        from_api = ingest_decision_log(conn, warehouse.paths.root)
        now = _decision_instant(conn, config.decide_at)
        inputs = load_decision_inputs(conn, now, marketing.policy.default_time_zone)
        try:
            plan, learned = decide_with_evidence(inputs, marketing)
        except ConfigError as error:  # e.g. a rule names a column that does not exist
            raise invalid_config(error, "nothing was decided") from error
        explained = fill_reason_codes(plan, inputs.customers, warehouse.paths.root)
        explain_plan(plan, inputs.customers, marketing.policy.default_time_zone)
        stored = store_decisions(
            conn, plan, context.run.run_id, warehouse.paths.root / "exports" / "next_best_actions"
        )
        log_contexts(plan, inputs.customers, warehouse.paths.root, context.run.run_id)
        snapshot = publish_after_decisions(conn, warehouse.paths.root, inputs, learned, marketing)
        deliverable = int(plan["action"].isin(DELIVERABLE_ACTIONS).sum())
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": len(plan),
            "decided_at": now.isoformat(),
            "serving_snapshot": snapshot,
            "api_decisions_ingested": from_api.new,
            "policy_hash": marketing.policy_hash,
            "reason_codes": explained,
            "actions": dg.MetadataValue.json(stored.by_action),
            "new_decisions": stored.new,
            "already_decided": stored.already_decided,
            "customers": int(plan["customer_key"].nunique()),
            "exports": dg.MetadataValue.json([str(p) for p in stored.exports]),
            "models": dg.MetadataValue.json(inputs.model_versions),
            # What the contacts so far taught: each channel's engagement rate, and per product
            # and channel the clicks against what the plan expected (the calibration).
            "channel_engagement": dg.MetadataValue.json(
                {c: round(v, 4) for c, v in learned.population.items()}
            ),
            "response_calibration": dg.MetadataValue.json(learned.summary),
            # What activation will queue; the due-actions sensor launches it on this number.
            "deliverable": deliverable,
        }
    )


decisioning_assets = [next_best_actions]
