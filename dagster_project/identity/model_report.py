"""What a trained Splink model says, in numbers a person can check: each level's match weight,
the prior, and (where the truth is known) how many true pairs the blocking rules ever compare."""

from __future__ import annotations

import math
from dataclasses import dataclass

import duckdb


@dataclass(frozen=True)
class LevelWeight:
    comparison: str
    level: str
    m: float | None
    u: float | None

    @property
    def weight(self) -> float | None:
        """log2(m / u): how many bits of evidence for (positive) or against a match."""
        if not self.m or not self.u:
            return None
        return math.log2(self.m / self.u)


def level_weights(model: dict) -> list[LevelWeight]:
    return [
        LevelWeight(
            c["output_column_name"],
            level.get("label_for_charts") or level["sql_condition"],
            level.get("m_probability"),
            level.get("u_probability"),
        )
        for c in model["comparisons"]
        for level in c["comparison_levels"]
        if not level.get("is_null_level")
    ]


def blocking_recall(
    conn: duckdb.DuckDBPyConnection, table: str, truth: str, model: dict
) -> tuple[int, int]:
    """(true pairs any prediction blocking rule compares, all true pairs): pairs a rule never
    compares can never be linked, whatever the model says. ``truth`` is a relation of
    ``record_id``, ``truth_id``."""
    rules = " OR ".join(
        f"({rule['blocking_rule']})" for rule in model["blocking_rules_to_generate_predictions"]
    )
    return conn.execute(
        f"""
        WITH labelled AS (SELECT t.*, x.truth_id FROM {table} AS t JOIN {truth} AS x USING (record_id))
        SELECT count(*) FILTER (WHERE {rules or "false"}), count(*)
        FROM labelled AS l JOIN labelled AS r
            ON l.truth_id = r.truth_id AND l.record_id < r.record_id
        """
    ).fetchone()
