"""Posted web events: checked against the ``web/events`` landing contract, then landed durably.

Each event is a JSON object with the contract's fields; one that breaks it (a required field
missing, a value of the wrong type or outside the allowed ones, an unknown field) is rejected
with the field named, and the others are kept. The kept ones are written as one JSONL file
under ``landing/web/events/api/``: written under a dot-name (ingestion skips those), flushed
and fsynced, then renamed into place and the folder fsynced, all before the API answers. So an
answered event survives the server being killed, and ingestion loads it once (its file is
recorded when loaded, and its ``event_id`` is the contract's key).
"""

from __future__ import annotations

import json
import os
import re
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from ..ingest.contracts import WEB_EVENTS, FieldType, Format
from ..ingest.validation import EMAIL_PATTERN

API_SUBDIR = "api"
MAX_TEXT = 2048  # characters of any one value
_FIELDS = {f.name: f for f in WEB_EVENTS.fields}


@dataclass(frozen=True)
class Rejected:
    index: int
    field: str
    error: str


def _timestamp(value: str) -> datetime:
    at = datetime.fromisoformat(value)
    return (at if at.tzinfo else at.replace(tzinfo=UTC)).astimezone(UTC)


def check_event(event: object) -> tuple[dict | None, tuple[str, str] | None]:
    """(the event with ``event_ts`` as a UTC datetime, None) or (None, (field, why))."""
    if not isinstance(event, dict):
        return None, ("(event)", "must be a JSON object")
    for name in event:
        if name not in _FIELDS:
            return None, (str(name)[:80], "not a field of the web/events contract")
    kept: dict = {}
    for name, spec in _FIELDS.items():
        value = event.get(name)
        if value is None or value == "":
            if spec.required:
                return None, (name, "required")
            kept[name] = None
            continue
        if not isinstance(value, str):
            return None, (name, "must be a string")
        if len(value) > MAX_TEXT:
            return None, (name, f"longer than {MAX_TEXT} characters")
        if spec.type is FieldType.TIMESTAMP:
            try:
                kept[name] = _timestamp(value)
            except ValueError:
                return None, (name, "must be an ISO timestamp")
            continue
        if spec.allowed and value not in spec.allowed:
            return None, (name, f"must be one of {', '.join(spec.allowed)}")
        if spec.format is Format.EMAIL and not re.fullmatch(EMAIL_PATTERN, value):
            return None, (name, "must be an email address")
        kept[name] = value
    return kept, None


def check_events(events: list) -> tuple[list[dict], list[Rejected]]:
    kept, rejected = [], []
    for index, event in enumerate(events):
        good, problem = check_event(event)
        if good is not None:
            kept.append(good)
        else:
            assert problem is not None
            rejected.append(Rejected(index, *problem))
    return kept, rejected


def landing_folder(landing_root: Path) -> Path:
    return landing_root / WEB_EVENTS.landing_subdir / API_SUBDIR


def land_events(landing_root: Path, events: list[dict]) -> Path:
    """Write the events as one JSONL file, durably, before returning its path."""
    folder = landing_folder(landing_root)
    folder.mkdir(parents=True, exist_ok=True)
    name = f"web_events_api_{datetime.now(UTC):%Y%m%dT%H%M%S%f}_{uuid.uuid4().hex[:8]}.jsonl"
    partial, final = folder / f".{name}.partial", folder / name
    lines = "".join(
        json.dumps({**e, "event_ts": e["event_ts"].isoformat()}, sort_keys=True) + "\n"
        for e in events
    )
    with partial.open("w", encoding="utf-8") as handle:
        handle.write(lines)
        handle.flush()
        os.fsync(handle.fileno())
    partial.replace(final)
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
    return final
