"""The plan's invariants as blocking asset checks: a contact without consent, or to the control
group, stops the run before activation queues anything."""

import dagster as dg

from ..resources import WAREHOUSE_POOL, WarehouseResource
from .assets import NEXT_BEST_ACTIONS
from .invariants import Violations, contacts_to_control_group, contacts_without_consent

SHOWN = 20  # decision ids listed in a failed check's metadata


def _result(violations: Violations) -> dg.AssetCheckResult:
    return dg.AssetCheckResult(
        passed=violations.count == 0,
        severity=dg.AssetCheckSeverity.ERROR,
        metadata={
            "contacts_checked": violations.contacts_checked,
            "violations": violations.count,
            "violations_by_channel": dg.MetadataValue.json(violations.by_channel),
            "decision_ids": dg.MetadataValue.json(violations.decision_ids[:SHOWN]),
        },
    )


@dg.asset_check(
    asset=NEXT_BEST_ACTIONS,
    description="No contact (email, sms, push) is decided for a customer on a channel they "
    "may not be contacted on (consent, suppression, reachability in "
    "marts.customer_contactability). Blocking: activation does not run.",
    blocking=True,
    pool=WAREHOUSE_POOL,
)
def contacts_have_consent(warehouse: WarehouseResource) -> dg.AssetCheckResult:
    with warehouse.connect(read_only=True) as conn:
        return _result(contacts_without_consent(conn))


@dg.asset_check(
    asset=NEXT_BEST_ACTIONS,
    description="No contact is decided for a customer in the global control group (their "
    "plan is held out as a control row). Blocking: activation does not run.",
    blocking=True,
    pool=WAREHOUSE_POOL,
)
def control_group_not_contacted(warehouse: WarehouseResource) -> dg.AssetCheckResult:
    with warehouse.connect(read_only=True) as conn:
        return _result(contacts_to_control_group(conn))


decisioning_checks = [contacts_have_consent, control_group_not_contacted]
