"""``journey resolve``: deduplicate any person file with the pipeline's resolver."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb

from ..ingest.readers import file_format
from ..warehouse import quote_identifier, quote_literal
from .linkage import DEFAULT_CONFIG, LinkageConfig, Timer, predict_clusters, train_model
from .normalise import (
    DEFAULT_DATE_FORMATS,
    DEFAULT_PHONE_REGION,
    ROLES,
    distinct_phones,
    normalised_select,
    register_lookups,
)


@dataclass(frozen=True)
class ResolveReport:
    records: int
    clusters: int
    comparisons: int
    matched_pairs: int
    timings: dict[str, float]
    out: Path


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
) -> ResolveReport:
    timer = Timer()
    conn = duckdb.connect()
    conn.execute("SET TimeZone = 'UTC'")
    with timer.phase("read and normalise"):
        columns = {r[0] for r in conn.execute(f"DESCRIBE SELECT * FROM {_source(path)}").fetchall()}
        missing = sorted({id_column, *roles.values()} - columns)
        if missing:
            raise ValueError(f"{path}: no column {', '.join(missing)}; columns: {sorted(columns)}")
        selected = ", ".join(
            f"CAST({quote_identifier(column)} AS VARCHAR) AS {quote_identifier(role)}"
            for role, column in roles.items()
        )
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
    model, _notes = train_model(conn, "person_records", config, timer)
    resolution = predict_clusters(conn, "person_records", model, config, timer=timer)
    clusters = resolution.clusters
    clusters["cluster_size"] = clusters.groupby("cluster_id")["record_id"].transform("size")
    out.parent.mkdir(parents=True, exist_ok=True)
    conn.register("clusters", clusters)
    conn.execute(f"COPY clusters TO {quote_literal(str(out))} (FORMAT PARQUET)")
    conn.close()
    return ResolveReport(
        records=len(clusters),
        clusters=clusters["cluster_id"].nunique(),
        comparisons=resolution.comparisons,
        matched_pairs=resolution.matched_pairs,
        timings=timer.timings,
        out=out,
    )
