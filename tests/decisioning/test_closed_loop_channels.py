"""The closed loop on every outbound channel: delivered pushes and SMS are answered by the world
through the messaging provider's source, reach the timeline by customer key, count as engagement
in the contact history, and an SMS STOP suppresses the channel."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import dagster as dg
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml

from dagster_project.activation.assets import deliveries
from dagster_project.analytics.assets import journey_analytics
from dagster_project.analytics.attribution import MODELS
from dagster_project.decisioning.assets import next_best_actions
from dagster_project.demo.closed_loop import answer_deliveries
from dagster_project.demo.landing_files import contract_table
from dagster_project.demo.truth_files import CAUSED_FILE, load_world
from dagster_project.identity.person_records import build_person_records
from dagster_project.identity.stage import latest_model, link_new_identities
from dagster_project.ingest.contracts import (
    EMAIL_EVENTS,
    MESSAGING_EVENTS,
    OUTCOMES_APPLICATIONS,
)
from dagster_project.ingest.loader import load_source
from dagster_project.ml.assets import ml_assets
from dagster_project.settings import REPO_ROOT, DataPaths
from dagster_project.warehouse import connect
from tests.factories import resources_for
from tests.worlds import build_profile, copy_world

pytestmark = pytest.mark.slow


def _config_preferring_push_and_sms(folder: Path) -> Path:
    """The repo's config, except that push and SMS are assumed to answer far better than email
    until the model has learned them, so this world's plan uses them."""
    shutil.copytree(REPO_ROOT / "config", folder)
    channels = yaml.safe_load((folder / "channels.yaml").read_text())
    for channel in ("push", "sms"):
        channels[channel]["prior_response"] = 0.95
    (folder / "channels.yaml").write_text(yaml.safe_dump(channels))
    return folder


def _last_day(paths: DataPaths) -> date:
    config = load_world(paths)["config"]
    return date.fromisoformat(config["start_date"]) + timedelta(days=config["days"] - 1)


def test_push_and_sms_are_answered_seen_and_an_sms_stop_suppresses(
    model_world: DataPaths, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    paths = copy_world(model_world, tmp_path / "world", truth=True)
    monkeypatch.setenv("JOURNEY_CONFIG_DIR", str(_config_preferring_push_and_sms(tmp_path / "c")))
    day = _last_day(paths) + timedelta(days=1)
    with dg.instance_for_test() as instance:
        decided = dg.materialize(
            [*ml_assets, next_best_actions, deliveries],
            instance=instance,
            resources=resources_for(paths),
            run_config={
                "ops": {
                    "decisioning__next_best_actions": {
                        "config": {"decide_at": f"{day.isoformat()}T17:00:00+00:00"}
                    },
                    "activation__deliveries": {"config": {"use_decision_clock": True}},
                }
            },
            raise_on_error=False,
        )
    assert decided.success
    with connect(paths.warehouse, read_only=True) as conn:
        delivered = dict(
            conn.execute(
                "SELECT channel, count(*) FROM activation.outbox "
                "WHERE action = 'contact' AND state = 'delivered' GROUP BY 1"
            ).fetchall()
        )
    assert delivered.get("push", 0) > 0 and delivered.get("sms", 0) > 0

    answers = answer_deliveries(paths, paths.root / "outbox", day + timedelta(days=1), seed=7)
    assert answers.answered == delivered
    assert answers.clicks >= answers.applications  # SMS clicks come without opens

    # One SMS recipient replies STOP (beside whatever the world drew), after their last consent.
    sms_file = next((paths.root / "outbox" / "sms").glob("*.json"))
    stopped = json.loads(sms_file.read_text())["customer_key"]
    stop_at = datetime.combine(day + timedelta(days=1), datetime.min.time(), UTC) + timedelta(
        hours=20
    )
    folder = paths.landing / MESSAGING_EVENTS.landing_subdir
    stop = contract_table(
        MESSAGING_EVENTS,
        {
            "event_id": pa.array(["test-stop"]),
            "event_ts": pa.array([stop_at.isoformat()]),
            "channel": pa.array(["sms"]),
            "event_type": pa.array(["opt_out"]),
            "message_id": pa.array([sms_file.stem]),
            "customer_key": pa.array([stopped]),
            "product_topic": pa.nulls(1, pa.string()),
            "link_url": pa.nulls(1, pa.string()),
        },
    )
    pq.write_table(stop, folder / "stop.parquet")

    with connect(paths.warehouse) as conn:
        loaded = {
            c.name: load_source(conn, c, paths.landing, "loop")
            for c in (EMAIL_EVENTS, MESSAGING_EVENTS, OUTCOMES_APPLICATIONS)
        }
        events = conn.execute(
            "SELECT channel, event_type, customer_key FROM raw.messaging__events"
        ).df()
    assert all(r.rows_quarantined == 0 for r in loaded.values())
    assert (events["event_type"] == "send").sum() == delivered["push"] + delivered["sms"]
    # The applicants' new records get their keys as the nightly identity run would give them.
    with connect(paths.warehouse) as conn:
        build_person_records(conn)
        link_new_identities(conn, latest_model(model_world), run_id="loop")
    assert build_profile(paths).success

    with connect(paths.warehouse, read_only=True) as conn:
        timeline = conn.execute(
            "SELECT interaction_type, count(*) FROM marts.fct_interactions "
            "WHERE channel IN ('push', 'sms') GROUP BY 1"
        ).fetchall()
        contactability = conn.execute(
            "SELECT sms_opted_out, can_sms FROM marts.customer_contactability "
            "WHERE customer_key = ?",
            [stopped],
        ).fetchone()
        engaged = conn.execute(
            "SELECT customer_key FROM activation.contact_history "
            "WHERE channel IN ('push', 'sms') AND engaged"
        ).df()
    # Every push and SMS event reaches the timeline under the key it was sent to.
    assert sum(n for _, n in timeline) == len(events)
    expected = events.groupby(["channel", "event_type"]).size()
    assert dict(timeline) == {f"{c}_{t}": n for (c, t), n in expected.items()}
    assert contactability == (True, False)
    # Whoever opened or clicked a push or SMS counts as engaged in the contact history.
    responded = events[events["event_type"].isin(["open", "click"])]["customer_key"]
    assert set(engaged["customer_key"]) == set(responded) != set()

    # The analytics compare attribution with the conversions the contacts truly caused.
    with dg.instance_for_test() as instance:
        analysed = dg.materialize(
            [journey_analytics],
            instance=instance,
            resources=resources_for(paths),
        )
    assert analysed.success
    with connect(paths.warehouse, read_only=True) as conn:
        validation = conn.execute("SELECT * FROM analytics.attribution_validation").df()
        applied_before = set(
            conn.execute(
                "SELECT DISTINCT customer_key, product_topic FROM marts.fct_interactions "
                "WHERE interaction_type = 'application_started' AND occurred_at < ?",
                # Before the decision: the world answers each message from the instant it was
                # delivered, so a caused application can come the same evening; none of this
                # run's messages went out before the decision instant.
                [datetime.combine(day, datetime.min.time()) + timedelta(hours=17)],
            ).fetchall()
        )
    assert set(validation["model"]) == set(MODELS)
    # A caused application is a journey's conversion unless the customer had applied before.
    truth = pd.read_parquet(paths.truth / CAUSED_FILE)
    first = [
        (k, p) not in applied_before
        for k, p in zip(truth["customer_key"], truth["product"], strict=True)
    ]
    caused = validation[["caused_email", "caused_push", "caused_sms"]].iloc[0].sum()
    assert len(truth) == answers.applications
    assert caused == sum(first) > 0
    report = (paths.root / "analytics" / "report.html").read_text()
    assert report.count("<h2>") == 9 and "<h2>Attribution against the truth</h2>" in report

    # Identity later merges the customer who said STOP into another customer: the STOP and their
    # push and SMS history follow them to the surviving key.
    with connect(paths.warehouse) as conn:
        survivor = conn.execute(
            "SELECT customer_key FROM marts.customer_contactability "
            "WHERE can_sms AND customer_key <> ? ORDER BY customer_key LIMIT 1",
            [stopped],
        ).fetchone()[0]
        conn.execute(
            "UPDATE identity.customer_keys SET customer_key = ? WHERE customer_key = ?",
            [survivor, stopped],
        )
        conn.execute(
            "INSERT INTO identity.customer_key_history "
            "(customer_key, event, related_key, records, run_id, recorded_at) "
            "VALUES (?, 'merged', ?, 1, 'test-merge', now())",
            [stopped, survivor],
        )
    assert build_profile(paths).success
    with connect(paths.warehouse, read_only=True) as conn:
        merged = conn.execute(
            "SELECT sms_opted_out, can_sms FROM marts.customer_contactability "
            "WHERE customer_key = ?",
            [survivor],
        ).fetchone()
        on_timeline = conn.execute(
            "SELECT count(*) FROM marts.fct_interactions WHERE channel IN ('push', 'sms')"
        ).fetchone()[0]
        gone = conn.execute(
            "SELECT count(*) FROM marts.customer_contactability WHERE customer_key = ?", [stopped]
        ).fetchone()[0]
    assert merged == (True, False)
    assert on_timeline == len(events) and gone == 0
