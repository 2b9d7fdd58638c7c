"""HTML output: one page per chart (the picture and the figures behind it) and one self-contained
report that collects them all, pictures inlined, so it opens anywhere without a server."""

from __future__ import annotations

import base64
import html
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

_STYLE = """
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 1100px; color: #222; }
h1 { font-size: 1.6em; } h2 { font-size: 1.25em; margin-top: 2em; border-bottom: 1px solid #ddd; }
table { border-collapse: collapse; font-size: 0.85em; margin: 0.8em 0; }
th, td { border: 1px solid #ddd; padding: 3px 8px; text-align: right; }
th { background: #f4f4f4; } td:first-child, th:first-child { text-align: left; }
img { max-width: 100%; } p.note { color: #555; font-size: 0.9em; }
"""


@dataclass(frozen=True)
class Section:
    title: str
    text: str  # plain text, one paragraph
    tables: tuple[pd.DataFrame, ...] = ()
    chart: Path | None = None  # a PNG


def _table(frame: pd.DataFrame) -> str:
    return frame.to_html(index=False, float_format=lambda v: f"{v:,.4g}", na_rep="", border=0)


def _image(png: Path) -> str:
    encoded = base64.b64encode(png.read_bytes()).decode("ascii")
    return f'<img alt="{html.escape(png.stem)}" src="data:image/png;base64,{encoded}">'


def _body(section: Section) -> str:
    parts = [f"<h2>{html.escape(section.title)}</h2>", f"<p>{html.escape(section.text)}</p>"]
    if section.chart is not None:
        parts.append(_image(section.chart))
    parts.extend(_table(t) for t in section.tables)
    return "\n".join(parts)


def _page(title: str, body: str) -> str:
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
        f"<style>{_STYLE}</style></head><body><h1>{html.escape(title)}</h1>{body}</body></html>"
    )


def write_chart_page(section: Section) -> Path | None:
    """``<chart>.html`` beside the chart's PNG: the picture and its figures."""
    if section.chart is None:
        return None
    page = section.chart.with_suffix(".html")
    page.write_text(_page(section.title, _body(section)), encoding="utf-8")
    return page


def write_report(path: Path, title: str, summary: str, sections: list[Section]) -> Path:
    body = f"<p class='note'>{html.escape(summary)}</p>" + "\n".join(_body(s) for s in sections)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(_page(title, body), encoding="utf-8")
    return path
