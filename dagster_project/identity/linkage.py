"""The one resolver: normalised person records in, clusters out, through Splink on DuckDB.

Used by the pipeline's identity assets and by ``journey resolve`` alike. Training and prediction
are separate steps so the pipeline can train in one asset, save the model as a versioned JSON
artefact, and predict with the latest model in another.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import duckdb
import pandas as pd
from splink import DuckDBAPI, Linker

from ..warehouse import quote_identifier
from .conflicts import split_conflicts
from .graph import components
from .linkage_config import DEFAULT_CONFIG, LinkageConfig
from .normalise import NORMALISED_COLUMNS
from .splink_internals import SplinkDataFrame
from .splink_settings import usable_columns
from .training import TrainingNotes, train_model

__all__ = ["TrainingNotes", "train_model"]

COMPARED_COLUMNS = tuple(c for c in NORMALISED_COLUMNS if c != "record_id")


@dataclass
class Resolution:
    clusters: pd.DataFrame  # record_id, cluster_id
    comparisons: int
    matched_pairs: int
    timings: dict[str, float] = field(default_factory=dict)
    split_clusters: int = 0  # components rebuilt because two records in them conflict


class Timer:
    def __init__(self) -> None:
        self.timings: dict[str, float] = {}

    @contextmanager
    def phase(self, name: str) -> Iterator[None]:
        started = time.perf_counter()
        try:
            yield
        finally:
            self.timings[name] = round(time.perf_counter() - started, 3)


SPLINK_TABLE_PREFIX = "__splink__"


def drop_splink_tables(conn: duckdb.DuckDBPyConnection) -> int:
    """Drop the intermediate tables Splink caches in the database it links in (term
    frequencies, blocked pairs, predictions, ...); returns how many there were. Everything the
    project keeps is copied into its own tables first."""
    rows = conn.execute(
        "SELECT table_schema, table_name, table_type FROM information_schema.tables "
        "WHERE starts_with(table_name, ?)",
        [SPLINK_TABLE_PREFIX],
    ).fetchall()
    for schema, table, kind in rows:
        what = "VIEW" if kind == "VIEW" else "TABLE"
        conn.execute(f"DROP {what} IF EXISTS {quote_identifier(schema)}.{quote_identifier(table)}")
    return len(rows)


@contextmanager
def splink_tables_dropped(conn: duckdb.DuckDBPyConnection) -> Iterator[None]:
    """Splink's intermediate tables are gone when the block ends, however it ends."""
    try:
        yield
    finally:
        drop_splink_tables(conn)


def linkable_columns(conn: duckdb.DuckDBPyConnection, table: str) -> set[str]:
    """Normalised fields that enough records carry to be compared."""
    shares = ", ".join(
        f"avg(CASE WHEN {quote_identifier(c)} IS NULL THEN 0 ELSE 1 END)" for c in COMPARED_COLUMNS
    )
    row = conn.execute(f"SELECT {shares} FROM {table}").fetchone()
    return usable_columns(dict(zip(COMPARED_COLUMNS, (v or 0.0 for v in row), strict=True)))


def linker_for(
    conn: duckdb.DuckDBPyConnection, table: str, settings
) -> tuple[Linker, SplinkDataFrame]:
    # Splink's SQL templating takes bare table names only, so a schema-qualified table is seen
    # through a temporary view.
    conn.execute(f"CREATE OR REPLACE TEMP VIEW _splink_input AS SELECT * FROM {table}")
    records = DuckDBAPI(connection=conn).register("_splink_input", dataset_display_name=table)
    return Linker(records, settings, log_level=logging.ERROR), records


def predict_clusters(
    conn: duckdb.DuckDBPyConnection,
    table: str,
    model: dict,
    config: LinkageConfig = DEFAULT_CONFIG,
    extra_edges: pd.DataFrame | None = None,
    timer: Timer | None = None,
    keep_predictions_as: str | None = None,
    nodes: pd.Series | None = None,
) -> Resolution:
    """Score candidate pairs with ``model`` and cluster by connected components.

    ``extra_edges`` (``left``, ``right`` record ids) are deterministic links joined into the same
    graph, whose nodes are ``nodes`` (default: the table's records). With
    ``keep_predictions_as`` the scored pairs stay as that table for charts.
    """
    timer = timer or Timer()
    linker, _ = linker_for(conn, table, model)
    with timer.phase("predict"):
        predictions = linker.inference.predict(threshold_match_probability=config.predict_threshold)
    physical = predictions.physical_name
    comparisons = _count_comparisons(linker, timer)
    with timer.phase("cluster"):
        edges = _matched_edges(conn, [physical], config)
        matched = len(edges)
        if extra_edges is not None and len(extra_edges):
            # Deterministic links are the strongest: they join first when a component is split.
            edges = pd.concat(
                [edges, extra_edges[["left", "right"]].assign(weight=2.0)], ignore_index=True
            )
        if nodes is None:
            nodes = conn.execute(f"SELECT record_id FROM {table}").df()["record_id"]
        clusters = components(nodes, edges)
    with timer.phase("split conflicting clusters"):
        clusters, split = split_conflicts(conn, table, clusters, edges)
    if keep_predictions_as:
        conn.execute(f"CREATE OR REPLACE TABLE {keep_predictions_as} AS SELECT * FROM {physical}")
    predictions.drop_table_from_database_and_remove_from_cache()
    return Resolution(clusters, comparisons, matched, timer.timings, split)


def _candidates(conn: duckdb.DuckDBPyConnection, predictions: str, floor: float) -> str:
    """The pairs of one predictions table that may link: at least ``floor`` and not guarded."""
    return (
        f"SELECT record_id_l AS left, record_id_r AS right, match_probability AS weight "
        f"FROM {predictions} WHERE match_probability >= {float(floor)!r} "
        f"AND NOT ({household_guard(conn, predictions)})"
    )


def _matched_edges(
    conn: duckdb.DuckDBPyConnection,
    predictions: list[str],
    config: LinkageConfig,
    context: list[str] | None = None,
) -> pd.DataFrame:
    """The pairs that link: every confident one (``match_threshold``), and a likely one
    (``best_match_threshold``) where each record is the other's best candidate.

    A likely pair is most often one person whose records share little besides the name (a
    move, a source without date of birth); one that is not the best on both sides is most often
    a relative whose record is the closer match of someone else (a father and son of one name
    at one address). ``context`` tables hold earlier scored pairs that count towards each
    record's best candidate without linking anything themselves (an incremental run)."""
    floor = min(config.best_match_threshold, config.match_threshold)
    linkable = " UNION ALL ".join(_candidates(conn, p, floor) for p in predictions)
    everything = " UNION ALL ".join(
        _candidates(conn, p, floor) for p in [*predictions, *(context or [])]
    )
    return conn.execute(
        f"""
        WITH linkable AS ({linkable}),
        everything AS ({everything}),
        ends AS (
            SELECT "left" AS record_id, weight FROM everything
            UNION ALL SELECT "right", weight FROM everything
        ),
        best AS (SELECT record_id, max(weight) AS weight FROM ends GROUP BY record_id)
        SELECT l."left", l."right", l.weight FROM linkable l
        JOIN best bl ON bl.record_id = l."left"
        JOIN best br ON br.record_id = l."right"
        WHERE l.weight >= ? OR (l.weight >= bl.weight AND l.weight >= br.weight)
        """,
        [config.match_threshold],
    ).df()


def predict_new_edges(
    conn: duckdb.DuckDBPyConnection,
    existing_table: str,
    new_table: str,
    model: dict,
    config: LinkageConfig = DEFAULT_CONFIG,
    timer: Timer | None = None,
    earlier_predictions: str | None = None,
) -> pd.DataFrame:
    """Matched pairs that involve a new record: new x existing and new x new, nothing else.

    Term frequencies come from existing and new records together, exactly as a full run would
    compute them, so an incremental run and a full run score the same pairs the same way.
    ``earlier_predictions`` (the last full run's scored pairs) tell each existing record's best
    candidate so far, so a likely pair links only where a full run would also link it.
    """
    timer = timer or Timer()
    conn.execute(f"CREATE OR REPLACE TEMP VIEW _splink_existing AS SELECT * FROM {existing_table}")
    conn.execute(f"CREATE OR REPLACE TEMP VIEW _splink_new AS SELECT * FROM {new_table}")
    conn.execute(
        "CREATE OR REPLACE TEMP VIEW _splink_all AS "
        "SELECT * FROM _splink_existing UNION ALL SELECT * FROM _splink_new"
    )
    api = DuckDBAPI(connection=conn)
    linker = Linker(api.register("_splink_all"), model, log_level=logging.ERROR)
    existing, new = api.register("_splink_existing"), api.register("_splink_new")
    with timer.phase("incremental: predict"):
        for column in _tf_columns(model):
            linker.table_management.compute_tf_table(column)
        scored = [
            linker.inference.predict_between(
                existing, new, threshold_match_probability=config.predict_threshold
            ),
            linker.inference.predict_within(
                new, threshold_match_probability=config.predict_threshold
            ),
        ]
    context = [earlier_predictions] if earlier_predictions else []
    edges = _matched_edges(conn, [s.physical_name for s in scored], config, context)
    for frame in scored:
        frame.drop_table_from_database_and_remove_from_cache()
    return edges


def _tf_columns(model: dict) -> set[str]:
    return {
        level["tf_adjustment_column"]
        for comparison in model["comparisons"]
        for level in comparison["comparison_levels"]
        if level.get("tf_adjustment_column")
    }


def household_guard(conn: duckdb.DuckDBPyConnection, predictions: str) -> str:
    """Pairs that must not link however much else agrees: a different person, often at the same
    home.

    Household members share surname, address and phone; only given name, middle name and date of
    birth tell them apart. So:

    * a pair whose given names fall in the "else" level (not equal, not a nickname, not a typo,
      not swapped) and whose dates of birth do not agree (or are unknown) stays apart;
    * within one home (the same address or phone), a pair links only on personal evidence: given
      names that agree, no date of birth or middle name that clearly differs, and, where the two
      records carry any personal detail to compare (date of birth, middle name, email, phone,
      national id), at least one that agrees (a clerk who typed a sister's given name on a record
      with no date of birth makes a pair that agrees on everything a household shares, and on
      nothing else);

    unless an identifier that is personal (email, national id) is identical.
    """
    columns = {r[0] for r in conn.execute(f"DESCRIBE {predictions}").fetchall()}
    if "gamma_first_name" not in columns:
        return "false"
    # dob levels: 4 exact, 3 day/month swapped, 2 one digit, 1 same year, 0 else.
    dob_disagrees = "gamma_dob <= 1" if "gamma_dob" in columns else "true"
    dob_differs = "gamma_dob = 0" if "gamma_dob" in columns else "false"
    middle_differs = "gamma_middle_name = 0" if "gamma_middle_name" in columns else "false"
    # Personal evidence: what one person has and a housemate does not. Its levels that agree.
    evidence = {
        "gamma_dob": 2,
        "gamma_middle_name": 1,
        "gamma_email": 3,
        "gamma_phone": 1,
        "gamma_national_id": 1,
    }
    present = {gamma: level for gamma, level in evidence.items() if gamma in columns}
    agreement = " OR ".join(f"{g} >= {level}" for g, level in present.items()) or "false"
    comparable = " OR ".join(f"{g} >= 0" for g in present) or "false"
    # Where there is some to compare and none of it agrees, a shared home is all they share.
    personal_agreement = f"({agreement}) OR NOT ({comparable})"
    home = [f"coalesce({c}_l = {c}_r, false)" for c in ("address", "phone") if f"{c}_l" in columns]
    same_home = " OR ".join(home) or "false"
    # An identical email, or a national id equal or one keystroke off.
    personal = [
        f"{gamma} >= {level}"
        for gamma, level in (("gamma_email", 4), ("gamma_national_id", 1))
        if gamma in columns
    ]
    same_personal_id = " OR ".join(personal) or "false"
    different_person = (
        f"(gamma_first_name = 0 AND {dob_disagrees}) OR (({same_home}) AND "
        f"(gamma_first_name = 0 OR {dob_differs} OR {middle_differs} "
        f"OR NOT ({personal_agreement})))"
    )
    return f"({different_person}) AND NOT ({same_personal_id})"


def _count_comparisons(linker: Linker, timer: Timer) -> int:
    with timer.phase("count comparisons"):
        counts = linker.blocking_analysis.count_comparisons_from_blocking_rules(
            record_sample_proportion=1.0
        )
    return int(counts[-1]["cumulative_comparison_count"]) if counts else 0
