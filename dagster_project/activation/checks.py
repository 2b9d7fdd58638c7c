"""Deliveries' checks: dead letters warn (a channel is down or a message cannot be sent), they do
not stop the pipeline; the rows wait in the outbox for someone to look."""

import dagster as dg

from ..resources import WAREHOUSE_POOL, WarehouseResource
from .assets import DELIVERIES
from .outbox import DEAD_LETTER_WINDOW, dead_letters


@dg.asset_check(
    asset=DELIVERIES,
    description="No delivery was dead-lettered (retries exhausted, or a failure that cannot be "
    f"retried) within {DEAD_LETTER_WINDOW.total_seconds() / 3600:g} h of the outbox's latest "
    "change. Warns; the reasons are in activation.outbox.last_error and activation.action_log.",
    pool=WAREHOUSE_POOL,
)
def no_recent_dead_letters(warehouse: WarehouseResource) -> dg.AssetCheckResult:
    with warehouse.connect(read_only=True) as conn:
        found = dead_letters(conn)
    return dg.AssetCheckResult(
        passed=found.recent == 0,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={
            "recent_dead_letters": found.recent,
            "dead_letters_in_outbox": found.total,
            "recent_by_channel": dg.MetadataValue.json(found.by_channel),
            "decision_ids": dg.MetadataValue.json(found.decision_ids),
        },
    )


activation_checks = [no_recent_dead_letters]
