"""Great Expectations suites as Dagster asset checks; blocking ones stop what is downstream."""

import dagster as dg

from ..resources import WAREHOUSE_POOL, WarehouseResource
from .expectations import Suite, suites
from .gx_validation import validate_suite


def build_gx_check(suite: Suite) -> dg.AssetChecksDefinition:
    @dg.asset_check(
        asset=dg.AssetKey(list(suite.asset_key)),
        name=f"gx_{suite.name}",
        description=f"Great Expectations: {suite.description}",
        blocking=suite.blocking,
        pool=WAREHOUSE_POOL,
    )
    def _check(warehouse: WarehouseResource) -> dg.AssetCheckResult:
        with warehouse.connect(read_only=True) as conn:
            result = validate_suite(conn, suite, warehouse.paths.root / "quality")
        failures = "\n".join(
            f"- {f['expectation']} {f['kwargs']}: {f['unexpected_count']} unexpected"
            for f in result.failed
        )
        return dg.AssetCheckResult(
            passed=result.success,
            severity=dg.AssetCheckSeverity.ERROR if suite.blocking else dg.AssetCheckSeverity.WARN,
            metadata={
                "rows_validated": result.rows,
                "expectations": result.evaluated,
                "failed_expectations": len(result.failed),
                "failures": dg.MetadataValue.md(failures or "none"),
                "validation_result": dg.MetadataValue.path(str(result.result_path)),
            },
        )

    return _check


gx_checks = [build_gx_check(s) for s in suites()]
