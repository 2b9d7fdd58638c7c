"""The latest decision run in one line per fact: what was decided, and on which scores."""

from __future__ import annotations

import duckdb

from ..settings import DataPaths, model_scores_table
from .common import console

ACTION_WORDS = {
    "contact": "contacts",
    "web": "web offers",
    "advisor_task": "advisor tasks",
    "control": "held out",
    "no_action": "no action",
}


def decision_counts(
    conn: duckdb.DuckDBPyConnection, words: dict[str, str] = ACTION_WORDS
) -> tuple[str, list[str]] | None:
    """The latest decision date and its actions counted in ``words`` ("446 contacts"), or None."""
    from ..warehouse import table_exists

    if not table_exists(conn, "decisioning.next_best_actions"):
        return None
    (day,) = conn.execute("SELECT max(decision_date) FROM decisioning.next_best_actions").fetchone()
    counts = dict(
        conn.execute(
            "SELECT action, count(*) FROM decisioning.next_best_actions "
            "WHERE decision_date = ? GROUP BY 1",
            [day],
        ).fetchall()
    )
    parts = [f"{counts[a]:,} {word}" for a, word in words.items() if counts.get(a)]
    return str(day), parts


def print_decisions(paths: DataPaths) -> None:
    from models.cold_start import PRIOR_VERSION

    from ..warehouse import connect, table_exists

    with connect(paths.warehouse, read_only=True) as conn:
        counts = decision_counts(conn)
        if counts is None:
            return
        scores = model_scores_table("offer_propensity")
        on_priors = (
            table_exists(conn, scores)
            and conn.execute(
                f"SELECT bool_and(model_version = ?) FROM {scores}", [PRIOR_VERSION]
            ).fetchone()[0]
        )
    day, parts = counts
    console.print(f"Decisions for {day}: {', '.join(parts) or 'none'}")
    console.print("  in decisioning.next_best_actions")
    if on_priors:
        console.print("  offers scored by population take-up rates: no model trained yet")
