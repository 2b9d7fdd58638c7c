"""Config that cannot subvert delivery: a webhook never follows a redirect (nor takes its
Authorization header elsewhere), endpoints an adapter must not use are refused before any outbox
row is claimed, and a row whose adapter fails in any way leaves ``sending`` with the reason."""

from __future__ import annotations

import shutil
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from dagster_project.activation.adapters import WebhookAdapter
from dagster_project.activation.assets import deliveries
from dagster_project.activation.dispatcher import build_adapters, dispatch
from dagster_project.activation.outbox import RetryPolicy, enqueue
from dagster_project.decisioning.config import (
    CHANNELS_FILE,
    ConfigError,
    OutboundChannel,
    load_marketing_config,
)
from dagster_project.settings import REPO_ROOT
from dagster_project.warehouse import connect
from tests.activation.conftest import CUSTOMERS, NOW, make_warehouse
from tests.activation.test_dispatch import local, log, states
from tests.factories import materialize


class Recorder:
    """A real HTTP server that records every request, whatever its method, and answers
    ``status`` (with ``location`` as the Location header, when given)."""

    def __init__(self, status: int = 200, location: str | None = None) -> None:
        self.status, self.location = status, location
        self.requests: list[dict] = []
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                recorder.requests.append(
                    {
                        "method": self.command,
                        "auth": self.headers.get("Authorization"),
                        "body": self.rfile.read(length),
                    }
                )
                self.send_response(recorder.status)
                if recorder.location:
                    self.send_header("Location", recorder.location)
                self.send_header("Content-Length", "0")
                self.end_headers()

            do_GET = do_POST = do_PUT = do_HEAD = _answer

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/deliver"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def servers() -> Iterator[list[Recorder]]:
    started: list[Recorder] = []
    yield started
    for server in started:
        server.close()


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_a_webhook_redirect_is_a_failure_and_the_other_host_gets_nothing(
    tmp_path: Path, servers: list[Recorder], monkeypatch: pytest.MonkeyPatch, status: int
) -> None:
    monkeypatch.setenv("PUSH_TOKEN", "Bearer s3cret")
    elsewhere = Recorder()
    redirecting = Recorder(status, location=elsewhere.url)
    servers += [elsewhere, redirecting]
    warehouse = make_warehouse(tmp_path, {CUSTOMERS[0]: "push"})
    adapters = local(tmp_path) | {"push": WebhookAdapter(redirecting.url, "PUSH_TOKEN")}
    retry = RetryPolicy(max_attempts=2, first_delay_s=0)
    decision = f"d-{CUSTOMERS[0]}-contact"
    with connect(warehouse) as conn:
        dispatch(conn, adapters, NOW, "run-1", retry)
        assert states(conn)[decision] == "failed"  # retried, per the retry policy...
        (error,) = conn.execute(
            "SELECT last_error FROM activation.outbox WHERE decision_id = ?", [decision]
        ).fetchone()
        dispatch(conn, adapters, NOW, "run-2", retry)
    assert states(warehouse)[decision] == "dead_letter"  # ...then dead-lettered
    assert f"HTTP {status}" in error and "redirects are not followed" in error
    assert elsewhere.requests == []  # nothing, and no Authorization, reached the other host
    assert [r["method"] for r in redirecting.requests] == ["POST", "POST"]
    assert {r["auth"] for r in redirecting.requests} == {"Bearer s3cret"}
    assert "delivered" not in log(warehouse, decision)


@pytest.mark.parametrize(
    "url", ["file:///etc/passwd", "not a url", "ftp://127.0.0.1/x", "http://hooks.example/in"]
)
def test_a_webhook_adapter_refuses_a_url_it_must_not_use(url: str) -> None:
    with pytest.raises(ValueError, match=r"webhook endpoint must be an https|loopback"):
        WebhookAdapter(url)


def test_plain_http_beyond_loopback_needs_the_explicit_flag() -> None:
    assert WebhookAdapter("http://hooks.lan/in", allow_insecure_http=True).url == (
        "http://hooks.lan/in"
    )


def _channels_with(tmp_path: Path, old: str, new: str) -> Path:
    folder = tmp_path / "config"
    shutil.copytree(REPO_ROOT / "config", folder)
    path = folder / CHANNELS_FILE
    text = path.read_text()
    assert text.count(old) == 1
    path.write_text(text.replace(old, new))
    return folder


@pytest.mark.parametrize("endpoint", ["../../..", "/etc", "../landing", ".", "a/../../x"])
def test_a_local_sink_outside_the_outbox_is_refused_naming_file_key_and_value(
    tmp_path: Path, endpoint: str
) -> None:
    folder = _channels_with(tmp_path, "endpoint: sms\n", f'endpoint: "{endpoint}"\n')
    channels = load_marketing_config(folder).channels  # the data dir is not known here...
    with pytest.raises(ConfigError) as raised:  # ...it is where the adapters are built
        build_adapters(channels, tmp_path / "data" / "outbox", folder / CHANNELS_FILE)
    message = str(raised.value)
    assert message.startswith(f"{folder / CHANNELS_FILE}: sms.endpoint: a local sink must be ")
    assert f"inside {(tmp_path / 'data' / 'outbox').resolve()}" in message
    assert message.endswith(f"(value: {endpoint!r})")


def test_a_local_sink_inside_the_outbox_is_built_there(tmp_path: Path) -> None:
    channels = load_marketing_config(REPO_ROOT / "config").channels
    adapters = build_adapters(channels, tmp_path / "outbox")
    assert adapters["sms"].folder == (tmp_path / "outbox" / "sms").resolve()


def _outbox(warehouse: Path) -> list[tuple[str, str, int]]:
    with connect(warehouse, read_only=True) as conn:
        return conn.execute(
            "SELECT decision_id, state, attempts FROM activation.outbox ORDER BY 1"
        ).fetchall()


@pytest.mark.slow
@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (
            "adapter: local_sink\n  endpoint: push",
            'adapter: webhook\n  endpoint: "not a url"',
            "push.endpoint: a webhook endpoint must be an https:// URL (value: 'not a url')",
        ),
        (
            "adapter: local_sink\n  endpoint: push",
            "adapter: webhook\n  endpoint: file:///etc/passwd",
            "push.endpoint: a webhook endpoint must be an https:// URL "
            "(value: 'file:///etc/passwd')",
        ),
        (
            "endpoint: push\n",
            'endpoint: "../../.."\n',
            "push.endpoint: a local sink must be a folder inside",
        ),
        (
            'quiet_hours: {start: "21:00", end: "08:00"}\n  optimise_send_time: false\n# The',
            'quiet_hours: {start: 2100, end: "08:00"}\n  optimise_send_time: false\n# The',
            'push.quiet_hours.start: a time must be a quoted "HH:MM" string',
        ),
    ],
)
def test_an_invalid_config_fails_the_dispatch_before_any_row_is_claimed(
    tmp_path: Path, old: str, new: str, expected: str
) -> None:
    root = tmp_path / "data"
    root.mkdir()
    warehouse = make_warehouse(root, dict.fromkeys(CUSTOMERS[:4], "push"))
    with connect(warehouse) as conn:
        queued = enqueue(conn, NOW, "decide-run")
    before = _outbox(warehouse)
    assert {state for _, state, _ in before} == {"queued"} and len(before) == queued
    folder = _channels_with(tmp_path, old, new)
    run_config = {"ops": {"activation__deliveries": {"config": {"dispatch_at": NOW.isoformat()}}}}
    failed = materialize(root, [deliveries], run_config, config_dir=folder)
    assert not failed.success
    message = failed.get_step_failure_events()[0].step_failure_data.user_failure_data.description
    assert message.startswith("Invalid marketing config; nothing was sent.")
    assert str(folder / CHANNELS_FILE) in message and expected in message
    assert _outbox(warehouse) == before  # nothing claimed, nothing marked sent
    assert not (root / "outbox").exists()
    # Mended, the same rows go out at their first attempt: nothing was left stuck in sending.
    adapters = build_adapters(load_marketing_config(REPO_ROOT / "config").channels, root / "outbox")
    with connect(warehouse) as conn:
        dispatch(conn, adapters, NOW, "mended")
    assert {(state, attempts) for _, state, attempts in _outbox(warehouse)} == {("delivered", 1)}


class Broken:
    """An adapter with a bug: it raises something that is not a DeliveryError."""

    def deliver(self, message: object) -> str:
        raise RuntimeError("adapter bug")


@pytest.mark.parametrize(
    ("adapters", "reason"),
    [
        ({"push": Broken()}, "RuntimeError: adapter bug"),
        ({}, "no adapter for channel push"),  # a channel with no adapter at all
    ],
)
def test_a_row_whose_adapter_fails_otherwise_leaves_sending_with_the_reason(
    tmp_path: Path, adapters: dict, reason: str
) -> None:
    warehouse = make_warehouse(tmp_path, dict.fromkeys(CUSTOMERS[:3], "push"))
    retry = RetryPolicy(max_attempts=2, first_delay_s=0)
    contacts = {f"d-{k}-contact" for k in CUSTOMERS[:3]}
    adapters = {n: a for n, a in local(tmp_path).items() if n != "push"} | adapters
    with connect(warehouse) as conn:
        report = dispatch(conn, adapters, NOW, "run-1", retry)
        assert report.states == {"failed": 3, "delivered": 4}  # 3 pushes; 3 web, 1 advisor
        errors = dict(
            conn.execute("SELECT decision_id, last_error FROM activation.outbox").fetchall()
        )
        assert {errors[d] for d in contacts} == {reason}
        dispatch(conn, adapters, NOW, "run-2", retry)
    final = states(warehouse)
    assert {final[d] for d in contacts} == {"dead_letter"}
    assert "sending" not in final.values()


def test_a_local_sink_that_cannot_write_is_a_retryable_delivery_failure(tmp_path: Path) -> None:
    warehouse = make_warehouse(tmp_path, {CUSTOMERS[0]: "sms"})
    blocked = tmp_path / "sinks" / "sms"
    blocked.parent.mkdir(parents=True)
    blocked.write_text("a file where the sink's folder should be")
    with connect(warehouse) as conn:
        dispatch(conn, local(tmp_path), NOW, "run-1", RetryPolicy(first_delay_s=0))
        (state, error) = conn.execute(
            "SELECT state, last_error FROM activation.outbox WHERE decision_id = ?",
            [f"d-{CUSTOMERS[0]}-contact"],
        ).fetchone()
    assert state == "failed"
    assert error.startswith(f"local sink {blocked}: ")


def test_a_channel_built_in_python_is_checked_like_the_yaml() -> None:
    with pytest.raises(ValueError, match="adapter smtp needs an endpoint"):
        OutboundChannel(adapter="smtp")
    with pytest.raises(ValueError, match="an SMTP endpoint must be host:port"):
        OutboundChannel(adapter="smtp", endpoint="not a url")
