"""Attribution checked against the demo world's causal truth.

The closed loop knows which applications a contact caused and on which channel
(``truth/closed_loop_conversions.parquet``): those conversions would not have happened without
that channel. Every other conversion comes from the person's own intent, which no channel caused.
So the true contribution of an outbound channel (email, push, SMS) is the number of conversions
it caused, and a model is as good as its credit to those channels is close to that number. The
error reported is the total absolute difference over the outbound channels, relative to the
conversions they truly caused. Web, app and the contact centre have no causal truth here (people
browse and call because they intend to apply, not the other way round), so they are not scored.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from dagster_project.demo.truth_files import CAUSED_FILE

OUTBOUND = ("email", "push", "sms")


def caused_conversions(journeys: pd.DataFrame, truth: Path) -> pd.Series | None:
    """Per outbound channel: converted journeys whose conversion a contact on it caused.
    None without causal truth (no demo world, or no loop day has run)."""
    path = truth / CAUSED_FILE
    if not path.exists():
        return None
    caused = pd.read_parquet(path, columns=["customer_key", "product", "channel", "applied_at"])
    caused["applied_at"] = pd.to_datetime(caused["applied_at"], utc=True).dt.tz_localize(None)
    converted = journeys[journeys["converted"] & (journeys["touchpoints"].map(len) > 0)]
    matched = converted.merge(caused, on=["customer_key", "product"])
    close = (matched["ends_at"] - matched["applied_at"]).abs() <= pd.Timedelta(seconds=1)
    counts = matched[close].groupby("channel").size()
    return counts.reindex(list(OUTBOUND), fill_value=0).astype(float)


def compare_with_truth(credits: pd.DataFrame, truth: pd.Series) -> pd.DataFrame:
    """Per model: credit to each outbound channel beside the conversions it truly caused, and
    the relative error over those channels (lower is better), best model first."""
    outbound = credits[credits["touchpoint"].isin(OUTBOUND)]
    table = outbound.pivot_table(
        index="model", columns="touchpoint", values="credit", fill_value=0.0, sort=False
    ).reindex(columns=list(OUTBOUND), fill_value=0.0)
    errors = (table - truth).abs().sum(axis=1) / max(float(truth.sum()), 1.0)
    table.columns = [f"credited_{c}" for c in table.columns]
    for channel, value in truth.items():
        table[f"caused_{channel}"] = value
    table["relative_error"] = errors
    return table.sort_values("relative_error").reset_index()
