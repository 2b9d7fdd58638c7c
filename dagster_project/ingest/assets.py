"""Dagster wiring for ingestion: one asset per landing source, with quality checks."""

from collections.abc import Iterator

import dagster as dg

from ..resources import WAREHOUSE_POOL, WarehouseResource
from ..settings import DATA_ENGINEERING
from .contracts import CONTRACTS, SourceContract
from .loader import NOT_READ_STATUSES, LoadReport, load_source

GROUP = "ingest"
MAX_QUARANTINE_SHARE = 0.02


def asset_key(contract: SourceContract) -> dg.AssetKey:
    # Matches dagster-dbt's default key for a dbt source named "raw".
    return dg.AssetKey(["raw", contract.name])


def _column_schema(contract: SourceContract) -> dg.TableSchema:
    return dg.TableSchema(
        columns=[
            dg.TableColumn(
                f.name,
                f.type.value,
                description=f.description or None,
                constraints=dg.TableColumnConstraints(nullable=not f.required),
            )
            for f in contract.fields
        ]
    )


def _report_metadata(report: LoadReport, total_rows: int) -> dict[str, dg.MetadataValue | int]:
    statuses: dict[str, int] = {}
    for f in report.files:
        statuses[f.status] = statuses.get(f.status, 0) + 1
    problems = report.problems
    return {
        "dagster/row_count": total_rows,
        "load_id": dg.MetadataValue.text(report.load_id),
        "new_files": len(report.files),
        "files_loaded": report.files_loaded,
        "files_by_status": dg.MetadataValue.json(statuses),
        "rows_loaded": report.rows_loaded,
        "rows_quarantined": report.rows_quarantined,
        "file_problems": dg.MetadataValue.md(
            "\n".join(f"- {p}" for p in problems) if problems else "none"
        ),
    }


def build_ingest_asset(contract: SourceContract) -> dg.AssetsDefinition:
    key = asset_key(contract)
    checks = [
        dg.AssetCheckSpec(
            "quarantine_share",
            asset=key,
            description=f"At most {MAX_QUARANTINE_SHARE:.0%} of the rows of a load are quarantined.",
        ),
        dg.AssetCheckSpec(
            "files_readable",
            asset=key,
            description="Every new landing file could be read (none empty, unreadable, "
            "unsupported, hidden or refused).",
        ),
    ]

    @dg.asset(
        key=key,
        group_name=GROUP,
        pool=WAREHOUSE_POOL,
        kinds={"duckdb"},
        owners=[DATA_ENGINEERING],
        description=f"{contract.description} Loaded from landing/{contract.landing_subdir}/.",
        metadata={"dagster/column_schema": _column_schema(contract)},
        check_specs=checks,
    )
    def _ingest(
        context: dg.AssetExecutionContext, warehouse: WarehouseResource
    ) -> Iterator[dg.MaterializeResult | dg.AssetCheckResult]:
        with warehouse.connect() as conn:
            report = load_source(
                conn, contract, warehouse.paths.landing, load_id=context.run.run_id
            )
            total = conn.execute(f"SELECT count(*) FROM raw.{contract.name}").fetchone()[0]
        for problem in report.problems:
            context.log.warning(problem)
        yield dg.MaterializeResult(metadata=_report_metadata(report, total))

        read = report.rows_loaded + report.rows_quarantined
        share = report.rows_quarantined / read if read else 0.0
        yield dg.AssetCheckResult(
            check_name="quarantine_share",
            passed=share <= MAX_QUARANTINE_SHARE,
            severity=dg.AssetCheckSeverity.WARN,
            metadata={"quarantined_share": share, "rows_quarantined": report.rows_quarantined},
        )
        broken = [f.path for f in report.files if f.status in NOT_READ_STATUSES]
        yield dg.AssetCheckResult(
            check_name="files_readable",
            passed=not broken,
            severity=dg.AssetCheckSeverity.WARN,
            metadata={"broken_files": dg.MetadataValue.json(broken)},
        )

    return _ingest


ingest_assets = [build_ingest_asset(c) for c in CONTRACTS]

ingest_job = dg.define_asset_job(
    "ingest_landing_files",
    selection=dg.AssetSelection.groups(GROUP),
    # The sources take turns on the one warehouse writer: a process per step would only add
    # its start-up to each.
    executor_def=dg.in_process_executor,
    description="Load every new landing file of every source into the raw tables.",
)

nightly_ingest_schedule = dg.ScheduleDefinition(
    name="nightly_ingest",
    job=ingest_job,
    cron_schedule="0 2 * * *",
    execution_timezone="UTC",
    description="Safety net: sweep the landing folders nightly even if the sensor is off.",
)
