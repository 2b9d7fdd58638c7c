"""The console's interactive charts (plotly): each a ``<div>`` and the script that draws it with
the ``plotly.min.js`` written beside the pages, so nothing is fetched from anywhere else."""

from __future__ import annotations

import pandas as pd

from .formatting import label

_CONFIG = {"displaylogo": False, "responsive": True}
_LAYOUT = {
    "template": "plotly_white",
    "height": 360,
    "margin": {"l": 60, "r": 20, "t": 40, "b": 50},
    "font": {"family": "system-ui, sans-serif", "size": 12},
    "legend": {"orientation": "h", "y": -0.2},
    "separators": ".,",  # thousands with a comma
}


def _html(figure, chart_id: str) -> str:  # a plotly Figure
    specific = figure.layout.to_plotly_json()  # the chart's own settings win over the defaults
    specific.pop("template", None)
    figure.update_layout(**_LAYOUT)
    figure.update_layout(**specific)
    drawn = figure.to_html(full_html=False, include_plotlyjs=False, div_id=chart_id, config=_CONFIG)
    return f'<div class="chart" data-chart="{chart_id}">{drawn}</div>'


def bars_by(frame: pd.DataFrame, x: str, colour: str, value: str, title: str, chart_id: str) -> str:
    """Stacked bars of ``value`` per ``x``, one colour per ``colour``."""
    import plotly.graph_objects as go

    figure = go.Figure()
    for key, group in frame.groupby(colour, sort=True):
        figure.add_bar(
            x=[label(str(v)) for v in group[x]],
            y=group[value],
            name=label(str(key)),
            hovertemplate="%{x}: %{y:,}<extra>" + label(str(key)) + "</extra>",
        )
    figure.update_layout(barmode="stack", title=title, yaxis={"tickformat": ","})
    return _html(figure, chart_id)


def horizontal_bars(labels: list[str], values: list[int], title: str, chart_id: str) -> str:
    import plotly.graph_objects as go

    figure = go.Figure(
        go.Bar(
            x=values,
            y=labels,
            orientation="h",
            text=[f"{v:,}" for v in values],
            textposition="auto",
            hovertemplate="%{y}: %{x:,}<extra></extra>",
        )
    )
    figure.update_layout(
        title=title,
        yaxis={"autorange": "reversed", "automargin": True},
        xaxis={"tickformat": ","},
        height=max(260, 40 * len(labels) + 100),
    )
    return _html(figure, chart_id)


def uplift_intervals(effects: pd.DataFrame, chart_id: str) -> str:
    """Uplift per offer and channel with its 95% interval, in percentage points."""
    import plotly.graph_objects as go

    shown = effects.dropna(subset=["uplift"])
    names = [
        "all offers and channels" if o == "all" else f"{o} · {label(str(c))}"
        for o, c in zip(shown["offer"], shown["channel"], strict=True)
    ]
    # Green: more conversions than control, red: fewer, grey: not told apart from no effect.
    colours = [
        ("#1b7f3b" if u > 0 else "#b42318") if s else "#6e7781"
        for u, s in zip(shown["uplift"], shown["significant"], strict=True)
    ]
    uplift = shown["uplift"] * 100
    figure = go.Figure(
        go.Scatter(
            x=uplift,
            y=names,
            mode="markers",
            marker={
                "size": 10,
                "color": colours,
            },
            error_x={
                "type": "data",
                "symmetric": False,
                "array": shown["uplift_high"] * 100 - uplift,
                "arrayminus": uplift - shown["uplift_low"] * 100,
            },
            customdata=list(
                zip(shown["uplift_low"] * 100, shown["uplift_high"] * 100, strict=True)
            ),
            hovertemplate="%{y}: %{x:+.1f} pp (95%: %{customdata[0]:+.1f} to "
            "%{customdata[1]:+.1f} pp)<extra></extra>",
        )
    )
    figure.add_vline(x=0, line_dash="dot", line_color="#999")
    figure.update_layout(
        title="Uplift over the control group (percentage points, 95% interval)",
        xaxis={"ticksuffix": " pp", "zeroline": False},
        yaxis={"autorange": "reversed", "automargin": True},
        height=max(300, 34 * len(names) + 120),
    )
    return _html(figure, chart_id)


def funnel(steps: pd.DataFrame, product: str, chart_id: str) -> str:
    """One product's funnel on a linear scale, each step labelled with the share kept from the
    step before and the drop-off."""
    import plotly.graph_objects as go

    kept = steps["conversion_from_previous"].fillna(0)
    names = [
        label(step) if i == 0 else f"{label(step)}<br>{k:.1%} kept · {1 - k:.1%} dropped"
        for i, (step, k) in enumerate(zip(steps["step"], kept, strict=True))
    ]
    figure = go.Figure(
        go.Funnel(
            y=names,
            x=steps["customers"],
            text=[f"{n:,}" for n in steps["customers"]],
            textinfo="text",
            textposition="auto",
            hovertemplate="%{y}: %{x:,} customers<extra></extra>",
            connector={"line": {"color": "#bbb"}},
        )
    )
    figure.update_layout(
        title=label(product), height=320, margin={"l": 170, "r": 20, "t": 40, "b": 20}
    )
    return _html(figure, chart_id)


def grouped_bars(
    frame: pd.DataFrame, x: str, colour: str, value: str, title: str, chart_id: str
) -> str:
    """Side-by-side bars of a share (0-1) per ``x``, one per ``colour``."""
    import plotly.graph_objects as go

    figure = go.Figure()
    for key, group in frame.groupby(colour, sort=False):
        figure.add_bar(
            x=[label(str(v)) for v in group[x]],
            y=group[value],
            name=label(str(key)),
            hovertemplate="%{x}: %{y:.1%}<extra>" + label(str(key)) + "</extra>",
        )
    figure.update_layout(barmode="group", title=title, yaxis={"tickformat": ".0%"})
    return _html(figure, chart_id)
