"""The decision API as a website calls it: a real ``journey serve`` over a decided world."""

from __future__ import annotations

import functools
import json
import re
import time
from dataclasses import replace
from datetime import datetime
from urllib.parse import urlencode

import pandas as pd
import pytest

from dagster_project.activation.outbox import enqueue
from dagster_project.decisioning.arbitration import decide_with_evidence
from dagster_project.decisioning.store import ACTIONS_TABLE
from dagster_project.ingest.contracts import WEB_EVENTS
from dagster_project.ingest.loader import load_source
from dagster_project.ingest.validation import EMAIL_PATTERN
from dagster_project.serving.decision_log import ingest_decision_log
from dagster_project.serving.event_landing import check_event, landing_folder
from dagster_project.serving.realtime import Decider
from dagster_project.serving.session import Session
from dagster_project.serving.snapshot import latest_snapshot_id, load_snapshot
from dagster_project.settings import DataPaths
from dagster_project.warehouse import connect
from tests.serving.conftest import API_KEY, Server, start_server, stop_server
from tests.worlds import copy_world

pytestmark = pytest.mark.slow


def _decision(server: Server, key: str | None = API_KEY, **query: str) -> tuple[int, dict, dict]:
    status, headers, body = server.request("/v1/decisions?" + urlencode(query), key=key)
    return status, headers, json.loads(body) if body else {}


def _batch_plan(paths: DataPaths) -> pd.DataFrame:
    with connect(paths.warehouse, read_only=True) as conn:
        return conn.execute(f"SELECT * FROM {ACTIONS_TABLE}").df()


def _event(device: str, at: str, i: int, **fields: str) -> dict:
    return {
        "event_id": f"api-test-{device}-{i}",
        "event_ts": at,
        "event_type": "page_view",
        "anonymous_id": device,
        "session_id": f"api-test-session-{device}",
        "platform": "web",
        "page_path": "/mortgages/rates",
        "page_category": "rates",
        "product_topic": "mortgage",
        **fields,
    }


def _served_copy(world: DataPaths, tmp_path) -> DataPaths:
    """A copy of the world whose warehouse a test may change, serving the world's snapshot."""
    paths = copy_world(world, tmp_path / "world")
    (paths.root / "serving").symlink_to(world.root / "serving")
    return paths


def _quiet_key(paths: DataPaths) -> str:
    """A customer the batch decided no contact for, from the end of the key order: deciding
    them changes no caps, and not the customers the agreement test below checks."""
    plan = _batch_plan(paths)
    contacted = set(plan.loc[plan["action"] == "contact", "customer_key"])
    return max(k for k in plan["customer_key"] if k not in contacted)


def test_keys_are_required_and_checked(server: Server) -> None:
    key = _quiet_key(server.paths)
    assert _decision(server, key=None, customer_key=key, placement="web_home")[0] == 401
    assert _decision(server, key="not-a-key", customer_key=key, placement="web_home")[0] == 403
    assert _decision(server, customer_key=key, placement="web_home")[0] in (200, 204)
    assert server.request("/v1/noop", key=None)[0] == 401
    assert server.request("/v1/noop")[0] == 200


def test_operations_routes(server: Server) -> None:
    assert json.loads(server.request("/healthz", key=None)[2]) == {"status": "ok"}
    ready = json.loads(server.request("/readyz", key=None)[2])
    assert ready["snapshot_id"] == latest_snapshot_id(server.paths.root)
    openapi = json.loads(server.request("/openapi.json", key=None)[2])
    assert {"/v1/decisions", "/v1/events"} <= set(openapi["paths"])
    assert server.request("/docs", key=None)[0] == 200
    server.request("/v1/noop")
    metrics = server.request("/metrics", key=None)[2].decode()
    assert 'journey_requests_total{route="/v1/noop",status="200"}' in metrics
    assert "journey_request_duration_ms_bucket" in metrics


def test_bad_queries_are_422_and_unknown_ids_404(server: Server) -> None:
    key = _quiet_key(server.paths)
    assert _decision(server, customer_key=key, placement="front_page")[0] == 422
    assert _decision(server, customer_key=key)[0] == 422  # no placement
    assert _decision(server, placement="web_home")[0] == 422  # no id
    assert _decision(server, customer_key=key, device_id="d", placement="web_home")[0] == 422
    assert _decision(server, customer_key="ck_nobody", placement="web_home")[0] == 404
    assert _decision(server, device_id="no-such-device", placement="app_home")[0] == 404
    big = server.request("/v1/events", body=[{"event_id": "x" * 300_000}], method="POST")
    assert big[0] == 413


def test_answers_are_the_batch_decisions_for_the_same_inputs(server: Server) -> None:
    """The API decides one customer at a time with the batch's function and evidence; the
    batch deciding everyone at the API's instant (learning its evidence itself) agrees: the
    site shows what the batch would, and nothing where it would show nothing."""
    snapshot = load_snapshot(server.paths.root, latest_snapshot_id(server.paths.root))
    now = datetime.fromisoformat(json.loads(server.request("/readyz", key=None)[2])["now"])
    batch, _ = decide_with_evidence(
        replace(snapshot.inputs, now=now, evidence=None), snapshot.config
    )
    web = batch[batch["action"] == "web"].sort_values("customer_key").head(15)
    assert len(web) == 15
    for row in web.itertuples():
        status, _, body = _decision(server, customer_key=row.customer_key, placement="web_home")
        assert status == 200
        assert body["decision_id"] == row.decision_id
        assert body["offer"]["id"] == row.offer_id
        assert body["policy_hash"] == row.policy_hash == snapshot.config.policy_hash
        assert body["models"]["offer"] == row.offer_model
        assert all(isinstance(r, str) and "_" not in r for r in body["reasons"])
        assert not re.search(EMAIL_PATTERN, json.dumps(body))  # no email anywhere
    shown = set(batch.loc[batch["action"].isin(["web", "control"]), "customer_key"])
    idle = batch[(batch["action"] == "no_action") & ~batch["customer_key"].isin(shown)].head(10)
    assert len(idle) == 10
    for row in idle.itertuples():
        status, headers, _ = _decision(server, customer_key=row.customer_key, placement="web_home")
        assert status == 204
        assert headers["x-decision-reason"] == row.explanation


@functools.cache
def _mortgage_candidate(paths: DataPaths) -> tuple[str, str]:
    """A device of a customer eligible for the mortgage offer whom the site shows nothing now,
    and for whom a session of mortgage pages tips the offer over ``min_priority`` (checked
    in-process with the same decider; the tests check the server does it over HTTP)."""
    snapshot = load_snapshot(paths.root, latest_snapshot_id(paths.root))
    decider = Decider(snapshot)
    customers = snapshot.inputs.customers.set_index("customer_key")
    scores = snapshot.inputs.offer_scores
    mortgage = scores[scores["subject"] == "mortgage"].set_index("customer_key")["score"]
    by_device = {c: d for d, c in snapshot.devices.items()}
    idle = [
        k
        for k in by_device
        if decider.answer(k).web is None
        and decider.answer(k).reason == "nothing clears min_priority"
        and customers.loc[k, "holds_mortgage"] == 0
    ]
    now = decider.now().isoformat()
    for key in sorted(idle, key=lambda k: -mortgage.get(k, 0.0)):
        session = Session()
        session.add([check_event(e)[0] for e in _session_events(by_device[key], now)])
        web = decider.redecide(key, session).web
        if web is not None and web["offer_id"] == "mortgage_rates":
            return key, by_device[key]
    raise AssertionError("no customer in this world would be shown the mortgage offer")


def _session_events(device: str, now: str) -> list[dict]:
    return [_event(device, now, 0), _event(device, now, 1, page_category="calculator")]


def test_a_mortgage_page_view_features_the_mortgage_calculator_within_a_second(
    server: Server,
) -> None:
    customer, device = _mortgage_candidate(server.paths)
    assert _decision(server, device_id=device, placement="web_home")[0] == 204
    now = json.loads(server.request("/readyz", key=None)[2])["now"]
    events = _session_events(device, now)
    invalid = [
        {**_event(device, now, 2), "event_type": "scroll"},
        {k: v for k, v in _event(device, now, 3).items() if k != "session_id"},
        {**_event(device, now, 4), "shoe_size": "9"},
        {**_event(device, now, 5), "event_ts": "yesterday"},
    ]
    started = time.perf_counter()
    status, _, body = server.request("/v1/events", body=events + invalid, method="POST")
    assert status == 200
    answer = json.loads(body)
    assert answer["accepted"] == 2 and answer["customers_updated"] == 1
    assert [(r["index"], r["field"]) for r in answer["rejected"]] == [
        (2, "event_type"),
        (3, "session_id"),
        (4, "shoe_size"),
        (5, "event_ts"),
    ]
    status, _, offer = _decision(server, device_id=device, placement="web_home")
    elapsed = time.perf_counter() - started
    assert status == 200, "the session's page view did not change the decision"
    assert offer["offer"]["id"] == "mortgage_rates"
    assert offer["offer"]["tool"] == "mortgage calculator"
    assert "rates" in offer["context"]["pages_viewed"]
    assert elapsed < 1.0
    # The same customer by key sees the same session.
    by_key = _decision(server, customer_key=customer, placement="app_home")[2]
    assert by_key["decision_id"] == offer["decision_id"]


def test_an_answered_event_survives_a_killed_server_and_loads_once(
    decided_world: DataPaths, tmp_path
) -> None:
    paths = _served_copy(decided_world, tmp_path)
    server = start_server(paths)
    try:
        _, device = _mortgage_candidate(paths)
        now = json.loads(server.request("/readyz", key=None)[2])["now"]
        events = [_event(device, now, i) | {"event_id": f"kill-{i}"} for i in range(3)]
        assert (
            json.loads(server.request("/v1/events", body=events, method="POST")[2])["accepted"] == 3
        )
    finally:
        server.process.kill()  # no shutdown: whatever was not on disk is gone
        server.process.wait()
    assert len(list(landing_folder(paths.landing).glob("*.jsonl"))) == 1
    with connect(paths.warehouse) as conn:
        for _ in range(2):  # a second ingest finds nothing new
            load_source(conn, WEB_EVENTS, paths.landing, f"test-{_}")
        loaded = conn.execute(
            "SELECT event_id, count(*) FROM raw.web__events WHERE event_id LIKE 'kill-%' "
            "GROUP BY 1 ORDER BY 1"
        ).fetchall()
        ts = conn.execute(
            "SELECT min(event_ts) FROM raw.web__events WHERE event_id LIKE 'kill-%'"
        ).fetchone()[0]
    assert loaded == [("kill-0", 1), ("kill-1", 1), ("kill-2", 1)]
    assert ts == datetime.fromisoformat(now).replace(tzinfo=None)


def test_answers_reach_next_best_actions_once_and_contacts_are_queued(
    decided_world: DataPaths, tmp_path
) -> None:
    paths = _served_copy(decided_world, tmp_path)
    plan = _batch_plan(paths)
    keys = list(plan.loc[plan["action"] == "contact", "customer_key"].head(8))
    server = start_server(paths)
    try:
        for key in keys:
            assert _decision(server, customer_key=key, placement="web_home")[0] in (200, 204)
    finally:
        stop_server(server)
    log = next((paths.root / "decision_log" / "api").glob("*.jsonl"))
    rows = [json.loads(line) for line in log.read_text().splitlines()]
    assert {r["customer_key"] for r in rows} == set(keys)
    with connect(paths.warehouse) as conn:
        first = ingest_decision_log(conn, paths.root)
        again = ingest_decision_log(conn, paths.root)
        queued = enqueue(conn, datetime(2030, 1, 1), "test")
        stored = conn.execute(
            f"SELECT decision_id, action, decision_run_id FROM {ACTIONS_TABLE} "
            "WHERE decision_run_id LIKE 'api:%'"
        ).df()
        in_outbox = conn.execute(
            "SELECT count(*) FROM activation.outbox WHERE decision_id IN "
            f"(SELECT decision_id FROM {ACTIONS_TABLE} WHERE decision_run_id LIKE 'api:%' "
            "AND action = 'contact')"
        ).fetchone()[0]
    # The API decides on its own day (after the batch's), so its rows are new decisions.
    assert first.new == len(rows) == len(stored) and again.rows == again.new == 0
    contacts = sum(r["action"] == "contact" for r in rows)
    assert contacts > 0 and in_outbox == contacts and queued >= contacts
