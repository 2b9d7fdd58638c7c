"""Numbers as people read them on the console's pages."""

from __future__ import annotations

from datetime import UTC, datetime

import pandas as pd

from dagster_project.console import formatting


def test_shares_counts_and_dates_read_as_words_and_figures() -> None:
    assert formatting.percent(0.05488) == "5.5%"
    assert formatting.percent(0.0004) == "0.04%"
    assert formatting.percent(float("nan")) == formatting.DASH
    assert formatting.points(0.012) == "+1.2 pp"
    assert formatting.count(1234567) == "1,234,567"
    assert formatting.number(1234.567) == "1,234.6"
    assert formatting.number(300.0) == "300"
    assert formatting.when(pd.Timestamp("2026-03-15 08:00")) == "Sun 15 Mar 2026, 08:00"
    assert formatting.day("2026-03-17") == "Tue 17 Mar 2026"
    assert formatting.built(datetime(2026, 12, 2, 14, 5, tzinfo=UTC)) == "Wed 2 Dec 2026, 14:05 UTC"
    assert formatting.label("dead_letter") == "dead letter"
    assert formatting.label("sms") == "SMS"
