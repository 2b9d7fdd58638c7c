"""The console for marketing ops, as a static site: ``<data dir>/console/``.

Why a static site built by an asset, and a plain file server: DuckDB allows one writer and no
reader beside it, so a web app that queried the warehouse on each request would hold the file
and stall the pipeline (or be stalled by it). Instead ``analytics/console`` reads the warehouse
once, right after the decisions, deliveries and journey analytics it shows, and writes HTML with
the figures in it; ``journey console`` then serves the folder on 127.0.0.1 without ever opening
the warehouse. Pages are plain HTML that work from any static host, opened while the pipeline
runs, and show exactly one decision date and when they were built. Charts are plotly, drawn by
``plotly.min.js`` written once beside the pages (no CDN: the pages work offline); tables filter
and sort in the browser with a few lines of our own script (``static/console.js``).

Every file is written under a temporary name and renamed into place, so a page being served is
never half-written.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime
from importlib import resources
from pathlib import Path

import duckdb
import pandas as pd

from . import charts
from . import formatting as fmt
from .html import PAGES, Column, escape, figures, page, section, table
from .queries import MAX_ROWS, ConsoleData, read_console_data

FOLDER = "console"
PLOTLY_JS = "plotly.min.js"
STATIC = ("console.css", "console.js")


@dataclass(frozen=True)
class ConsoleSite:
    folder: Path
    pages: dict[str, Path]  # file -> path
    decision_date: str | None
    rows: dict[str, int]  # what each page's table holds


def console_folder(data_root: Path) -> Path:
    return data_root / FOLDER


def _write(path: Path, text: str | bytes) -> Path:
    temporary = path.with_name(f".{path.name}.tmp")
    if isinstance(text, str):
        temporary.write_text(text, encoding="utf-8")
    else:
        temporary.write_bytes(text)
    os.replace(temporary, path)
    return path


def _write_assets(folder: Path) -> None:
    from plotly.offline import get_plotlyjs

    script = get_plotlyjs().encode("utf-8")
    target = folder / PLOTLY_JS
    if not target.exists() or target.stat().st_size != len(script):
        _write(target, script)
    static = resources.files("dagster_project.console") / "static"
    for name in STATIC:
        _write(folder / name, (static / name).read_bytes())


def _rows(frame: pd.DataFrame) -> int:
    return int(frame["rows"].sum()) if len(frame) else 0


def _empty(text: str) -> str:
    return f'<p class="empty">{escape(text)}</p>'


# Today's plan -------------------------------------------------------------------------------

PLAN_COLUMNS = (
    Column("customer_key", "Customer"),
    Column("action", "Action", "label", filter=True),
    Column("offer_id", "Offer", "label", filter=True),
    Column("channel", "Channel", "label", filter=True),
    Column("scheduled_at", "When (UTC)", "when"),
    Column("response_score", "Response", "percent"),
    Column("priority", "Value", "number"),
    Column("delivery_state", "Delivery", "label", filter=True),
    Column("explanation", "Why", wide=True),
)


def plan_page(data: ConsoleData) -> tuple[str, int]:
    counts = data.plan_counts
    total = _rows(counts)
    contacts = counts[counts["action"] == "contact"] if len(counts) else counts
    by_action = counts.groupby("action")["rows"].sum() if len(counts) else pd.Series(dtype=int)
    body = figures(
        [
            ("contacts", fmt.count(by_action.get("contact", 0)), "contacts (email, SMS, push)"),
            ("advisor", fmt.count(by_action.get("advisor_task", 0)), "advisor tasks"),
            ("web", fmt.count(by_action.get("web", 0)), "offers on the website and app"),
        ]
    )
    if len(contacts):
        body += charts.bars_by(
            contacts, "channel", "offer_id", "rows", "Contacts by channel and offer", "plan-chart"
        )
    body += section(
        "Who gets what, on which channel, when, and why",
        "Each acting row of the plan: contacts first, highest expected value first. Response is "
        "the expected chance of a click, value the expected value that won arbitration, and "
        "'why' the decision's own explanation. Filter by action, offer, channel or delivery "
        "state; click a column to sort.",
        table("plan", data.plan, PLAN_COLUMNS, total),
    )
    return body, len(data.plan)


# Held back ----------------------------------------------------------------------------------

HELD_COLUMNS = (
    Column("customer_key", "Customer"),
    Column("rule", "Rule", filter=True),
    Column("action", "Action", "label", filter=True),
    Column("offer_id", "Offer", "label", filter=True),
    Column("channel", "Channel", "label"),
    Column("scheduled_at", "Goes out (UTC)", "when"),
    Column("explanation", "Why", wide=True),
)


def held_back_page(data: ConsoleData) -> tuple[str, int]:
    held = data.held_back
    if not len(held):
        return _empty("Nothing was held back on this decision date."), 0
    per_rule = held.groupby("rule", sort=False)["rows"].sum().sort_values(ascending=False)
    rules = pd.DataFrame({"rule": per_rule.index, "rows": per_rule.to_numpy()})
    by_offer = held.pivot_table(
        index="rule", columns="offer_id", values="rows", aggfunc="sum", fill_value=0
    ).reset_index()
    offer_columns = [c for c in by_offer.columns if c != "rule"]
    body = charts.horizontal_bars(
        [str(r) for r in rules["rule"]],
        [int(v) for v in rules["rows"]],
        "Held back per rule",
        "held-chart",
    )
    body += section(
        "Counts per rule",
        "Customers' rows held back by each rule: suppression (do not contact), the contact "
        "policy's caps, consent, the control group, eligibility and min_priority; contacts "
        "deferred by quiet hours or the minimum gap still go out later.",
        table("held-rules", rules, (Column("rule", "Rule"), Column("rows", "Rows", "count"))),
    )
    body += section(
        "Counts per rule and offer",
        "The same counts split by the offer held back ('(none)' where no offer was chosen).",
        table(
            "held-offers",
            by_offer,
            (Column("rule", "Rule"), *(Column(str(c), str(c), "count") for c in offer_columns)),
        ),
    )
    body += section(
        "Rows held back",
        "Each row with its rule and the decision's explanation.",
        table("held", data.held_back_rows, HELD_COLUMNS, _rows(held)),
    )
    return body, len(data.held_back_rows)


# Deliveries ---------------------------------------------------------------------------------

STATES = ("delivered", "queued", "sending", "failed", "dead_letter")


def deliveries_page(data: ConsoleData) -> tuple[str, int]:
    states = data.deliveries
    if not len(states):
        return _empty("Nothing of this decision date is in the outbox yet."), 0
    wide = (
        states.pivot_table(
            index="channel", columns="state", values="rows", aggfunc="sum", fill_value=0
        )
        .reindex(columns=STATES, fill_value=0)
        .reset_index()
    )
    totals = states.groupby("state")["rows"].sum()
    body = figures(
        [(s, fmt.count(totals.get(s, 0)), fmt.label(s)) for s in STATES if s != "sending"]
    )
    body += charts.bars_by(
        states, "channel", "state", "rows", "Outbox by channel and state", "deliveries-chart"
    )
    body += section(
        "Per channel",
        "Queued waits for its send time; failed is retried with back-off; a dead letter gave "
        "up after the last attempt.",
        table(
            "deliveries-by-channel",
            wide,
            (
                Column("channel", "Channel", "label"),
                *(Column(s, fmt.label(s).capitalize(), "count") for s in STATES),
            ),
        ),
    )
    body += section(
        "Not delivered, with reasons",
        "The last error each undelivered message has, counted per channel and state.",
        table(
            "delivery-reasons",
            data.delivery_reasons,
            (
                Column("channel", "Channel", "label", filter=True),
                Column("state", "State", "label", filter=True),
                Column("reason", "Reason", wide=True),
                Column("rows", "Messages", "count"),
                Column("attempts", "Attempts", "count"),
            ),
        ),
    )
    body += section(
        "Failed and dead letters",
        "Each message that failed or dead-lettered, newest first.",
        table(
            "delivery-failures",
            data.delivery_rows,
            (
                Column("customer_key", "Customer"),
                Column("channel", "Channel", "label", filter=True),
                Column("offer", "Offer", "label", filter=True),
                Column("state", "State", "label", filter=True),
                Column("attempts", "Attempts", "count"),
                Column("next_attempt_at", "Next attempt (UTC)", "when"),
                Column("last_error", "Reason", wide=True),
            ),
        ),
    )
    return body, len(data.delivery_reasons)


# Campaign results ---------------------------------------------------------------------------

RESULT_COLUMNS = (
    Column("offer", "Offer", "label", filter=True),
    Column("channel", "Channel", "label", filter=True),
    Column("treated_n", "Treated", "count"),
    Column("treated_rate", "Treated rate", "percent"),
    Column("control_n", "Control", "count"),
    Column("control_rate", "Control rate", "percent"),
    Column("uplift", "Uplift", "points"),
    Column("interval", "95% interval"),
    Column("incremental_conversions", "Incremental conversions", "number"),
    Column("verdict", "Verdict"),
)


def _verdict(row: pd.Series) -> str:
    if pd.isna(row["uplift"]):
        return "no control group to compare"
    if not row["significant"]:
        return "not distinguishable from no effect"
    return (
        "more conversions than control" if row["uplift"] > 0 else "fewer conversions than control"
    )


def results_page(data: ConsoleData) -> tuple[str, int]:
    effects = data.analytics.get("incrementality", pd.DataFrame())
    if not len(effects):
        return _empty(
            "No campaign results yet: the analytics have not measured any decision's outcome."
        ), 0
    effects = effects.copy()
    effects["interval"] = [
        fmt.DASH if pd.isna(lo) else f"{fmt.points(lo)} to {fmt.points(hi)}"
        for lo, hi in zip(effects["uplift_low"], effects["uplift_high"], strict=True)
    ]
    effects["verdict"] = effects.apply(_verdict, axis=1)
    overall = effects[effects["offer"] == "all"]
    body = ""
    if len(overall):
        o = overall.iloc[0]
        body += figures(
            [
                ("treated-rate", fmt.percent(o["treated_rate"]), "treated conversion rate"),
                ("control-rate", fmt.percent(o["control_rate"]), "control group's rate"),
                ("uplift", fmt.points(o["uplift"]), f"uplift ({o['interval']})"),
            ]
        )
    if effects["uplift"].notna().any():
        body += charts.uplift_intervals(effects, "results-chart")
    body += section(
        "Incrementality per offer and channel",
        "An application for the offer's product within 14 days of the decision, treated "
        "customers against the global control group (who were held out), with 95% Newcombe "
        "intervals, over every decision so far (as the latest journey analytics run measured "
        "them). An interval that spans 0 cannot tell the campaign from no campaign yet.",
        table("results", effects, RESULT_COLUMNS),
    )
    return body, len(effects)


# Journeys and funnels -----------------------------------------------------------------------


def journeys_page(data: ConsoleData) -> tuple[str, int]:
    steps = data.analytics.get("funnel_steps", pd.DataFrame())
    body = ""
    if len(steps):
        steps = steps.copy()
        steps["drop_off"] = 1 - steps["conversion_from_previous"]
        steps.loc[
            steps["step"] == steps.groupby("product")["step"].transform("first"), "drop_off"
        ] = float("nan")
        funnels = "".join(
            charts.funnel(group.reset_index(drop=True), str(product), f"funnel-{product}")
            for product, group in steps.groupby("product", sort=True)
        )
        body += section(
            "Funnels",
            "Customers reaching each step per product, on a linear scale: each bar is labelled "
            "with the share kept from the step before and the share that dropped off.",
            f'<div class="funnels">{funnels}</div>',
            table(
                "funnel-steps",
                steps,
                (
                    Column("product", "Product", "label", filter=True),
                    Column("step", "Step", "label"),
                    Column("customers", "Customers", "count"),
                    Column("conversion_from_previous", "Kept from the step before", "percent"),
                    Column("drop_off", "Drop-off", "percent"),
                    Column("conversion_from_aware", "From aware", "percent"),
                    Column("median_days_from_previous", "Median days", "number"),
                ),
            ),
        )
    friction = data.analytics.get("friction_points", pd.DataFrame())
    if len(friction):
        body += section(
            "Friction points",
            "Where journeys stall, highest drop rate first per product.",
            table(
                "friction",
                friction,
                (
                    Column("product", "Product", "label", filter=True),
                    Column("friction_point", "Where", wide=True),
                    Column("entered", "Entered", "count"),
                    Column("dropped", "Dropped", "count"),
                    Column("drop_rate", "Drop rate", "percent"),
                ),
            ),
        )
    paths = data.analytics.get("top_paths", pd.DataFrame())
    if len(paths):
        body += section(
            "Common paths before conversion",
            "The channel sequences before an application started, most frequent first.",
            table(
                "paths",
                paths,
                (
                    Column("product", "Product", "label", filter=True),
                    Column("path", "Path", wide=True),
                    Column("conversions", "Conversions", "count"),
                    Column("share", "Share of the product's", "percent"),
                ),
            ),
        )
    credit = data.analytics.get("attribution_by_channel", pd.DataFrame())
    if len(credit):
        body += section(
            "Attribution by channel",
            "The share of conversions each channel earns under each attribution model.",
            charts.grouped_bars(
                credit, "touchpoint", "model", "share", "Share of conversions", "attribution-chart"
            ),
        )
    if not body:
        return _empty("No journey analytics yet: run analytics/journey_analytics."), 0
    return body, len(steps)


# Overview and the whole site -----------------------------------------------------------------


def overview_page(data: ConsoleData) -> str:
    actions = data.actions.set_index("action")["rows"] if len(data.actions) else pd.Series()
    delivered = (
        int(data.deliveries.loc[data.deliveries["state"] == "delivered", "rows"].sum())
        if len(data.deliveries)
        else 0
    )
    failed = (
        int(
            data.deliveries.loc[
                data.deliveries["state"].isin(["failed", "dead_letter"]), "rows"
            ].sum()
        )
        if len(data.deliveries)
        else 0
    )
    links = {
        "plan.html": f"{fmt.count(actions.get('contact', 0))} contacts, "
        f"{fmt.count(actions.get('advisor_task', 0))} advisor tasks, "
        f"{fmt.count(actions.get('web', 0))} web offers, each with why",
        "held_back.html": f"{fmt.count(_rows(data.held_back))} rows held back or deferred, "
        "per rule and offer",
        "deliveries.html": f"{fmt.count(delivered)} delivered, {fmt.count(failed)} failed or "
        "dead-lettered, per channel with reasons",
        "results.html": "incrementality per offer and channel against the control group",
        "journeys.html": "funnels with drop-off, friction points, paths and attribution",
    }
    items = "".join(
        f'<li><a href="{f}">{escape(t)}</a>: {links[f]}</li>' for f, t in PAGES if f in links
    )
    effects = data.analytics.get("incrementality", pd.DataFrame())
    overall = effects[effects["offer"] == "all"] if len(effects) else effects
    cards = figures(
        [
            ("decisions", fmt.count(int(actions.sum()) if len(actions) else 0), "decision rows"),
            ("contacts", fmt.count(actions.get("contact", 0)), "contacts"),
            ("held-back", fmt.count(_rows(data.held_back)), "held back or deferred"),
            ("delivered", fmt.count(delivered), "delivered"),
            ("failed", fmt.count(failed), "failed or dead letters"),
            (
                "uplift",
                fmt.points(overall["uplift"].iloc[0]) if len(overall) else fmt.DASH,
                "uplift over the control group",
            ),
        ]
    )
    return f"{cards}<ul class='pages'>{items}</ul>"


def build_site(data: ConsoleData, folder: Path, built_at: datetime) -> ConsoleSite:
    """Write every page of ``data`` under ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    _write_assets(folder)
    built = {
        "plan.html": plan_page(data),
        "held_back.html": held_back_page(data),
        "deliveries.html": deliveries_page(data),
        "results.html": results_page(data),
        "journeys.html": journeys_page(data),
    }
    bodies = {"index.html": overview_page(data), **{f: b for f, (b, _) in built.items()}}
    titles = dict(PAGES)
    pages = {
        file: _write(
            folder / file,
            page(file, titles[file], body, data.decision_date, data.decided_at, built_at),
        )
        for file, body in bodies.items()
    }
    rows = {file.removesuffix(".html"): n for file, (_, n) in built.items()}
    return ConsoleSite(folder, pages, data.decision_date, rows)


def build_console(
    conn: duckdb.DuckDBPyConnection, data_root: Path, built_at: datetime, day: str | None = None
) -> ConsoleSite:
    """Read the warehouse once and write the site under ``<data_root>/console/``."""
    return build_site(read_console_data(conn, day), console_folder(data_root), built_at)


__all__ = ["MAX_ROWS", "ConsoleSite", "build_console", "build_site", "console_folder"]
