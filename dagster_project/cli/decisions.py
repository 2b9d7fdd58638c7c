"""The latest decision run in one line per fact: what was decided, and on which scores."""

from __future__ import annotations

from ..settings import DataPaths, model_scores_table
from .common import console

ACTION_WORDS = {
    "contact": "contacts",
    "web": "web offers",
    "advisor_task": "advisor tasks",
    "control": "held out",
    "no_action": "no action",
}


def print_decisions(paths: DataPaths) -> None:
    from models.cold_start import PRIOR_VERSION

    from ..warehouse import connect, table_exists

    with connect(paths.warehouse, read_only=True) as conn:
        if not table_exists(conn, "decisioning.next_best_actions"):
            return
        counts = dict(
            conn.execute(
                "SELECT action, count(*) FROM decisioning.next_best_actions GROUP BY 1"
            ).fetchall()
        )
        day = conn.execute(
            "SELECT max(decision_date) FROM decisioning.next_best_actions"
        ).fetchone()
        scores = model_scores_table("offer_propensity")
        on_priors = (
            table_exists(conn, scores)
            and conn.execute(
                f"SELECT bool_and(model_version = ?) FROM {scores}", [PRIOR_VERSION]
            ).fetchone()[0]
        )
    parts = [f"{counts[a]:,} {words}" for a, words in ACTION_WORDS.items() if counts.get(a)]
    console.print(f"Decisions for {day[0]}: {', '.join(parts) or 'none'}")
    console.print("  in decisioning.next_best_actions")
    if on_priors:
        console.print("  offers scored by population take-up rates: no model trained yet")
