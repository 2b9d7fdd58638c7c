"""Dagster wiring for activation: queue the decided actions and deliver what is due, once each."""

from datetime import UTC, datetime, timedelta

import dagster as dg

from ..decisioning.assets import NEXT_BEST_ACTIONS
from ..decisioning.config import CHANNELS_FILE, ConfigError
from ..resources import (
    WAREHOUSE_POOL,
    MarketingConfigResource,
    WarehouseResource,
    invalid_config,
)
from ..settings import MARKETING_OPS
from ..warehouse import table_exists
from .dispatcher import DISPATCH_LIMIT, build_adapters, dispatch, dispatch_through
from .outbox import RetryPolicy
from .pending import write_pending
from .personalisation import export_snapshot

GROUP = "activation"
DELIVERIES = dg.AssetKey(["activation", "deliveries"])


class DispatchConfig(dg.Config):
    # Deliver what is due at this UTC instant (ISO); unset: now.
    dispatch_at: str | None = None
    # A replayed or simulated world: the clock is the latest decision's, not the wall clock.
    use_decision_clock: bool = False
    # A simulated world: also deliver what falls due in the next this many hours, each at the
    # instant it does, as the due-actions sensor would (0: only what is due now).
    simulate_hours: float = 0.0
    max_attempts: int = RetryPolicy.max_attempts
    first_retry_delay_s: float = RetryPolicy.first_delay_s
    batch_size: int = DISPATCH_LIMIT


def _instant(configured: str | None) -> datetime:
    if not configured:
        return datetime.now(UTC)
    instant = datetime.fromisoformat(configured)
    return instant if instant.tzinfo else instant.replace(tzinfo=UTC)


@dg.asset(
    key=DELIVERIES,
    group_name=GROUP,
    pool=WAREHOUSE_POOL,
    kinds={"python", "duckdb"},
    owners=[MARKETING_OPS],
    deps=[NEXT_BEST_ACTIONS],
    description="The outbox (activation.outbox) and its log (activation.action_log): new "
    "decisions queued, due ones delivered through their channel adapters with the decision_id "
    "as idempotency key, failures retried with back-off and then dead-lettered.",
)
def deliveries(
    context: dg.AssetExecutionContext,
    config: DispatchConfig,
    warehouse: WarehouseResource,
    marketing_config: MarketingConfigResource,
) -> dg.MaterializeResult:
    # Config is checked, and every adapter built, before any outbox row is claimed.
    marketing = marketing_config.load("nothing was sent")
    try:
        adapters = build_adapters(
            marketing.channels,
            warehouse.paths.root / "outbox",
            marketing_config.folder / CHANNELS_FILE,
        )
    except ConfigError as error:
        raise invalid_config(error, "nothing was sent") from error
    now = _instant(config.dispatch_at)
    if config.use_decision_clock:
        with warehouse.connect(read_only=True) as conn:
            latest = conn.execute(
                "SELECT max(decided_at) FROM decisioning.next_best_actions"
            ).fetchone()[0]
        now = latest.replace(tzinfo=UTC) if latest else now
    retry = RetryPolicy(max_attempts=config.max_attempts, first_delay_s=config.first_retry_delay_s)
    with warehouse.connect() as conn:
        if config.simulate_hours > 0:
            until = now + timedelta(hours=config.simulate_hours)
            report = dispatch_through(
                conn, adapters, now, until, context.run.run_id, retry, config.batch_size
            )
        else:
            report = dispatch(conn, adapters, now, context.run.run_id, retry, config.batch_size)
        pending = write_pending(conn, warehouse.paths.root)
        personalised = (
            export_snapshot(conn, warehouse.paths.root)
            if table_exists(conn, "activation.web_personalisation")
            else 0
        )
        totals = dict(
            conn.execute(
                "SELECT state, count(*) FROM activation.outbox GROUP BY 1 ORDER BY 1"
            ).fetchall()
        )
    return dg.MaterializeResult(
        metadata={
            "dispatched_at": now.isoformat(),
            "queued_now": report.queued,
            "attempted": report.attempted,
            "outcomes": dg.MetadataValue.json(report.states),
            "outbox_states": dg.MetadataValue.json(totals),
            "pending": pending.count,
            "customers_with_a_web_offer": personalised,
            "next_due": pending.next_due.isoformat() if pending.next_due else "none",
        }
    )


activation_assets = [deliveries]

dispatch_job = dg.define_asset_job(
    "dispatch_actions",
    selection=dg.AssetSelection.assets(DELIVERIES),
    description="Queue new decisions and deliver every due action (a micro-batch).",
)
