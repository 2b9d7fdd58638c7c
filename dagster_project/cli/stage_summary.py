"""One line per pipeline stage, in words, read from the warehouse and the model registry after a
run: what a person checks first, with the table to query for the rest."""

from __future__ import annotations

from collections.abc import Iterator

import duckdb

from ..settings import MODEL_LABEL_TABLES, DataPaths
from .decisions import decision_counts

WIDTH = 11  # the stage names' column; the text after it fits 80 columns
# The decisions' actions in a word each.
_ACTIONS = {"contact": "contacts", "web": "web", "advisor_task": "advisor", "control": "control"}


def _line(stage: str, text: str) -> str:
    return f"{stage:<{WIDTH}}{text}"


def stage_summary(paths: DataPaths, retrained: bool = True) -> list[str]:
    """The stages' lines; a stage that has not produced its table yet is left out."""
    from ..warehouse import connect

    if not paths.warehouse.exists():
        return ["no warehouse yet: nothing was loaded"]
    with connect(paths.warehouse, read_only=True) as conn:
        lines = list(_warehouse_lines(conn, paths))
    lines.insert(min(3, len(lines)), _models_line(paths, retrained))
    report = paths.root / "analytics" / "report.html"
    if report.exists():
        lines.append(_line("analytics", f"report in {report}"))
    if (paths.root / "console" / "index.html").exists():
        lines.append(_line("console", "pages built: journey console serves them"))
    return lines


def _warehouse_lines(conn: duckdb.DuckDBPyConnection, paths: DataPaths) -> Iterator[str]:
    from ..demo.evaluation import identity_accuracy
    from ..ingest.summary import ingest_summary
    from ..warehouse import table_exists

    tables = ingest_summary(conn)
    if tables:
        rows = sum(t.rows for t in tables)
        quarantined = sum(t.quarantined for t in tables)
        problems = sum(t.problem_files for t in tables)
        files = sum(t.files for t in tables)
        text = f"{rows:,} rows, {files:,} files, {len(tables)} tables; {quarantined:,} quarantined"
        yield _line("ingest", text + (f", {problems:,} bad files" if problems else ""))
    if table_exists(conn, "identity.customer_keys"):
        customers, records = conn.execute(
            "SELECT count(DISTINCT customer_key), count(*) FROM identity.customer_keys"
        ).fetchone()
        text = f"{records:,} records and devices -> {customers:,} customers"
        accuracy = identity_accuracy(conn, paths.truth)
        if accuracy:
            text += f"; pair F1 {accuracy[0].pair_f1:.3f} (truth)"
        yield _line("identity", text)
    if table_exists(conn, "marts.customer_features"):
        profiles = conn.execute("SELECT count(*) FROM marts.customer_features").fetchone()[0]
        yield _line("profile", f"{profiles:,} customer profiles in marts.customer_features")
    counts = decision_counts(conn, _ACTIONS)
    if counts is not None:
        day, parts = counts
        yield _line("decisions", f"{day}: {', '.join(parts) or 'no action for anyone'}")
        if not parts:
            yield from (_line("", f"{n:,} x {why}") for why, n in _idle_reasons(conn))
    if table_exists(conn, "activation.outbox"):
        states = dict(
            conn.execute("SELECT state, count(*) FROM activation.outbox GROUP BY 1").fetchall()
        )
        order = ("delivered", "queued", "sending", "failed", "dead_letter")
        text = ", ".join(f"{states[s]:,} {s.replace('_', ' ')}" for s in order if states.get(s))
        yield _line("deliveries", f"{text or 'nothing due'} (all runs)")


def _models_line(paths: DataPaths, retrained: bool) -> str:
    from models.registry import champion_versions

    versions = champion_versions(paths.root, MODEL_LABEL_TABLES)
    if not any(versions.values()):
        return _line("models", "none trained yet (too little history): population rates")
    champions = [f"{n} v{v}" if v else f"{n} untrained" for n, v in versions.items()]
    how = "" if retrained else "not retrained: "
    return _line("models", f"{how}{', '.join(champions)}")


def _idle_reasons(conn: duckdb.DuckDBPyConnection) -> list[tuple[str, int]]:
    """Why the latest decisions contacted nobody: the three most common explanations."""
    return conn.execute(
        "SELECT coalesce(explanation, 'no reason recorded'), count(*) FROM "
        "decisioning.next_best_actions WHERE decision_date = "
        "(SELECT max(decision_date) FROM decisioning.next_best_actions) "
        "GROUP BY 1 ORDER BY 2 DESC LIMIT 3"
    ).fetchall()
