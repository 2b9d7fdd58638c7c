"""``journey resolve``: deduplicate any person file with the pipeline's resolver."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from ..ingest.readers import file_format
from ..warehouse import quote_identifier, quote_literal
from .accuracy import LinkageAccuracy, accuracy_by_source_pair, linkage_accuracy
from .linkage import DEFAULT_CONFIG, LinkageConfig, Timer, predict_clusters, train_model
from .model_report import LevelWeight, blocking_recall, level_weights
from .normalise import (
    DEFAULT_DATE_FORMATS,
    DEFAULT_PHONE_REGION,
    ROLES,
    distinct_phones,
    normalised_select,
    register_lookups,
)
from .training import TrainingNotes


@dataclass(frozen=True)
class ResolveReport:
    records: int
    clusters: int
    comparisons: int
    matched_pairs: int
    timings: dict[str, float]
    out: Path
    training: TrainingNotes = field(default_factory=TrainingNotes)
    levels: list[LevelWeight] = field(default_factory=list)
    accuracy: LinkageAccuracy | None = None  # with a truth column
    by_source_pair: dict[str, LinkageAccuracy] = field(default_factory=dict)  # and a source one
    blocking_recall: tuple[int, int] | None = None  # (true pairs compared, true pairs)
    warnings: list[str] = field(default_factory=list)


def parse_role_map(pairs: list[str]) -> dict[str, str]:
    """``ROLE=COLUMN`` pairs into a mapping, with errors that say what is wrong."""
    mapping: dict[str, str] = {}
    for pair in pairs:
        role, sep, column = pair.partition("=")
        if not sep or not role or not column:
            raise ValueError(f"--map {pair!r}: expected ROLE=COLUMN")
        if role not in ROLES:
            raise ValueError(f"--map {pair!r}: unknown role {role!r}; roles: {', '.join(ROLES)}")
        if role in mapping:
            raise ValueError(f"--map {pair!r}: role {role!r} given twice")
        mapping[role] = column
    return mapping


def _source(path: Path) -> str:
    fmt = file_format(path)
    quoted = quote_literal(str(path))
    if fmt == "csv":
        return f"read_csv({quoted}, all_varchar = true, header = true)"
    if fmt == "jsonl":
        return f"read_json({quoted}, format = 'newline_delimited')"
    if fmt == "parquet":
        return f"read_parquet({quoted})"
    raise ValueError(f"{path}: not a CSV, JSONL or Parquet file")


def resolve_file(
    path: Path,
    id_column: str,
    roles: dict[str, str],
    out: Path,
    date_formats: tuple[str, ...] = DEFAULT_DATE_FORMATS,
    phone_region: str = DEFAULT_PHONE_REGION,
    config: LinkageConfig = DEFAULT_CONFIG,
    truth_column: str | None = None,
    source_column: str | None = None,
) -> ResolveReport:
    """Train on the file, cluster it, write ``out``; with ``truth_column`` (the true entity of
    each record) also measure the clusters, per pair of sources with ``source_column``."""
    timer = Timer()
    conn = duckdb.connect()
    conn.execute("SET TimeZone = 'UTC'")
    with timer.phase("read and normalise"):
        columns = {r[0] for r in conn.execute(f"DESCRIBE SELECT * FROM {_source(path)}").fetchall()}
        extra = [c for c in (truth_column, source_column) if c]
        missing = sorted({id_column, *roles.values(), *extra} - columns)
        if missing:
            raise ValueError(f"{path}: no column {', '.join(missing)}; columns: {sorted(columns)}")
        selected = ", ".join(
            f"CAST({quote_identifier(column)} AS VARCHAR) AS {quote_identifier(role)}"
            for role, column in roles.items()
        )
        if truth_column:
            selected += f", CAST({quote_identifier(truth_column)} AS VARCHAR) AS _truth"
        if source_column:
            selected += f", CAST({quote_identifier(source_column)} AS VARCHAR) AS _source"
        conn.execute(
            f"CREATE TABLE person_input AS SELECT CAST({quote_identifier(id_column)} AS VARCHAR) "
            f"AS record_id, {selected} FROM {_source(path)}"
        )
        duplicated = conn.execute(
            "SELECT record_id, count(*) FROM person_input GROUP BY ALL HAVING count(*) > 1 LIMIT 3"
        ).fetchall()
        if duplicated:
            raise ValueError(f"{path}: --id {id_column} is not unique, e.g. {duplicated}")
        phones = distinct_phones(conn, "person_input") if "phone" in roles else []
        register_lookups(conn, phones, phone_region)
        conn.execute(
            "CREATE TABLE person_records AS "
            + normalised_select("person_input", roles, date_formats)
        )
        warnings = _check_roles(conn, path, roles, date_formats)
    model, notes = train_model(conn, "person_records", config, timer)
    resolution = predict_clusters(conn, "person_records", model, config, timer=timer)
    clusters = resolution.clusters
    clusters["cluster_size"] = clusters.groupby("cluster_id")["record_id"].transform("size")
    out.parent.mkdir(parents=True, exist_ok=True)
    conn.register("clusters", clusters)
    conn.execute(f"COPY clusters TO {quote_literal(str(out))} (FORMAT PARQUET)")
    accuracy, by_pair, recall = None, {}, None
    if truth_column:
        labels = conn.execute(
            "SELECT record_id, _truth AS truth_id, "
            f"{'_source' if source_column else 'NULL'} AS source FROM person_input"
        ).df()
        conn.register("_labels", labels)
        recall = blocking_recall(conn, "person_records", "_labels", model)
        conn.unregister("_labels")
        labels = labels.set_index("record_id")
        predicted = clusters.set_index("record_id")["cluster_id"]
        accuracy = linkage_accuracy(predicted, labels["truth_id"])
        if source_column:
            by_pair = accuracy_by_source_pair(predicted, labels["truth_id"], labels["source"])
    conn.close()
    warnings += [d for d in notes.decisions if "wrong way" in d or "default" in d]
    return ResolveReport(
        records=len(clusters),
        clusters=clusters["cluster_id"].nunique(),
        comparisons=resolution.comparisons,
        matched_pairs=resolution.matched_pairs,
        timings=timer.timings,
        out=out,
        training=notes,
        levels=level_weights(model),
        accuracy=accuracy,
        by_source_pair=by_pair,
        blocking_recall=recall,
        warnings=warnings,
    )


def _check_roles(
    conn: duckdb.DuckDBPyConnection,
    path: Path,
    roles: dict[str, str],
    date_formats: tuple[str, ...],
) -> list[str]:
    """Errors for a mapping that cannot work, warnings for one that mostly does not: a role whose
    values all normalise to nothing (dates in no known format, phones that are no numbers)."""
    warnings = []
    for role, column in roles.items():
        target = {"street_number": "address", "street": "address", "full_name": "first_name"}.get(
            role, role
        )
        given, kept = conn.execute(
            f"SELECT count({quote_identifier(role)}), "
            f"(SELECT count({quote_identifier(target)}) FROM person_records) FROM person_input"
        ).fetchone()
        if not given or kept >= 0.5 * given:
            continue
        examples = [
            r[0]
            for r in conn.execute(
                f"SELECT DISTINCT {quote_identifier(role)} FROM person_input "
                f"WHERE {quote_identifier(role)} IS NOT NULL LIMIT 3"
            ).fetchall()
        ]
        if role == "dob" and kept == 0:
            raise ValueError(
                f"{path}: column {column!r} (dob): no value is a date in the formats "
                f"{', '.join(date_formats)} (e.g. {examples}); give --date-format"
            )
        warnings.append(
            f"column {column!r} ({role}): only {kept:,} of {given:,} values are usable "
            f"(e.g. {examples})"
        )
    return warnings
