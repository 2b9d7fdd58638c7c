"""Funnels, friction points, paths and the report on a toy timeline whose answers are known."""

from __future__ import annotations

import base64
import re
from datetime import datetime, timedelta
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from dagster_project.analytics.funnels import friction_points, funnel, stage_entries
from dagster_project.analytics.journey_analytics import run_journey_analytics
from dagster_project.analytics.journeys import load_journeys
from dagster_project.analytics.paths import collapse, path_conversion, top_paths, with_paths

T0 = datetime(2026, 3, 1, 9, 0)

# (customer, hours after T0, channel, interaction_type, product_topic, detail)
TIMELINE = [
    # A: aware (page), considering (calculator at +1 d), applying (+3 d), converted (+5 d).
    ("A", 0, "web", "page_view", "mortgage", "product"),
    ("A", 24, "web", "calculator_submit", "mortgage", "calculator"),
    ("A", 48, "email", "email_open", "mortgage", "nba-mortgage_rates"),
    ("A", 72, "web", "application_started", "mortgage", None),
    ("A", 120, "web", "application_converted", "mortgage", None),
    # B: three product pages inside 30 days make them considering at the third (+2 d); applies.
    ("B", 0, "app", "page_view", "mortgage", "product"),
    ("B", 24, "app", "page_view", "mortgage", "product"),
    ("B", 48, "email", "email_click", "mortgage", "nba-mortgage_rates"),
    ("B", 50, "app", "application_started", "mortgage", None),
    # C: aware only (one page), never more.
    ("C", 0, "web", "page_view", "mortgage", "product"),
    # F: sent a push (a touch, but no sign of interest) and an SMS that failed (not even a touch).
    ("F", 5, "push", "push_send", "mortgage", "decision-1"),
    ("F", 6, "sms", "sms_failed", "mortgage", "decision-2"),
    # D: a call about savings (strong signal: considering at once), no application.
    ("D", 10, "contact_centre", "call", "savings", "savings_enquiry"),
    # E: a savings page, then the rates page (strong signal: considering), then applies.
    ("E", 0, "web", "page_view", "savings", "product"),
    ("E", 1, "web", "page_view", "savings", "rates"),
    ("E", 30, "web", "application_started", "savings", None),
]
DATA_END = T0 + timedelta(days=20)  # within the 30-day lookback of every touch


def _warehouse(path: Path) -> duckdb.DuckDBPyConnection:
    conn = duckdb.connect(str(path))
    rows = [
        (f"i{n}", T0 + timedelta(hours=h), c, ch, t, p, d)
        for n, (c, h, ch, t, p, d) in enumerate(TIMELINE)
    ]
    rows.append(("end", DATA_END, "Z", "web", "login", None, None))
    frame = pd.DataFrame(
        rows,
        columns=[
            "interaction_id",
            "occurred_at",
            "customer_key",
            "channel",
            "interaction_type",
            "product_topic",
            "detail",
        ],
    )
    conn.execute("CREATE SCHEMA marts")
    conn.register("toy_timeline", frame)
    conn.execute("CREATE TABLE marts.fct_interactions AS SELECT * FROM toy_timeline")
    conn.unregister("toy_timeline")
    # As dbt marks the timeline: F's push send and failed SMS are not the customer's doing.
    conn.execute(
        "ALTER TABLE marts.fct_interactions ADD COLUMN shows_interest BOOLEAN DEFAULT true"
    )
    conn.execute(
        "UPDATE marts.fct_interactions SET shows_interest = false WHERE customer_key = 'F'"
    )
    # And which interactions reached the customer (dbt's is_touch): not failures or opt-outs.
    conn.execute(
        "ALTER TABLE marts.fct_interactions ADD COLUMN is_touch BOOLEAN; "
        "UPDATE marts.fct_interactions SET is_touch = NOT regexp_matches("
        "interaction_type, '_(failed|bounce|opt_out|unsubscribe)$')"
    )
    return conn


@pytest.fixture()
def conn(tmp_path: Path) -> duckdb.DuckDBPyConnection:
    connection = _warehouse(tmp_path / "toy.duckdb")
    yield connection
    connection.close()


def test_funnel_counts_steps_and_median_times(conn: duckdb.DuckDBPyConnection) -> None:
    steps = funnel(stage_entries(conn)).set_index(["product", "step"])
    mortgage = steps.loc["mortgage"]
    assert "F" not in set(stage_entries(conn)["customer_key"])  # sent to, never interested
    assert mortgage["customers"].to_dict() == {
        "aware": 3,
        "considering": 2,
        "applying": 2,
        "converted": 1,
    }
    assert mortgage.loc["considering", "conversion_from_previous"] == pytest.approx(2 / 3)
    assert mortgage.loc["converted", "conversion_from_aware"] == pytest.approx(1 / 3)
    # aware -> considering: A 1 day, B 2 days (their third interaction): median 1.5 days.
    assert mortgage.loc["considering", "median_days_from_previous"] == pytest.approx(1.5)
    # considering -> applying: A 2 days (+1 d -> +3 d), B 50 h - 48 h = 2 h.
    assert mortgage.loc["applying", "median_days_from_previous"] == pytest.approx((2 + 2 / 24) / 2)
    assert mortgage.loc["converted", "median_days_from_previous"] == pytest.approx(2.0)
    savings = steps.loc["savings"]["customers"].to_dict()
    assert savings == {"aware": 2, "considering": 2, "applying": 1, "converted": 0}


def test_friction_points_rank_the_worst_drop_first(conn: duckdb.DuckDBPyConnection) -> None:
    points = friction_points(conn, funnel(stage_entries(conn)))
    mortgage = points[points["product"] == "mortgage"].reset_index(drop=True)
    # Neither started application was submitted (1.0); applying -> converted loses 1 of 2;
    # aware -> considering 1 of 3; the calculator led to an application; nobody was declined.
    assert mortgage["friction_point"].tolist() == [
        "application started, not submitted within 14 days",
        "applying -> converted",
        "aware -> considering",
        "calculator used, no application within 14 days",
        "considering -> applying",
    ]
    assert mortgage["drop_rate"].tolist() == pytest.approx([1.0, 0.5, 1 / 3, 0.0, 0.0])
    abandoned = mortgage.set_index("friction_point").loc[
        "application started, not submitted within 14 days"
    ]
    assert (abandoned["entered"], abandoned["dropped"]) == (2, 2)
    calculator = mortgage.set_index("friction_point").loc[
        "calculator used, no application within 14 days"
    ]
    assert (calculator["entered"], calculator["dropped"]) == (1, 0)


def test_journeys_and_paths(conn: duckdb.DuckDBPyConnection) -> None:
    journeys = load_journeys(conn).set_index(["customer_key", "product"])
    a = journeys.loc[("A", "mortgage")]
    assert bool(a["converted"]) and list(a["touchpoints"]) == ["web", "web", "email"]
    assert list(a["offer_touchpoints"]) == ["web", "web", "nba:mortgage_rates"]
    assert list(a["days_before"]) == pytest.approx([3.0, 2.0, 1.0])
    assert not journeys.loc[("C", "mortgage"), "converted"]
    assert list(journeys.loc[("F", "mortgage"), "touchpoints"]) == ["push"]
    assert collapse(["web", "web", "email", "web", "app", "app"], steps=3) == "email > web > app"

    paths = with_paths(load_journeys(conn))
    common = top_paths(paths)
    assert common[common["product"] == "mortgage"]["path"].tolist() == [
        "app > email",
        "web > email",
    ]
    rates = path_conversion(paths).set_index(["product", "path"])
    assert rates.loc[("savings", "web"), "rate"] == 1.0
    assert rates.loc[("savings", "contact_centre"), "rate"] == 0.0
    assert rates.loc[("savings", "web"), "lift"] == pytest.approx(2.0)  # 1.0 against 1 of 2


def test_the_report_renders_every_figure(conn: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    result = run_journey_analytics(conn, tmp_path)
    html = result.report.read_text()
    for title in (
        "How journeys flow",
        "Funnels",
        "Friction points",
        "Common paths before conversion",
        "Paths that convert unexpectedly well",
        "Attribution by channel",
        "Attribution by offer",
        "Incrementality",
    ):
        assert f"<h2>{title}</h2>" in html
    images = re.findall(r'src="data:image/png;base64,([^"]+)"', html)
    assert len(images) == 4  # Sankey, funnels, two attribution charts (no decisions yet)
    assert all(base64.b64decode(i).startswith(b"\x89PNG") for i in images)
    assert set(result.pages) == {
        "sankey",
        "funnels",
        "attribution_by_channel",
        "attribution_by_offer",
    }
    assert all(
        page.exists() and page.with_suffix(".png").exists() for page in result.pages.values()
    )
    stored = conn.execute(
        "SELECT model, touchpoint, credit FROM analytics.attribution_by_channel "
        "WHERE model = 'last_touch' AND credit > 0 ORDER BY touchpoint"
    ).fetchall()
    # Last touch: A's and B's email before they applied, E's web page.
    assert stored == [("last_touch", "email", 2.0), ("last_touch", "web", 1.0)]
