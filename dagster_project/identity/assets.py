"""Dagster wiring for identity resolution: records -> trained model -> stable customer keys."""

from collections.abc import Iterator

import dagster as dg

from ..demo.evaluation import identity_accuracy, identity_accuracy_by_source_pair
from ..ingest.assets import asset_key
from ..ingest.contracts import (
    CONTACT_CENTRE_CALLS,
    CRM_CUSTOMERS,
    EMAIL_EVENTS,
    OUTCOMES_APPLICATIONS,
    WEB_EVENTS,
)
from ..resources import WAREHOUSE_POOL, WarehouseResource
from ..settings import DATA_ENGINEERING
from .charts import save_cluster_studio, save_model_charts
from .linkage import DEFAULT_CONFIG, LinkageConfig, Timer, splink_tables_dropped
from .normalise import DEFAULT_PHONE_REGION
from .person_records import build_person_records
from .stage import (
    LINKABLE_TABLE,
    PREDICTIONS_TABLE,
    latest_model,
    link_new_identities,
    resolve_identities,
    train_identity_model,
)

GROUP = "identity"
PERSON_RECORDS = dg.AssetKey(["identity", "person_records"])
SPLINK_MODEL = dg.AssetKey(["identity", "splink_model"])
CUSTOMER_KEYS = dg.AssetKey(["identity", "customer_keys"])
KEY_HISTORY = dg.AssetKey(["identity", "customer_key_history"])


class IdentitySettings(dg.Config):
    phone_region: str = DEFAULT_PHONE_REGION
    match_threshold: float = DEFAULT_CONFIG.match_threshold
    u_max_pairs: float = DEFAULT_CONFIG.u_max_pairs
    seed: int = DEFAULT_CONFIG.seed
    f1_floor: float = 0.97  # the identity_accuracy check's floor where truth exists
    incremental: bool = False  # link only records without a key; a full run reconciles

    def resolver(self) -> LinkageConfig:
        return LinkageConfig(
            match_threshold=self.match_threshold, u_max_pairs=self.u_max_pairs, seed=self.seed
        )


@dg.asset(
    key=PERSON_RECORDS,
    group_name=GROUP,
    pool=WAREHOUSE_POOL,
    kinds={"duckdb"},
    owners=[DATA_ENGINEERING],
    deps=[
        asset_key(c)
        for c in (
            CRM_CUSTOMERS,
            CONTACT_CENTRE_CALLS,
            OUTCOMES_APPLICATIONS,
            EMAIL_EVENTS,
            WEB_EVENTS,
        )
    ],
    description="Every person-bearing record of every source, identity fields normalised "
    "(names, nicknames, E.164 phones, dates of birth, addresses), plus device logins.",
)
def person_records(config: IdentitySettings, warehouse: WarehouseResource) -> dg.MaterializeResult:
    with warehouse.connect() as conn:
        total = build_person_records(conn, config.phone_region)
        by_source = dict(
            conn.execute(
                "SELECT source_table, count(*) FROM identity.person_records GROUP BY ALL ORDER BY 1"
            ).fetchall()
        )
        devices = conn.execute(
            "SELECT count(DISTINCT anonymous_id) FROM identity.device_logins"
        ).fetchone()[0]
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": total,
            "records_by_source": dg.MetadataValue.json(by_source),
            "devices_with_logins": devices,
        }
    )


@dg.asset(
    key=SPLINK_MODEL,
    group_name=GROUP,
    pool=WAREHOUSE_POOL,
    kinds={"splink"},
    owners=[DATA_ENGINEERING],
    deps=[PERSON_RECORDS],
    description="Splink model trained so that a household cannot pass for one person: u by "
    "random sampling, m from near-certain labelled pairs and from EM sessions blocked on "
    "person-level evidence (kept only where more alike means more likely the same person), "
    "the prior from the data; saved as a versioned JSON file with a manifest of every decision.",
)
def splink_model(config: IdentitySettings, warehouse: WarehouseResource) -> dg.MaterializeResult:
    timer = Timer()
    with warehouse.connect() as conn, splink_tables_dropped(conn):
        version = train_identity_model(conn, warehouse.paths, config.resolver(), timer=timer)
        charts = save_model_charts(
            conn, LINKABLE_TABLE, version.model, version.path.parent / version.version
        )
    return dg.MaterializeResult(
        metadata={
            "model_version": version.version,
            "model_path": dg.MetadataValue.path(str(version.path)),
            **{f"chart_{name}": dg.MetadataValue.path(str(p)) for name, p in charts.items()},
            "timings_s": dg.MetadataValue.json(timer.timings),
            # What training decided: labelled pairs, each EM session's fate, where each
            # comparison's m came from, the prior and how it was estimated, every repair.
            "training": dg.MetadataValue.json(version.notes),
            "training_decisions": dg.MetadataValue.md(
                "\n".join(f"- {d}" for d in version.notes.get("decisions", [])) or "none"
            ),
            "prior": version.notes.get("prior", 0.0),
        }
    )


@dg.multi_asset(
    name="identity__customer_keys",
    specs=[
        dg.AssetSpec(
            CUSTOMER_KEYS,
            group_name=GROUP,
            kinds={"splink", "duckdb"},
            owners=[DATA_ENGINEERING],
            deps=[SPLINK_MODEL, PERSON_RECORDS],
            description="One stable customer_key per person-bearing record and per device "
            "(identity.customer_keys).",
        ),
        dg.AssetSpec(
            KEY_HISTORY,
            group_name=GROUP,
            kinds={"duckdb"},
            owners=[DATA_ENGINEERING],
            deps=[SPLINK_MODEL, PERSON_RECORDS],
            description="Every key event (created, merged, split, retired) of every identity "
            "run, appended (identity.customer_key_history).",
        ),
    ],
    pool=WAREHOUSE_POOL,
    check_specs=[
        dg.AssetCheckSpec(
            "identity_accuracy",
            asset=CUSTOMER_KEYS,
            description="Pairwise F1 against the demo world's truth stays above the floor.",
        )
    ],
)
def customer_keys(
    context: dg.AssetExecutionContext, config: IdentitySettings, warehouse: WarehouseResource
) -> Iterator[dg.MaterializeResult | dg.AssetCheckResult]:
    paths = warehouse.paths
    model = latest_model(paths)
    with warehouse.connect() as conn, splink_tables_dropped(conn):
        resolve = link_new_identities if config.incremental else resolve_identities
        run = resolve(conn, model, context.run.run_id, config.resolver())
        studio = save_cluster_studio(
            conn,
            LINKABLE_TABLE,
            model.model,
            PREDICTIONS_TABLE,
            "SELECT record_id, customer_key AS cluster_id FROM identity.customer_keys "
            f"WHERE record_id IN (SELECT record_id FROM {LINKABLE_TABLE})",
            paths.root / "identity" / "diagnostics" / "cluster_studio.html",
        )
        evaluation = identity_accuracy(conn, paths.truth)
        by_pair = identity_accuracy_by_source_pair(conn, paths.truth)
    metadata = {
        "dagster/row_count": run.records + run.devices,
        "model_version": model.version,
        "mode": "incremental" if config.incremental else "full",
        "customers": run.customers,
        "records": run.records,
        "devices": run.devices,
        "comparisons": run.comparisons,
        "splink_matched_pairs": run.matched_pairs,
        "deterministic_links": run.deterministic_edges,
        "shared_emails_refused": run.shared_emails,
        "shared_devices": run.shared_devices,
        "key_events": dg.MetadataValue.json(run.key_events),
        "timings_s": dg.MetadataValue.json(run.timings),
        "cluster_studio": dg.MetadataValue.path(str(studio)),
    }
    if evaluation is not None:
        overall, per_source = evaluation
        metadata |= {
            "pair_precision": overall.pair_precision,
            "pair_recall": overall.pair_recall,
            "pair_f1": overall.pair_f1,
            "cluster_f1": overall.cluster_f1,
            "accuracy": dg.MetadataValue.json(overall.as_dict()),
            "pair_f1_within_source": dg.MetadataValue.json(
                {s: round(a.pair_f1, 4) for s, a in per_source.items()}
            ),
            # Precision, recall and F1 of the pairs across each two sources, and cluster F1.
            "accuracy_by_source_pair": dg.MetadataValue.json(
                {
                    pair: {
                        "pair_precision": round(a.pair_precision, 4),
                        "pair_recall": round(a.pair_recall, 4),
                        "pair_f1": round(a.pair_f1, 4),
                        "cluster_f1": round(a.cluster_f1, 4),
                        "true_pairs": a.true_pairs,
                    }
                    for pair, a in (by_pair or {}).items()
                }
            ),
        }
    yield dg.MaterializeResult(asset_key=CUSTOMER_KEYS, metadata=metadata)
    yield dg.MaterializeResult(
        asset_key=KEY_HISTORY, metadata={"key_events": dg.MetadataValue.json(run.key_events)}
    )
    if evaluation is None:
        yield dg.AssetCheckResult(
            check_name="identity_accuracy",
            passed=True,
            metadata={"note": "no ground truth in this data directory; nothing to measure"},
        )
    else:
        yield dg.AssetCheckResult(
            check_name="identity_accuracy",
            passed=evaluation[0].pair_f1 >= config.f1_floor,
            metadata={"pair_f1": evaluation[0].pair_f1, "floor": config.f1_floor},
        )


identity_assets = [person_records, splink_model, customer_keys]

identity_job = dg.define_asset_job(
    "resolve_identities",
    selection=dg.AssetSelection.groups(GROUP),
    description="Rebuild person records, retrain the Splink model and re-key everyone.",
)

nightly_identity_schedule = dg.ScheduleDefinition(
    name="nightly_identity_reconcile",
    job=identity_job,
    cron_schedule="0 3 * * *",
    execution_timezone="UTC",
    description="Full identity run that reconciles what micro-batches linked incrementally.",
)
