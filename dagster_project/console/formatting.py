"""Numbers as people read them: "5.5%", "+1.2 pp", "12,345", "Tue 15 Mar 2026, 08:00"."""

from __future__ import annotations

import math
from datetime import datetime

import pandas as pd

DASH = "–"


def missing(value: object) -> bool:
    return value is None or value is pd.NaT or (isinstance(value, float) and math.isnan(value))


def count(value: object) -> str:
    """12345 -> "12,345"."""
    return DASH if missing(value) else f"{int(value):,}"  # type: ignore[call-overload]


def number(value: object, digits: int = 1) -> str:
    """1234.567 -> "1,234.6"; whole numbers without decimals."""
    if missing(value):
        return DASH
    value = float(value)  # type: ignore[arg-type]
    return f"{value:,.0f}" if value == round(value) else f"{value:,.{digits}f}"


def percent(value: object, digits: int = 1) -> str:
    """0.05488 -> "5.5%"; small shares keep a significant digit ("0.04%")."""
    if missing(value):
        return DASH
    share = float(value) * 100  # type: ignore[arg-type]
    if share and abs(share) < 10 ** (-digits):
        return f"{share:.2g}%"
    return f"{share:,.{digits}f}%"


def points(value: object, digits: int = 1) -> str:
    """A difference of two rates in percentage points: 0.012 -> "+1.2 pp"."""
    if missing(value):
        return DASH
    return f"{float(value) * 100:+,.{digits}f} pp"  # type: ignore[arg-type]


def when(value: object) -> str:
    """A timestamp (naive = UTC) -> "Tue 15 Mar 2026, 08:00"."""
    if missing(value):
        return DASH
    stamp = pd.Timestamp(value)  # type: ignore[arg-type]
    return f"{stamp:%a} {stamp.day} {stamp:%b %Y, %H:%M}"


def day(value: object) -> str:
    """A date -> "Tue 15 Mar 2026"."""
    if missing(value):
        return DASH
    stamp = pd.Timestamp(value)  # type: ignore[arg-type]
    return f"{stamp:%a} {stamp.day} {stamp:%b %Y}"


def built(at: datetime) -> str:
    """When the page was built, in UTC."""
    return f"{when(pd.Timestamp(at).tz_convert('UTC').tz_localize(None))} UTC"


def label(name: str) -> str:
    """A code as words: "advisor_task" -> "advisor task", "sms" -> "SMS"."""
    return {"sms": "SMS", "dead_letter": "dead letter"}.get(name, name.replace("_", " "))
