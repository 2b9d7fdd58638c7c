"""In-session context: what a web or app event just seen adds to its customer's decision row.

The batch counts interactions into ``marts.customer_features`` (dbt macro
``customer_features``) strictly before the row's ``as_of``; an event the API receives is at or
after it, so it is not counted yet. Until ingestion and the next batch count it, the session adds
it to the row the same way the macro will: one more interaction on its channel (web, or app for
the ios and android platforms) and days since it 0; a product topic is one more sign of intent
for that product in the 7, 30 and 90 day windows; a calculator submit is one more in 30 days;
the page category joins the pages the template receives. Events before ``as_of`` (already
counted) and repeated event ids change nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

import numpy as np
import pandas as pd

INTENT_WINDOWS = (7, 30, 90)
RECENT_PAGES = 5  # as many as the batch's decision rows carry


def event_channel(platform: str | None) -> str:
    return "app" if platform in ("ios", "android") else "web"


def _naive_utc(at: datetime | pd.Timestamp) -> pd.Timestamp:
    stamp = pd.Timestamp(at)
    return stamp.tz_convert(UTC).tz_localize(None) if stamp.tzinfo else stamp


def apply_event(row: dict, event: Mapping[str, object]) -> bool:
    """Add one validated event (the web/events contract's fields, ``event_ts`` a datetime) to a
    decision row in place; False when the row already counts it (before ``as_of``)."""
    as_of = row.get("as_of")
    known = as_of is not None and not pd.isna(as_of)
    if known and _naive_utc(event["event_ts"]) < _naive_utc(as_of):  # type: ignore[arg-type]
        return False
    channel = event_channel(event.get("platform"))  # type: ignore[arg-type]
    _add(row, f"{channel}_interactions_30d")
    for name in (f"days_since_{channel}", "days_since_last_interaction"):
        if name in row:
            row[name] = 0
    topic = event.get("product_topic")
    if topic:
        for window in INTENT_WINDOWS:
            _add(row, f"{topic}_intent_{window}d")
    if event.get("event_type") == "calculator_submit":
        _add(row, "calculator_submits_30d")
    page = event.get("page_category")
    if page and "recent_pages" in row:
        pages = [str(p) for p in _as_list(row["recent_pages"])]
        if page not in pages:
            row["recent_pages"] = sorted([*pages, str(page)])[:RECENT_PAGES]
    return True


def _add(row: dict, column: str) -> None:
    if column in row:
        value = row[column]
        row[column] = (0 if value is None or pd.isna(value) else value) + 1


def _as_list(value: object) -> list:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return []
    return list(value)  # type: ignore[call-overload]


@dataclass
class Session:
    """One customer's events since the snapshot, kept to replay on the next snapshot."""

    events: dict[str, dict] = field(default_factory=dict)  # event_id -> event

    def add(self, events: Iterable[dict]) -> int:
        """Returns how many were new."""
        new = 0
        for event in events:
            if event["event_id"] not in self.events:
                self.events[event["event_id"]] = event
                new += 1
        return new

    def applied_to(self, row: dict) -> tuple[dict, int]:
        """A copy of ``row`` with every event not yet counted; and how many were."""
        updated = dict(row)
        counted = 0
        for event in sorted(self.events.values(), key=lambda e: e["event_ts"]):
            counted += apply_event(updated, event)
        return updated, counted
