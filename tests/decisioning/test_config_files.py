"""Marketing's YAML cannot be subverted: repeated keys, impossible dates, times YAML reads as
numbers and endpoints an adapter must not use are errors naming the file, the line, the key path
and the value, and the shipped config still loads."""

from __future__ import annotations

import re
import shutil
from datetime import date, time
from pathlib import Path

import pytest

from dagster_project.decisioning.config import (
    CHANNELS_FILE,
    OFFERS_FILE,
    ConfigError,
    MarketingConfig,
    load_marketing_config,
)
from dagster_project.settings import REPO_ROOT

EMAIL_BLOCK = """email:
  adapter: local_sink
  endpoint: email
  sender: offers@bank.example
  caps: [{max: 2, days: 7}]
  quiet_hours: {start: "21:00", end: "08:00"}
  optimise_send_time: false
"""


def config_copy(tmp_path: Path) -> Path:
    folder = tmp_path / "config"
    shutil.copytree(REPO_ROOT / "config", folder)
    return folder


def edit(folder: Path, file: str, old: str, new: str) -> Path:
    """Replace ``old`` (which must be there, once) with ``new`` in one file, as marketing would."""
    path = folder / file
    text = path.read_text()
    assert text.count(old) == 1, old
    path.write_text(text.replace(old, new))
    return path


def line_of(path: Path, text: str, occurrence: int = 1) -> int:
    """1-based line of the ``occurrence``-th line starting (after indent) with ``text``."""
    hits = [
        i
        for i, line in enumerate(path.read_text().splitlines(), 1)
        if line.strip().startswith(text)
    ]
    return hits[occurrence - 1]


def load_error(folder: Path) -> str:
    with pytest.raises(ConfigError) as raised:
        load_marketing_config(folder)
    return str(raised.value)


def test_the_shipped_config_loads_with_its_dates_and_times() -> None:
    config = load_marketing_config(REPO_ROOT / "config")
    assert config.offers.offers[0].starts == date(2026, 1, 1)
    assert config.channels.email.quiet_hours.start == time(21, 0)
    assert config.channels.email.endpoint == "email"


@pytest.mark.parametrize(
    ("file", "old", "new", "key_path", "second"),
    [
        # A second email block re-routing email to another endpoint (case 1 of the prober).
        (
            CHANNELS_FILE,
            "# The site and app",
            "email:\n  adapter: webhook\n  endpoint: https://elsewhere.example/in\n"
            "# The site and app",
            "email",
            "endpoint: https://elsewhere",
        ),
        # The same key twice inside one channel...
        (
            CHANNELS_FILE,
            "  endpoint: sms\n",
            "  endpoint: sms\n  endpoint: ../../../tmp\n",
            "sms.endpoint",
            "endpoint: ../../../tmp",
        ),
        # ...inside a list item...
        (
            OFFERS_FILE,
            "    value: 2400\n",
            "    value: 2400\n    value: 999999\n",
            "offers[0].value",
            "value: 999999",
        ),
        # ...and in a flow mapping deeper down.
        (
            OFFERS_FILE,
            "        - {field: holds_mortgage, op: eq, value: 0}",
            "        - {field: holds_mortgage, op: eq, value: 0, op: ne}",
            "offers[0].eligibility.all[0].op",
            "- {field: holds_mortgage",
        ),
    ],
)
def test_a_repeated_key_at_any_depth_is_an_error_naming_file_line_and_key(
    tmp_path: Path, file: str, old: str, new: str, key_path: str, second: str
) -> None:
    folder = config_copy(tmp_path)
    path = edit(folder, file, old, new)
    message = load_error(folder)
    repeated = key_path.rsplit(".", 1)[-1]
    line = line_of(path, second)
    if key_path == "email":  # the second block's key is the line above its endpoint
        line -= 2
    assert message.startswith(f"{path}:{line}: {key_path}: duplicate key {repeated!r}")
    assert re.search(r"first given at line \d+", message)


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        ("2026-02-30", "2026-02-30 is not a real date (value: '2026-02-30')"),  # YAML-native
        ('"2026-02-30"', "2026-02-30 is not a real date (value: '2026-02-30')"),  # quoted
        ("20261231", "a date must be a real date written YYYY-MM-DD"),  # an int
        ('"31/12/2026"', "a date must be a real date written YYYY-MM-DD"),
        ("2026-12-31 18:00:00", "a date must be YYYY-MM-DD, without a time of day"),
    ],
)
def test_a_date_must_be_a_real_iso_date(tmp_path: Path, written: str, expected: str) -> None:
    folder = config_copy(tmp_path)
    path = edit(
        folder,
        OFFERS_FILE,
        "    ends: 2026-12-31\n    advisor_task",
        f"    ends: {written}\n    advisor_task",
    )
    message = load_error(folder)
    assert message.startswith(f"{path}:{line_of(path, 'ends:')}: offers[0].ends: ")
    assert expected in message
    assert "\n" not in message  # one problem, reported once


def test_quoted_and_yaml_native_dates_both_load(tmp_path: Path) -> None:
    folder = config_copy(tmp_path)
    edit(
        folder,
        OFFERS_FILE,
        "    ends: 2026-12-31\n    advisor_task",
        '    ends: "2026-06-30"\n    advisor_task',
    )
    offers = load_marketing_config(folder).offers.offers
    assert offers[0].ends == date(2026, 6, 30)
    assert offers[1].ends == date(2026, 12, 31)


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        # Unquoted 2100 is the YAML int 2100, which pydantic read as 2100 s after midnight.
        ("2100", 'YAML reads the unquoted 2100 as a number, so quote it: "21:00" (value: 2100)'),
        ("930", 'quote it: "09:30" (value: 930)'),
        ("21.5", "YAML reads the unquoted 21.5 as a number"),
        ('"25:00"', 'a time must be a quoted "HH:MM" string from "00:00" to "23:59"'),
        ('"21:00+02:00"', 'a time must be a quoted "HH:MM" string'),  # no zone: local time
        ('"9:00"', 'a time must be a quoted "HH:MM" string'),
    ],
)
def test_a_time_must_be_a_quoted_hh_mm(tmp_path: Path, written: str, expected: str) -> None:
    folder = config_copy(tmp_path)
    path = edit(
        folder, CHANNELS_FILE, 'quiet_hours: {start: "20:00"', f"quiet_hours: {{start: {written}"
    )
    message = load_error(folder)
    assert message.startswith(f"{path}:{line_of(path, 'quiet_hours: {start: ' + written)}: ")
    assert "sms.quiet_hours.start: " in message
    assert expected in message


def test_numbers_with_colons_are_never_read_as_base_60(tmp_path: Path) -> None:
    """YAML 1.1 reads 1:30 as 90; this loader keeps it as the text written, which a number field
    rejects and a time field reads as the time it says."""
    folder = config_copy(tmp_path)
    edit(folder, "contact_policy.yaml", "min_gap_hours: 24 ", "min_gap_hours: 1:30 ")
    assert "min_gap_hours: Input should be a valid number" in load_error(folder)
    assert "(value: '1:30')" in load_error(folder)


def test_times_round_trip_through_the_serving_snapshot_form() -> None:
    config = load_marketing_config(REPO_ROOT / "config")
    dumped = config.model_dump(mode="json")
    assert dumped["channels"]["email"]["quiet_hours"] == {"start": "21:00", "end": "08:00"}
    assert MarketingConfig.model_validate(dumped) == config


def _channel(adapter: str, endpoint: str, extra: str = "") -> str:
    return EMAIL_BLOCK.replace("local_sink", adapter).replace(
        "endpoint: email", f'endpoint: "{endpoint}"{extra}'
    )


@pytest.mark.parametrize(
    ("adapter", "endpoint", "extra", "expected"),
    [
        ("webhook", "file:///etc/passwd", "", "a webhook endpoint must be an https:// URL"),
        ("webhook", "not a url", "", "a webhook endpoint must be an https:// URL"),
        ("webhook", "ftp://hooks.example/in", "", "a webhook endpoint must be an https:// URL"),
        ("webhook", "http://hooks.example/in", "", "plain http:// is allowed only to a loopback"),
        ("webhook", "http://localhost.evil.example/", "", "only to a loopback"),
        ("webhook", "https://user:pw@hooks.example/", "", "must not carry credentials"),
        ("webhook", "https:///in", "", "a webhook URL must name a host"),
        ("webhook", "https://hooks.example:0/in", "", "port 0 is not between 1 and 65535"),
        ("webhook", "https://hooks.example/a b", "", "must not contain spaces"),
        ("smtp", "smtp.bank.example", "", "an SMTP endpoint must be host:port"),
        ("smtp", "smtp.bank.example:70000", "", "port 70000 is not between 1 and 65535"),
        ("smtp", "smtp.bank.example:25x", "", "an SMTP endpoint must be host:port"),
        ("smtp", "smtp bank:25", "", "an SMTP endpoint must be host:port"),
    ],
)
def test_an_endpoint_its_adapter_must_not_use_is_an_error(
    tmp_path: Path, adapter: str, endpoint: str, extra: str, expected: str
) -> None:
    folder = config_copy(tmp_path)
    path = edit(folder, CHANNELS_FILE, EMAIL_BLOCK, _channel(adapter, endpoint, extra))
    message = load_error(folder)
    assert message.startswith(f"{path}:{line_of(path, 'endpoint:')}: email.endpoint: ")
    assert expected in message
    assert message.endswith(f"(value: {endpoint!r})")


@pytest.mark.parametrize(
    ("adapter", "endpoint", "extra"),
    [
        ("webhook", "https://hooks.bank.example/push", ""),
        ("webhook", "http://127.0.0.1:8080/in", ""),
        ("webhook", "http://127.10.0.3/in", ""),
        ("webhook", "http://[::1]:8080/in", ""),
        ("webhook", "http://localhost/in", ""),
        ("webhook", "http://hooks.lan/in", "\n  allow_insecure_http: true"),
        ("smtp", "smtp.bank.example:587", ""),
        ("smtp", "[::1]:25", ""),
        ("smtp", "mail_relay:25", ""),  # a container's service name
        ("smtp", "smtp.bank.example.:587", ""),  # a fully qualified name
    ],
)
def test_an_endpoint_its_adapter_may_use_loads(
    tmp_path: Path, adapter: str, endpoint: str, extra: str
) -> None:
    folder = config_copy(tmp_path)
    edit(folder, CHANNELS_FILE, EMAIL_BLOCK, _channel(adapter, endpoint, extra))
    email = load_marketing_config(folder).channels.email
    assert (email.adapter, email.endpoint) == (adapter, endpoint)


@pytest.mark.parametrize("flag", ['"true"', "yes_please", "1"])
def test_allow_insecure_http_must_be_a_yaml_boolean(tmp_path: Path, flag: str) -> None:
    folder = config_copy(tmp_path)
    block = _channel("webhook", "http://hooks.lan/in", f"\n  allow_insecure_http: {flag}")
    path = edit(folder, CHANNELS_FILE, EMAIL_BLOCK, block)
    message = load_error(folder)
    assert f"{path}:{line_of(path, 'allow_insecure_http')}: email.allow_insecure_http: " in message


def test_a_sender_cannot_smuggle_a_header(tmp_path: Path) -> None:
    folder = config_copy(tmp_path)
    path = edit(
        folder, CHANNELS_FILE, "sender: offers@bank.example", 'sender: "a@b.example\\nBcc: x@y"'
    )
    message = load_error(folder)
    assert message.startswith(f"{path}:{line_of(path, 'sender:')}: email.sender: ")
    assert re.search(r"\(value: 'a@b\.example\\nBcc: x@y'\)$", message)


def test_a_sender_may_have_a_display_name(tmp_path: Path) -> None:
    folder = config_copy(tmp_path)
    edit(
        folder, CHANNELS_FILE, "sender: offers@bank.example", 'sender: "Bank <offers@bank.example>"'
    )
    assert load_marketing_config(folder).channels.email.sender == "Bank <offers@bank.example>"
