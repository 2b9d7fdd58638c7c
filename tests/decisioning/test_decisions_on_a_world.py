"""Decisions on a generated world through Dagster: scores -> plan -> outbox, idempotent per day,
and an invalid config that changes nothing."""

from __future__ import annotations

import json
import re
import shutil
import urllib.request
from datetime import date
from pathlib import Path

import dagster as dg
import pandas as pd
import pytest

from dagster_project.activation.assets import deliveries
from dagster_project.activation.checks import activation_checks
from dagster_project.activation.personalisation import start_server
from dagster_project.decisioning.assets import next_best_actions
from dagster_project.decisioning.checks import decisioning_checks
from dagster_project.decisioning.config import load_marketing_config
from dagster_project.demo.closed_loop import answer_deliveries
from dagster_project.ingest.contracts import (
    EMAIL_EVENTS,
    MESSAGING_EVENTS,
    OUTCOMES_APPLICATIONS,
)
from dagster_project.ingest.loader import load_source
from dagster_project.ml.assets import ml_assets
from dagster_project.settings import REPO_ROOT, DataPaths
from dagster_project.warehouse import connect
from tests.factories import materialize
from tests.worlds import copy_world

pytestmark = pytest.mark.slow


def _materialize(
    paths: DataPaths, assets: list, config_dir: Path | None = None
) -> dg.ExecuteInProcessResult:
    return materialize(paths, assets, config_dir=config_dir)


def _decisions(paths: DataPaths) -> pd.DataFrame:
    with connect(paths.warehouse, read_only=True) as conn:
        return conn.execute("SELECT * FROM decisioning.next_best_actions ORDER BY decision_id").df()


def test_a_world_gets_plans_once_per_day_and_a_bad_config_changes_nothing(
    model_world: DataPaths, tmp_path: Path
) -> None:
    paths = copy_world(model_world, tmp_path / "world", truth=True)
    first = _materialize(
        paths, [*ml_assets, next_best_actions, deliveries, *decisioning_checks, *activation_checks]
    )
    assert first.success
    # The real plan keeps the invariants (consent, control group), and nothing dead-lettered.
    checks = {e.check_name: e.passed for e in first.get_asset_check_evaluations()}
    assert checks == {
        "contacts_have_consent": True,
        "control_group_not_contacted": True,
        "no_recent_dead_letters": True,
    }

    # What was decided is valued against the world's truth, in probability and in value.
    valued = {
        e.asset_key.path[-1]: e.materialization.metadata
        for e in first.get_asset_materialization_events()
    }["policy_evaluation"]
    for measure in ("probability", "value"):
        low, decided, high = (
            valued[f"policy_{measure}_{k}"].value for k in ("random", "decided", "oracle")
        )
        assert 0 < low < high and 0 < decided <= high
    assert valued["policy_contacts"].value > 0

    plan = _decisions(paths)
    with connect(paths.warehouse, read_only=True) as conn:
        customers = conn.execute("SELECT count(*) FROM marts.customer_features").fetchone()[0]
        delivered = dict(
            conn.execute("SELECT state, count(*) FROM activation.outbox GROUP BY 1").fetchall()
        )
    assert plan["customer_key"].nunique() == customers  # a plan or a reason for everyone
    assert {"contact", "web", "no_action"} <= set(plan["action"])
    assert plan["policy_hash"].eq(load_marketing_config(REPO_ROOT / "config").policy_hash).all()
    contacts = plan[plan["action"] == "contact"]
    assert valued["policy_contacts"].value == len(contacts)  # every contact maps to its person
    assert contacts["offer_model"].eq("offer_propensity@1").all()
    # Each contact logged the pairs it was chosen among (its own one of them) and its context.
    chosen = contacts["offer_id"] + "/" + contacts["channel"]
    assert all(c in list(o) for c, o in zip(chosen, contacts["options"], strict=True))
    assert contacts["response_score"].between(0, 1).all()
    logged = pd.read_parquet(paths.root / "decision_log" / "contexts")
    held = plan[plan["action"] == "control"]  # the uplift model compares contacts with these
    assert len(held) > 0
    assert set(logged["decision_id"]) == set(contacts["decision_id"]) | set(held["decision_id"])
    # No outcome can follow a plan decided today: the uplift model says it has nothing to learn.
    uplift = {
        e.asset_key.path[-1]: e.materialization.metadata
        for e in first.get_asset_materialization_events()
    }["uplift_evaluation"]
    assert uplift["status"].value == "not_enough_data"
    assert "control" in uplift["reason"].value
    assert contacts["content"].str.contains('"offer"').all()
    assert contacts["reason_codes"].map(len).gt(0).mean() > 0.9  # explained, whichever offer won
    assert set(delivered) == {"delivered"}
    assert delivered["delivered"] == len(
        plan[plan["action"].isin(["contact", "web", "advisor_task"]) & ~plan["control"]]
    )
    exports = list((paths.root / "exports" / "next_best_actions").glob("*"))
    assert {p.suffix for p in exports} == {".parquet", ".csv"}

    # Deciding the same day again adds nothing: the same plan has the same decision ids.
    again = _materialize(paths, [next_best_actions])
    assert again.success
    metadata = again.get_asset_materialization_events()[0].materialization.metadata
    assert metadata["new_decisions"].value == 0
    pd.testing.assert_frame_equal(plan, _decisions(paths))

    # The site asks for a known device's offer over HTTP and gets the customer's web offer.
    web = plan[(plan["action"] == "web") & ~plan["control"]].iloc[0]
    with connect(paths.warehouse, read_only=True) as conn:
        device = conn.execute(
            "SELECT source_id FROM identity.customer_keys WHERE customer_key = ? "
            "AND source_table = 'web__events' AND NOT shared_device LIMIT 1",
            [web["customer_key"]],
        ).fetchone()
    server = start_server(paths.root, port=0)
    try:
        base = f"http://127.0.0.1:{server.server_address[1]}/offer"
        with urllib.request.urlopen(f"{base}?customer={web['customer_key']}") as answer:
            assert json.loads(answer.read())["offer_id"] == web["offer_id"]
        if device:
            with urllib.request.urlopen(f"{base}?device={device[0]}") as answer:
                assert json.loads(answer.read())["decision_id"] == web["decision_id"]
        with urllib.request.urlopen(f"{base}?device=never-seen") as answer:
            assert answer.status == 204
    finally:
        server.shutdown()

    # The world answers the delivered contacts: new landing files that load cleanly, once.
    day = date(2026, 3, 10)
    answers = answer_deliveries(paths, paths.root / "outbox", day, seed=3)
    assert answers.answered == contacts["channel"].value_counts().to_dict()
    assert answers.answered["email"] > 0
    assert answers.clicks >= answers.applications  # SMS clicks come without opens
    with connect(paths.warehouse) as conn:
        loaded = {
            c.name: load_source(conn, c, paths.landing, "loop")
            for c in (EMAIL_EVENTS, MESSAGING_EVENTS, OUTCOMES_APPLICATIONS)
        }
    events = loaded["email__events"].rows_loaded + loaded["messaging__events"].rows_loaded
    assert events == answers.total + answers.opens + answers.clicks + answers.opt_outs
    assert loaded["outcomes__applications"].rows_loaded == answers.applications
    assert all(r.rows_quarantined == 0 for r in loaded.values())
    assert answer_deliveries(paths, paths.root / "outbox", day, seed=3).total == 0

    bad = tmp_path / "bad-config"
    shutil.copytree(REPO_ROOT / "config", bad)
    offers = (bad / "offers.yaml").read_text().replace("value: 2400", "value: -5", 1)
    (bad / "offers.yaml").write_text(offers.replace("op: eq", "op: greater", 1))
    rejected = _materialize(paths, [next_best_actions], config_dir=bad)
    assert not rejected.success
    message = rejected.get_step_failure_events()[0].step_failure_data.user_failure_data.description
    # file and line, the key's path and the value
    assert re.search(r"offers\.yaml:\d+: offers\[0\]\.value: .*\(value: -5\)", message), message
    assert "offers[0].eligibility.all[0].op" in message and "greater" in message
    pd.testing.assert_frame_equal(plan, _decisions(paths))  # yesterday's decisions untouched
