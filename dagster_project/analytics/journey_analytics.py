"""All journey analytics in one pass over the warehouse: tables in schema ``analytics``, charts
and pages under ``<data dir>/analytics/``, and the report ``<data dir>/analytics/report.html``."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pandas as pd

from ..warehouse import transaction
from . import charts
from .attribution import attribute
from .funnels import friction_points, funnel, stage_entries
from .incrementality import ALL, incrementality
from .journeys import LOOKBACK_DAYS, load_journeys
from .logged_policy_value import logged_policy_values
from .outcomes import WINDOW_DAYS, decision_outcomes, first_per_customer, observed
from .paths import path_conversion, top_paths, with_paths
from .report import Section, write_chart_page, write_report

SCHEMA = "analytics"
FOLDER = "analytics"


@dataclass
class AnalyticsResult:
    report: Path
    tables: dict[str, int]  # table -> rows
    pages: dict[str, Path]  # chart -> its HTML page
    figures: dict[str, float | str] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)


def _store(conn: duckdb.DuckDBPyConnection, name: str, frame: pd.DataFrame) -> int:
    conn.register("_analytics_frame", frame)
    try:
        conn.execute(f"CREATE OR REPLACE TABLE {SCHEMA}.{name} AS SELECT * FROM _analytics_frame")
    finally:
        conn.unregister("_analytics_frame")
    return len(frame)


def run_journey_analytics(
    conn: duckdb.DuckDBPyConnection, data_root: Path, truth: Path | None = None
) -> AnalyticsResult:
    """Compute, store and draw everything; ``truth`` (the demo world's) adds the validation."""
    seconds: dict[str, float] = {}
    clock = time.perf_counter()

    def lap(stage: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        seconds[stage] = round(now - clock, 2)
        clock = now

    journeys = load_journeys(conn)
    lap("journeys")
    steps = funnel(stage_entries(conn))
    friction = friction_points(conn, steps)
    lap("funnels")
    paths = with_paths(journeys)
    common = top_paths(paths)
    converting = path_conversion(paths)
    lap("paths")
    touched = paths[["touchpoints", "days_before", "converted"]]
    by_channel = attribute(touched)
    by_offer = attribute(
        paths[["offer_touchpoints", "days_before", "converted"]].rename(
            columns={"offer_touchpoints": "touchpoints"}
        )
    )
    lap("attribution")
    outcomes = observed(decision_outcomes(conn))
    effects = incrementality(outcomes, overall=first_per_customer(outcomes))
    lap("incrementality")
    policies = logged_policy_values(outcomes)
    lap("off-policy values")
    validation = None
    if truth is not None:
        from ..demo.evaluation import attribution_check

        validation = attribution_check(journeys, by_channel, truth)

    conn.execute(f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}")
    frames = {
        "funnel_steps": steps,
        "friction_points": friction,
        "top_paths": common,
        "path_conversion": converting,
        "attribution_by_channel": by_channel,
        "attribution_by_offer": by_offer,
        "incrementality": effects,
        "off_policy_value": policies,
    }
    if validation is not None:
        frames["attribution_validation"] = validation
    with transaction(conn):
        tables = {name: _store(conn, name, frame) for name, frame in frames.items()}
    lap("store")

    folder = data_root / FOLDER
    sections = _sections(folder, paths, steps, friction, common, converting, by_channel, by_offer)
    sections.append(_incrementality_section(folder, effects, outcomes))
    if validation is not None:
        sections.append(_validation_section(validation))
    pages = {s.chart.stem: write_chart_page(s) for s in sections if s.chart is not None}
    conversions = int(journeys["converted"].sum())
    summary = (
        f"{len(journeys):,} product journeys ({conversions:,} converted: an application started) "
        f"over the last {LOOKBACK_DAYS} days before each outcome; {len(outcomes):,} decisions "
        f"assigned to an offer, {int(outcomes['control'].sum()):,} of them in the control group."
    )
    report = write_report(folder / "report.html", "Journey analytics", summary, sections)
    lap("charts and report")
    overall = effects[effects["offer"] == ALL]
    figures: dict[str, float | str] = {
        "journeys": len(journeys),
        "conversions": conversions,
        "events": int(conn.execute("SELECT count(*) FROM marts.fct_interactions").fetchone()[0]),
    }
    if len(overall):
        figures["overall_uplift"] = float(overall["uplift"].iloc[0])
    decided = policies[
        (policies["policy"] == "decided")
        & (policies["measure"] == "value")
        & (policies["estimator"] == "doubly_robust")
    ]
    if len(decided):
        figures["decided_value_doubly_robust"] = round(float(decided["value"].iloc[0]), 4)
    if validation is not None:
        figures["best_model_vs_truth"] = str(validation["model"].iloc[0])
        for row in validation.itertuples():
            figures[f"error_vs_truth_{row.model}"] = round(float(row.relative_error), 4)
    return AnalyticsResult(report, tables, {k: v for k, v in pages.items() if v}, figures, seconds)


def _sections(
    folder: Path,
    paths: pd.DataFrame,
    steps: pd.DataFrame,
    friction: pd.DataFrame,
    common: pd.DataFrame,
    converting: pd.DataFrame,
    by_channel: pd.DataFrame,
    by_offer: pd.DataFrame,
) -> list[Section]:
    worst = friction.sort_values("drop_rate", ascending=False).groupby("product").head(3)
    credit_table = by_channel.pivot_table(
        index="touchpoint", columns="model", values="share", sort=False
    ).reset_index()
    offer_table = by_offer.pivot_table(
        index="touchpoint", columns="model", values="share", sort=False
    ).reset_index()
    return [
        Section(
            "How journeys flow",
            "Each journey's first three channels (repeats in a row collapsed), then its outcome.",
            chart=charts.sankey_chart(
                charts.sankey_flows(paths), "Journeys by channel", folder / "sankey.png"
            ),
        ),
        Section(
            "Funnels",
            "Customers reaching each step per product, with conversion from the step before, "
            "from aware, and the median days the step took.",
            (steps,),
            charts.funnel_chart(steps, folder / "funnels.png"),
        ),
        Section(
            "Friction points",
            "Where journeys stall: the three highest drop rates per product (funnel steps, "
            "abandoned applications, calculators that led nowhere, declines).",
            (worst,),
        ),
        Section(
            "Common paths before conversion",
            "The last steps before an application started, most frequent first, per product.",
            (common,),
        ),
        Section(
            "Paths that convert unexpectedly well",
            "Paths whose conversion rate beats their product's by 1.5x or more, on at least 20 "
            "journeys, with a binomial z of at least 2 (the top 20 paths by lift are shown; "
            "'stands_out' marks those that qualify).",
            (converting.head(20),),
        ),
        Section(
            "Attribution by channel",
            "Share of conversions each channel earns under seven models: first and last touch, "
            "linear, time decay (7-day half-life), position based (40/20/40), Markov chain "
            "removal effect and Shapley value.",
            (credit_table,),
            charts.attribution_chart(
                by_channel, "Attribution by channel", folder / "attribution_by_channel.png"
            ),
        ),
        Section(
            "Attribution by offer",
            "The same models with the platform's messages labelled by their offer (nba:<offer>) "
            "and other touches by channel.",
            (offer_table,),
            charts.attribution_chart(
                by_offer, "Attribution by offer", folder / "attribution_by_offer.png"
            ),
        ),
    ]


def _incrementality_section(folder: Path, effects: pd.DataFrame, outcomes: pd.DataFrame) -> Section:
    seen = float(outcomes["window_days_observed"].mean()) if len(outcomes) else 0.0
    text = (
        f"Conversion (an application for the offer's product within {WINDOW_DAYS} days of the "
        "decision) of treated customers against the global control group, per offer and channel, "
        "with 95% Newcombe intervals; the overall row counts each customer once per arm. On "
        f"average {seen:.1f} of the {WINDOW_DAYS} days are observed yet (both arms alike). To feed back into arbitration, set an offer's business_weight in "
        "config/offers.yaml to its uplift over its treated rate (or the interval's lower bound, "
        "to be conservative), so priority values incremental conversions, not all of them."
    )
    chart = None
    if effects["uplift_low"].notna().any():
        chart = charts.incrementality_chart(effects, folder / "incrementality.png")
    return Section("Incrementality", text, (effects,), chart)


def _validation_section(validation: pd.DataFrame) -> Section:
    best = validation["model"].iloc[0]
    last = validation.set_index("model")["relative_error"]
    text = (
        "Credit to email, push and SMS beside the conversions the demo world's contacts truly "
        f"caused (closed-loop truth); relative error over those channels, lower is better. Best: "
        f"{best}. Last touch {last.get('last_touch', float('nan')):.3f}, Markov "
        f"{last.get('markov', float('nan')):.3f}, Shapley {last.get('shapley', float('nan')):.3f}."
    )
    return Section("Attribution against the truth", text, (validation,))
