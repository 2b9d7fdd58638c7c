"""The pipeline's identity stage: person records -> stable customer keys, in plain Python.

Training and resolving are separate steps (and separate Dagster assets): the model is a versioned
JSON file under ``<data dir>/identity/models``; resolving uses the newest one.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pandas as pd
import splink

from ..settings import DataPaths
from ..warehouse import table_exists, transaction
from .customer_keys import assign_customer_keys
from .graph import components
from .linkage import (
    DEFAULT_CONFIG,
    LinkageConfig,
    Timer,
    predict_clusters,
    predict_new_edges,
    train_model,
)
from .normalise import NORMALISED_COLUMNS
from .person_records import LINKED_SOURCES
from .stitching import DEVICE_PREFIX, attach_devices, deterministic_edges

LINKABLE_TABLE = "identity.linkable_records"
PREDICTIONS_TABLE = "identity.splink_predictions"
# The linkable records as they were when last keyed: an incremental run re-scores what changed.
LINKED_TABLE = "identity.linked_records"


@dataclass(frozen=True)
class ModelVersion:
    version: str
    path: Path
    model: dict
    notes: dict = field(default_factory=dict)  # what training decided (TrainingNotes)


@dataclass
class IdentityRun:
    records: int
    devices: int
    customers: int
    comparisons: int
    matched_pairs: int
    deterministic_edges: int
    shared_emails: int
    shared_devices: int
    key_events: dict[str, int]
    timings: dict[str, float] = field(default_factory=dict)
    new_records: int | None = None  # set by an incremental run


def models_dir(paths: DataPaths) -> Path:
    return paths.root / "identity" / "models"


def build_linkable_table(conn: duckdb.DuckDBPyConnection) -> int:
    sources = ", ".join(f"'{s}'" for s in LINKED_SOURCES)
    conn.execute(
        f"CREATE OR REPLACE TABLE {LINKABLE_TABLE} AS SELECT {', '.join(NORMALISED_COLUMNS)} "
        f"FROM identity.person_records WHERE source_table IN ({sources})"
    )
    return conn.execute(f"SELECT count(*) FROM {LINKABLE_TABLE}").fetchone()[0]


def train_identity_model(
    conn: duckdb.DuckDBPyConnection,
    paths: DataPaths,
    config: LinkageConfig = DEFAULT_CONFIG,
    trained_at: datetime | None = None,
    timer: Timer | None = None,
) -> ModelVersion:
    """Train on the linkable records and save the model as a new version."""
    build_linkable_table(conn)
    model, notes = train_model(conn, LINKABLE_TABLE, config, timer or Timer())
    text = json.dumps(model, indent=2, sort_keys=True)
    digest = hashlib.sha256(text.encode()).hexdigest()
    stamp = (trained_at or datetime.now(UTC)).strftime("%Y%m%dT%H%M%SZ")
    version = f"{stamp}-{digest[:8]}"
    folder = models_dir(paths)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"splink_model_{version}.json"
    path.write_text(text)
    # The model file must stay loadable by Splink, so provenance goes in a manifest beside it.
    manifest = {
        "version": version,
        "sha256": digest,
        "splink_version": splink.__version__,
        "duckdb_version": duckdb.__version__,
        "config": config.__dict__,
        "training": notes.as_dict(),
    }
    path.with_suffix(".manifest.json").write_text(json.dumps(manifest, indent=2))
    return ModelVersion(version, path, model, notes.as_dict())


def latest_model(paths: DataPaths) -> ModelVersion:
    candidates = sorted(
        p for p in models_dir(paths).glob("splink_model_*.json") if ".manifest" not in p.name
    )
    if not candidates:
        raise FileNotFoundError(
            f"no trained identity model in {models_dir(paths)}: materialize identity/splink_model"
        )
    path = candidates[-1]
    return ModelVersion(path.stem.removeprefix("splink_model_"), path, json.loads(path.read_text()))


def _previous_keys(conn: duckdb.DuckDBPyConnection) -> tuple[pd.DataFrame, set[str]]:
    if not table_exists(conn, "identity.customer_keys"):
        empty = pd.DataFrame(
            {"record_id": pd.Series(dtype=str), "customer_key": pd.Series(dtype=str)}
        )
        return empty, set()
    previous = conn.execute("SELECT record_id, customer_key FROM identity.customer_keys").df()
    issued = {
        r[0]
        for r in conn.execute(
            "SELECT customer_key FROM identity.customer_key_history "
            "UNION SELECT customer_key FROM identity.customer_keys"
        ).fetchall()
    }
    return previous, issued


def resolve_identities(
    conn: duckdb.DuckDBPyConnection,
    model: ModelVersion,
    run_id: str,
    config: LinkageConfig = DEFAULT_CONFIG,
    resolved_at: datetime | None = None,
) -> IdentityRun:
    """Link, cluster, attach devices, and carry customer keys over from the previous run."""
    timer = Timer()
    build_linkable_table(conn)
    with timer.phase("deterministic links"):
        edges, shared_emails = deterministic_edges(conn)
    resolution = predict_clusters(
        conn,
        LINKABLE_TABLE,
        model.model,
        config,
        extra_edges=edges,
        timer=timer,
        keep_predictions_as=PREDICTIONS_TABLE,
        nodes=conn.execute("SELECT record_id FROM identity.person_records").df()["record_id"],
    )
    return _key_and_write(
        conn,
        resolution.clusters,
        run_id,
        resolved_at,
        timer,
        comparisons=resolution.comparisons,
        matched_pairs=resolution.matched_pairs,
        deterministic=len(edges),
        shared_emails=shared_emails,
    )


def link_new_identities(
    conn: duckdb.DuckDBPyConnection,
    model: ModelVersion,
    run_id: str,
    config: LinkageConfig = DEFAULT_CONFIG,
    resolved_at: datetime | None = None,
) -> IdentityRun:
    """Link only the records that have no key yet against the existing clusters.

    New records are scored against existing ones and among themselves (Splink's
    ``predict_between`` / ``predict_within``); existing clusters are taken as they are, so a
    micro-batch costs what it adds, not a whole dedupe. A record whose fields changed since it
    was keyed (a new surname, a move) is scored again like a new one, so it can join whom it
    now matches; that it no longer matches its old cluster is left to the next full run, which
    reconciles everything.
    """
    previous, _ = _previous_keys(conn)
    if previous.empty:
        return resolve_identities(conn, model, run_id, config, resolved_at)
    timer = Timer()
    build_linkable_table(conn)
    unchanged = (
        f"SELECT * FROM {LINKABLE_TABLE} INTERSECT SELECT * FROM {LINKED_TABLE}"
        if table_exists(conn, LINKED_TABLE)
        else f"SELECT * FROM {LINKABLE_TABLE}"
    )
    conn.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE _known AS SELECT record_id, customer_key
        FROM identity.customer_keys WHERE source_table <> '{DEVICE_PREFIX.rstrip(":")}';
        CREATE OR REPLACE TEMP TABLE _old_linkable AS SELECT * FROM ({unchanged})
        WHERE record_id IN (SELECT record_id FROM _known);
        CREATE OR REPLACE TEMP TABLE _new_linkable AS SELECT * FROM {LINKABLE_TABLE}
        WHERE record_id NOT IN (SELECT record_id FROM _old_linkable);
        """
    )
    new_ids = set(
        conn.execute(
            "SELECT record_id FROM identity.person_records "
            "WHERE record_id NOT IN (SELECT record_id FROM _old_linkable)"
        ).df()["record_id"]
    )
    with timer.phase("deterministic links"):
        edges, shared_emails = deterministic_edges(conn)
        edges = edges[edges["left"].isin(new_ids) | edges["right"].isin(new_ids)]
    predicted = predict_new_edges(
        conn,
        "_old_linkable",
        "_new_linkable",
        model.model,
        config,
        timer,
        earlier_predictions=PREDICTIONS_TABLE if table_exists(conn, PREDICTIONS_TABLE) else None,
    )
    with timer.phase("cluster"):
        known = conn.execute("SELECT record_id, customer_key FROM _known").df()
        # Existing clusters enter the graph whole: each keyed record hangs off its key.
        key_edges = pd.DataFrame(
            {"left": known["record_id"], "right": "key:" + known["customer_key"]}
        )
        nodes = conn.execute("SELECT record_id FROM identity.person_records").df()["record_id"]
        graph_nodes = pd.concat([nodes, key_edges["right"].drop_duplicates()])
        clusters = components(
            graph_nodes, pd.concat([key_edges, edges, predicted], ignore_index=True)
        )
        clusters = clusters[~clusters["record_id"].str.startswith("key:")]
    return _key_and_write(
        conn,
        clusters,
        run_id,
        resolved_at,
        timer,
        comparisons=0,
        matched_pairs=len(predicted),
        new_records=len(new_ids),
        deterministic=len(edges),
        shared_emails=shared_emails,
    )


def _key_and_write(
    conn: duckdb.DuckDBPyConnection,
    clusters: pd.DataFrame,
    run_id: str,
    resolved_at: datetime | None,
    timer: Timer,
    *,
    comparisons: int,
    matched_pairs: int,
    deterministic: int,
    shared_emails: int,
    new_records: int | None = None,
) -> IdentityRun:
    """Attach devices, carry keys over from the previous run, and write the key tables."""
    with timer.phase("attach devices"):
        devices = attach_devices(conn, clusters)
        every = pd.concat([clusters, devices[["record_id", "cluster_id"]]], ignore_index=True)
    with timer.phase("stable keys"):
        previous, issued = _previous_keys(conn)
        assignment = assign_customer_keys(every, previous, issued)
        _write_keys(conn, assignment, devices, run_id, resolved_at or datetime.now(UTC))
    events = assignment.history["event"].value_counts().to_dict()
    return IdentityRun(
        records=len(clusters),
        devices=len(devices),
        customers=assignment.keys["customer_key"].nunique(),
        comparisons=comparisons,
        matched_pairs=matched_pairs,
        deterministic_edges=deterministic,
        shared_emails=shared_emails,
        shared_devices=int(devices["shared_device"].sum()),
        key_events={k: int(v) for k, v in events.items()},
        timings=timer.timings,
        new_records=new_records,
    )


def _write_keys(
    conn: duckdb.DuckDBPyConnection,
    assignment,
    devices: pd.DataFrame,
    run_id: str,
    resolved_at: datetime,
) -> None:
    conn.register("_keys", assignment.keys)
    conn.register("_devices", devices[["record_id", "shared_device"]])
    conn.register("_history", assignment.history)
    at = resolved_at.astimezone(UTC).replace(tzinfo=None)
    try:
        with transaction(conn):
            conn.execute(
                """
                CREATE OR REPLACE TABLE identity.customer_keys AS
                SELECT k.record_id,
                    split_part(k.record_id, ':', 1) AS source_table,
                    substr(k.record_id, strpos(k.record_id, ':') + 1) AS source_id,
                    k.customer_key,
                    coalesce(d.shared_device, false) AS shared_device,
                    CAST(? AS VARCHAR) AS run_id,
                    CAST(? AS TIMESTAMP) AS resolved_at
                FROM _keys AS k LEFT JOIN _devices AS d USING (record_id)
                WHERE k.record_id NOT LIKE 'login:%'
                ORDER BY k.customer_key, k.record_id
                """,
                [run_id, at],
            )
            conn.execute(f"CREATE OR REPLACE TABLE {LINKED_TABLE} AS FROM {LINKABLE_TABLE}")
            conn.execute(
                """
                CREATE TABLE IF NOT EXISTS identity.customer_key_history (
                    customer_key VARCHAR, event VARCHAR, related_key VARCHAR, records BIGINT,
                    run_id VARCHAR, recorded_at TIMESTAMP)
                """
            )
            conn.execute(
                "INSERT INTO identity.customer_key_history "
                "SELECT customer_key, event, related_key, records, ?, ? FROM _history",
                [run_id, at],
            )
    finally:
        for name in ("_keys", "_devices", "_history"):
            conn.unregister(name)
