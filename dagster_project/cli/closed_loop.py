"""``journey demo run --loop-days N``: simulated days in which the world answers the platform.

Each day: the demo world answers yesterday's deliveries (opens, clicks, applications, as
landing files), then the pipeline runs again: ingest, identity, profile, scoring, decisions and
deliveries, retraining and gating the models every ``RETRAIN_EVERY_DAYS`` days (between
retrains, decisions learn from the answers themselves). What the loop caused is printed per day,
and the learning curve: each day's decided contacts valued with the demo truth.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from ..demo.closed_loop import ANSWERED_CHANNELS, answer_deliveries
from ..demo.evaluation import policy_value
from ..demo.truth_files import load_world
from ..settings import DataPaths
from ..warehouse import connect
from .common import console, narrow_table
from .run import execute_pipeline, step_in_words
from .tool_output import ToolLog

DECIDE_AT_UTC = "17:00:00+00:00"
# Deliveries on the world's clock, each when it falls due before the next daily decision.
WORLD_DELIVERIES = {"use_decision_clock": True, "simulate_hours": 24}
RETRAIN_EVERY_DAYS = 7


def run_closed_loop(paths: DataPaths, log: ToolLog, loop_days: int, seed: int) -> bool:
    config = load_world(paths)["config"]
    last_day = date.fromisoformat(config["start_date"]) + timedelta(days=config["days"] - 1)
    table = narrow_table("Closed loop: the demo world answers the platform")
    for column in ("day", "e/p/s", "opens", "clicks", "applied", "opt-outs", "decided", "sent"):
        table.add_column(column, justify="right")
    curve = narrow_table("Learning curve: each day's contacts against the demo truth")
    for column in ("day", "contacts", "sms+push", "value", "static", "oracle", "room", "x static"):
        curve.add_column(column, justify="right")
    ok = True
    for offset in range(1, loop_days + 1):
        day = last_day + timedelta(days=offset)
        decide_at = datetime.fromisoformat(f"{day.isoformat()}T{DECIDE_AT_UTC}")
        # The world answers what was delivered, as far as it has happened by the decision.
        answers = answer_deliveries(paths, paths.root / "outbox", day, seed, until=decide_at)
        # Decide at 17:00 UTC of the simulated day and deliver each contact when it falls due
        # (past quiet hours, at the customer's best hour) until the next day's decision, as the
        # due-actions sensor would; retrain weekly, else score with the champions as they are.
        run = execute_pipeline(
            paths,
            log,
            retrain=offset % RETRAIN_EVERY_DAYS == 0,
            ops_config={
                # The first run read the columns' schema and lineage; the loop's days change
                # rows, not columns.
                "profile_models": {"column_metadata": False},
                "decisioning__next_best_actions": {"decide_at": decide_at.isoformat()},
                "activation__deliveries": WORLD_DELIVERIES,
            },
            title=f"loop day {offset} of {loop_days}",
            trigger="journey_demo_loop",
        )
        with connect(paths.warehouse, read_only=True) as conn:
            values = policy_value(conn, paths.truth)
            sms_push = conn.execute(
                "SELECT avg((channel IN ('sms', 'push'))::INTEGER) FROM "
                "decisioning.next_best_actions WHERE action = 'contact' "
                "AND decided_at = (SELECT max(decided_at) FROM decisioning.next_best_actions)"
            ).fetchone()[0]
            contacts, delivered = conn.execute(
                "SELECT (SELECT count(*) FROM decisioning.next_best_actions WHERE action = 'contact' "
                "AND decided_at = (SELECT max(decided_at) FROM decisioning.next_best_actions)), "
                "(SELECT count(*) FROM activation.outbox WHERE state = 'delivered')"
            ).fetchone()
        table.add_row(
            day.isoformat()[5:],
            "/".join(f"{answers.answered.get(c, 0):,}" for c in ANSWERED_CHANNELS),
            f"{answers.opens:,}",
            f"{answers.clicks:,}",
            f"{answers.applications:,}",
            f"{answers.opt_outs:,}",
            f"{contacts:,}",
            f"{delivered:,}",
        )
        if values is not None:
            worth = values.value
            curve.add_row(
                day.isoformat()[5:],
                f"{values.contacts:,}",
                f"{sms_push or 0:.0%}",
                f"{worth.decided:.1f}",
                f"{worth.best_static:.1f}",
                f"{worth.oracle:.1f}",
                f"{worth.captured_share:.0%}",
                f"{worth.vs_static:.2f}",
            )
        for step, message in run.failed_steps.items():
            console.print(f"[red]day {day}: {step_in_words(step)} failed: {message[:300]}[/red]")
        ok = ok and run.success
    console.print(table)
    console.print(
        "e/p/s: answers by email/push/sms; decided: that day's contacts; sent: in all.",
        highlight=False,
    )
    if curve.row_count:
        console.print(curve)
        console.print(
            "value: true probability x offer value per contact; static: one rule for all.",
            highlight=False,
        )
    return ok
