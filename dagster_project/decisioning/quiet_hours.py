"""When a send may go out: now, unless it is quiet hours in the customer's own time zone."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

from .config import QuietHours


def _in_window(local: time, window: QuietHours) -> bool:
    if window.start <= window.end:
        return window.start <= local < window.end
    return local >= window.start or local < window.end  # wraps midnight


def next_send_time(now: datetime, time_zone: str, window: QuietHours | None) -> datetime:
    """``now`` if outside the window, else the window's end (local), in UTC."""
    if window is None:
        return now
    zone = ZoneInfo(time_zone)
    local = now.astimezone(zone)
    if not _in_window(local.timetz().replace(tzinfo=None), window):
        return now
    end = datetime.combine(local.date(), window.end, tzinfo=zone)
    if end <= local:
        end = datetime.combine(local.date() + timedelta(days=1), window.end, tzinfo=zone)
    return end.astimezone(now.tzinfo)


def send_times(
    now: datetime, time_zones: pd.Series, window: QuietHours | None, default_zone: str
) -> np.ndarray:
    """Per customer, the UTC instant a send may go out (computed once per distinct zone)."""
    zones = time_zones.fillna(default_zone)
    by_zone = {zone: next_send_time(now, zone, window) for zone in zones.unique()}
    naive = {zone: t.replace(tzinfo=None) for zone, t in by_zone.items()}
    return zones.map(naive).to_numpy(dtype="datetime64[us]")
