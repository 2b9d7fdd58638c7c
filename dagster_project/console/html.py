"""HTML pieces of the console: the page around the content, tables that scroll inside their box
with filters and sortable headers (``static/console.js``), and figures in words."""

from __future__ import annotations

import html
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

import pandas as pd

from . import formatting

PAGES = (  # file, title in the navigation
    ("index.html", "Overview"),
    ("plan.html", "Today's plan"),
    ("held_back.html", "Held back"),
    ("deliveries.html", "Deliveries"),
    ("results.html", "Campaign results"),
    ("journeys.html", "Journeys and funnels"),
)

FORMATS: dict[str, Callable[[object], str]] = {
    "text": lambda v: formatting.DASH if formatting.missing(v) or v is pd.NA else str(v),
    "label": lambda v: (
        formatting.DASH if formatting.missing(v) or v is pd.NA else formatting.label(str(v))
    ),
    "count": formatting.count,
    "number": formatting.number,
    "percent": formatting.percent,
    "points": formatting.points,
    "when": formatting.when,
}


@dataclass(frozen=True)
class Column:
    key: str  # the frame's column
    header: str
    kind: str = "text"  # a FORMATS key
    filter: bool = False  # a drop-down of its values above the table
    wide: bool = False  # free text: wraps, takes the room left


def escape(value: object) -> str:
    return html.escape(str(value), quote=True)


def _sort_value(value: object, kind: str) -> str:
    if formatting.missing(value) or value is pd.NA:
        return ""
    if kind == "when":
        return pd.Timestamp(value).isoformat()  # type: ignore[arg-type]
    return str(value)


NUMERIC = ("count", "number", "percent", "points")


def _class(column: Column) -> str:
    if column.wide:
        return ' class="wide"'
    if column.kind == "when":
        return ' class="when"'
    return ' class="num"' if column.kind in NUMERIC else ""


def table(
    table_id: str, frame: pd.DataFrame, columns: Sequence[Column], total: int | None = None
) -> str:
    """A filterable, sortable table in a scrolling box; ``total``: the rows there are in all,
    when ``frame`` holds only the first of them."""
    filters = []
    for c in columns:
        if not c.filter or c.key not in frame:
            continue
        values = sorted({str(v) for v in frame[c.key].dropna()})
        options = "".join(
            f'<option value="{escape(v)}">{escape(FORMATS[c.kind](v))}</option>' for v in values
        )
        filters.append(
            f'<label>{escape(c.header)} <select data-table="{table_id}" data-column="{c.key}">'
            f'<option value="">all</option>{options}</select></label>'
        )
    search = (
        f'<label>Search <input type="search" data-table="{table_id}" data-search '
        'placeholder="any text"></label>'
    )
    head = "".join(
        f'<th data-kind="{c.kind}"{_class(c)} title="Sort">{escape(c.header)}</th>' for c in columns
    )
    body = []
    records = frame.to_dict("records")
    for record in records:
        attributes = " ".join(
            f'data-{c.key.replace("_", "-")}="{escape(record.get(c.key, ""))}"'
            for c in columns
            if c.filter
        )
        cells = "".join(
            f'<td data-sort="{escape(_sort_value(record.get(c.key), c.kind))}"'
            f"{_class(c)}>{escape(FORMATS[c.kind](record.get(c.key)))}</td>"
            for c in columns
        )
        body.append(f"<tr {attributes}>{cells}</tr>")
    shown = len(records)
    note = ""
    if total is not None and total > shown:
        note = (
            f" (the first {formatting.count(shown)} of {formatting.count(total)}; the counts "
            "and charts cover them all)"
        )
    return (
        f'<div class="filters">{"".join(filters)}{search}'
        f'<span class="shown" id="{table_id}-shown" data-total="{shown}">'
        f"{formatting.count(shown)} of {formatting.count(shown)} rows</span>{escape(note)}</div>"
        f'<div class="table-wrap"><table id="{table_id}" class="data"><thead><tr>{head}</tr>'
        f"</thead><tbody>{''.join(body)}</tbody></table></div>"
    )


def figures(items: Sequence[tuple[str, str, str]]) -> str:
    """Headline numbers: (id, the number as text, what it counts)."""
    cards = "".join(
        f'<div class="figure" id="figure-{escape(i)}"><b>{escape(value)}</b>'
        f"<span>{escape(words)}</span></div>"
        for i, value, words in items
    )
    return f'<div class="figures">{cards}</div>'


def page(
    file: str,
    title: str,
    body: str,
    decision_date: str | None,
    decided_at: object,
    built_at: datetime,
) -> str:
    nav = "".join(
        f'<a href="{f}"{" class=active" if f == file else ""}>{escape(t)}</a>' for f, t in PAGES
    )
    describes = (
        f"Decision date <b>{escape(formatting.day(decision_date))}</b> (decided "
        f"{escape(formatting.when(decided_at))} UTC)"
        if decision_date
        else "No decisions yet"
    )
    stamp = (
        f'<p class="stamp" id="stamp" data-decision-date="{escape(decision_date or "")}">'
        f"{describes} · built {escape(formatting.built(built_at))}</p>"
    )
    return (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        f"<title>{escape(title)} · journey console</title>"
        "<link rel='icon' href='data:,'><link rel='stylesheet' href='console.css'>"
        "<script src='plotly.min.js'></script><script src='console.js' defer></script>"
        f"</head><body><header><nav>{nav}</nav></header><main><h1>{escape(title)}</h1>"
        f"{stamp}{body}</main></body></html>"
    )


def section(title: str, text: str, *content: str) -> str:
    return f"<section><h2>{escape(title)}</h2><p>{escape(text)}</p>{''.join(content)}</section>"
