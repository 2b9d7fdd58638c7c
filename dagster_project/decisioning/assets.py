"""Dagster wiring for decisioning: marketing's config + the champions' scores -> today's plan."""

from datetime import UTC, datetime

import dagster as dg

from ..activation.outbox import enqueue
from ..activation.pending import write_pending
from ..resources import WAREHOUSE_POOL, WarehouseResource
from ..settings import config_dir
from .arbitration import decide
from .config import ConfigError, MarketingConfig, load_marketing_config
from .inputs import load_decision_inputs
from .reasons import fill_reason_codes
from .store import ACTIONS_TABLE, store_decisions

GROUP = "decisioning"
NEXT_BEST_ACTIONS = dg.AssetKey(["decisioning", "next_best_actions"])


class DecisionConfig(dg.Config):
    # The decision instant (UTC, ISO). Unset: the data's own clock, just after the latest
    # interaction the features saw, so a replayed or simulated day decides deterministically.
    decide_at: str | None = None
    config_dir: str | None = None  # marketing's YAML; unset: JOURNEY_CONFIG_DIR or config/


def marketing_config_or_failure(folder: str | None, consequence: str) -> MarketingConfig:
    """The validated config, or a Dagster failure whose message lists every problem."""
    try:
        return load_marketing_config(config_dir(folder))
    except ConfigError as error:
        raise dg.Failure(
            description=f"Invalid marketing config; {consequence}.\n{error}"
        ) from error


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
    deps=[
        dg.AssetKey(["ml", "customer_scores"]),
        dg.AssetKey(["marts", "customer_contactability"]),
        dg.AssetKey(["marts", "customer_journey_stages"]),
        dg.AssetKey(["marts", "dim_customer"]),
    ],
    description=f"One coordinated plan (or nothing) per customer in {ACTIONS_TABLE}: the best "
    "permitted contact, the web offer, advisor tasks, the control group, with scores, reason "
    "codes, model versions and the policy hash; exported as Parquet and CSV.",
)
def next_best_actions(
    context: dg.AssetExecutionContext, config: DecisionConfig, warehouse: WarehouseResource
) -> dg.MaterializeResult:
    marketing = marketing_config_or_failure(
        config.config_dir, "nothing was decided and earlier decisions are unchanged"
    )
    with warehouse.connect() as conn:
        now = _decision_instant(conn, config.decide_at)
        inputs = load_decision_inputs(conn, now)
        try:
            plan = decide(inputs, marketing)
        except ConfigError as error:  # e.g. a rule names a column that does not exist
            raise dg.Failure(
                description=f"Invalid marketing config; nothing was decided.\n{error}"
            ) from error
        explained = fill_reason_codes(plan, inputs.customers, warehouse.paths.root)
        stored = store_decisions(
            conn, plan, context.run.run_id, warehouse.paths.root / "exports" / "next_best_actions"
        )
        # Deliverable decisions go straight into the outbox; the due-actions sensor sees them.
        queued = enqueue(conn, now, context.run.run_id)
        pending = write_pending(conn, warehouse.paths.root)
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": len(plan),
            "decided_at": now.isoformat(),
            "policy_hash": marketing.policy_hash,
            "reason_codes": explained,
            "actions": dg.MetadataValue.json(stored.by_action),
            "new_decisions": stored.new,
            "already_decided": stored.already_decided,
            "customers": int(plan["customer_key"].nunique()),
            "exports": dg.MetadataValue.json([str(p) for p in stored.exports]),
            "models": dg.MetadataValue.json(inputs.model_versions),
            "queued_for_delivery": queued,
            "pending_deliveries": pending.count,
        }
    )


decisioning_assets = [next_best_actions]
