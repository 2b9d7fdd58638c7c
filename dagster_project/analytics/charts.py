"""The analytics pictures as PNG (matplotlib, no display and no network): a Sankey of journeys,
funnels, the attribution comparison and incrementality with its confidence intervals."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from .funnels import STEPS

SANKEY_STEPS = 3
_COLOURS = ("#4c72b0", "#dd8452", "#55a868", "#c44e52", "#8172b3", "#937860", "#da8bc3", "#8c8c8c")


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")  # files only, never a display
    import matplotlib.pyplot as plt

    return plt


def _save(fig, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    _pyplot().close(fig)
    return path


def sankey_flows(paths: pd.DataFrame, steps: int = SANKEY_STEPS) -> pd.DataFrame:
    """Flows between columns: each journey's first ``steps`` channels (repeats in a row
    collapsed), then its outcome. Columns: column, source, target, journeys."""
    rows = []
    for path, converted in zip(paths["steps"], paths["converted"], strict=True):
        nodes = [*path[:steps], "converted" if converted else "no application"]
        rows.extend((i, nodes[i], nodes[i + 1]) for i in range(len(nodes) - 1))
    flows = pd.DataFrame(rows, columns=["column", "source", "target"])
    return flows.groupby(["column", "source", "target"]).size().rename("journeys").reset_index()


def sankey_chart(flows: pd.DataFrame, title: str, path: Path) -> Path:
    """An alluvial Sankey: node heights are journeys; bands join a step to the next."""
    from matplotlib.patches import PathPatch
    from matplotlib.path import Path as CurvePath

    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(11, 6))
    total = flows.loc[flows["column"] == 0, "journeys"].sum() or 1
    gap = 0.02 * total
    labels = sorted(set(flows["source"]) | set(flows["target"]))
    colour = {label: _COLOURS[i % len(_COLOURS)] for i, label in enumerate(labels)}
    colour.update({"converted": "#2ca02c", "no application": "#bbbbbb"})
    columns = int(flows["column"].max()) + 2 if len(flows) else 1
    # Node sizes per column: outflow for the sources, inflow for the last column.
    sizes = [
        flows[flows["column"] == c].groupby("source")["journeys"].sum()
        if c < columns - 1
        else flows[flows["column"] == c - 1].groupby("target")["journeys"].sum()
        for c in range(columns)
    ]
    inflow = [
        flows[flows["column"] == c - 1].groupby("target")["journeys"].sum() if c else None
        for c in range(columns)
    ]
    tops: list[dict[str, float]] = []
    for c, size in enumerate(sizes):
        if inflow[c] is not None:  # a node is as tall as what flows in or out, whichever is more
            size = size.combine(inflow[c], max, fill_value=0)
            sizes[c] = size
        y, top = 0.0, {}
        for label, value in size.sort_values(ascending=False).items():
            top[label] = y
            ax.add_patch(plt.Rectangle((c - 0.04, y), 0.08, value, color=colour[label]))
            ax.text(c + 0.06, y + value / 2, f"{label} ({int(value):,})", va="center", fontsize=8)
            y += value + gap
        tops.append(top)
    out_used = [dict.fromkeys(t, 0.0) for t in tops]
    in_used = [dict.fromkeys(t, 0.0) for t in tops]
    for row in flows.sort_values(["column", "journeys"], ascending=[True, False]).itertuples():
        c, v = int(row.column), float(row.journeys)
        y0 = tops[c][row.source] + out_used[c][row.source]
        y1 = tops[c + 1][row.target] + in_used[c + 1][row.target]
        out_used[c][row.source] += v
        in_used[c + 1][row.target] += v
        x0, x1, xm = c + 0.04, c + 0.96, c + 0.5
        vertices = [
            (x0, y0), (xm, y0), (xm, y1), (x1, y1),
            (x1, y1 + v), (xm, y1 + v), (xm, y0 + v), (x0, y0 + v), (x0, y0),
        ]  # fmt: skip
        codes = [CurvePath.MOVETO, *[CurvePath.CURVE4] * 3, CurvePath.LINETO]
        codes += [*[CurvePath.CURVE4] * 3, CurvePath.CLOSEPOLY]
        patch = PathPatch(CurvePath(vertices, codes), color=colour[row.source], alpha=0.35, lw=0)
        ax.add_patch(patch)
    height = max((s.sum() + gap * len(s) for s in sizes), default=1)
    ax.set(xlim=(-0.2, columns - 0.2), ylim=(height, 0), title=title)
    ax.set_xticks(range(columns), [*(f"step {i + 1}" for i in range(columns - 1)), "outcome"])
    ax.set_yticks([])
    for side in ("top", "right", "left"):
        ax.spines[side].set_visible(False)
    return _save(fig, path)


def funnel_chart(steps: pd.DataFrame, path: Path) -> Path:
    """Conversion from aware at each step, one line of bars per product."""
    plt = _pyplot()
    products = sorted(steps["product"].unique())
    fig, axes = plt.subplots(1, len(products), figsize=(3.2 * len(products), 3.6), sharey=True)
    for ax, product in zip(np.atleast_1d(axes), products, strict=True):
        rows = steps[steps["product"] == product].set_index("step").loc[list(STEPS)]
        bars = ax.barh(list(STEPS)[::-1], rows["customers"][::-1], color="#4c72b0")
        for bar, (_, row) in zip(bars, rows[::-1].iterrows(), strict=True):
            ax.text(
                bar.get_width(),
                bar.get_y() + bar.get_height() / 2,
                f" {int(row['customers']):,} ({row['conversion_from_aware']:.1%})",
                va="center",
                fontsize=7,
            )
        ax.set_title(product, fontsize=9)
        ax.set_xscale("symlog")
        ax.set_xlim(0, max(float(rows["customers"].max()), 1.0) * 40)  # room for the labels
        ax.set_xlabel("customers (log)")
    return _save(fig, path)


def attribution_chart(credits: pd.DataFrame, title: str, path: Path) -> Path:
    """Share of conversions each touchpoint earns under each model, side by side."""
    plt = _pyplot()
    table = credits.pivot_table(index="touchpoint", columns="model", values="share", fill_value=0)
    models = [m for m in credits["model"].drop_duplicates()]
    table = table[models]
    fig, ax = plt.subplots(figsize=(max(7.0, 1.1 * len(table)), 4.5))
    width = 0.8 / max(len(models), 1)
    x = np.arange(len(table))
    for i, model in enumerate(models):
        ax.bar(x + i * width, table[model], width, label=model, color=_COLOURS[i % len(_COLOURS)])
    ax.set_xticks(x + width * (len(models) - 1) / 2, table.index, rotation=20, ha="right")
    ax.set(ylabel="share of conversions", title=title)
    ax.legend(fontsize=7, ncol=2)
    return _save(fig, path)


def incrementality_chart(effects: pd.DataFrame, path: Path) -> Path:
    """Uplift (treated minus control conversion) with its 95% interval, per offer and channel."""
    plt = _pyplot()
    rows = effects.dropna(subset=["uplift_low"]).reset_index(drop=True)
    labels = [f"{o} / {c}" for o, c in zip(rows["offer"], rows["channel"], strict=True)]
    fig, ax = plt.subplots(figsize=(8, 0.45 * max(len(rows), 2) + 1.2))
    y = np.arange(len(rows))
    ax.errorbar(
        rows["uplift"],
        y,
        xerr=[rows["uplift"] - rows["uplift_low"], rows["uplift_high"] - rows["uplift"]],
        fmt="o",
        color="#4c72b0",
        capsize=3,
    )
    ax.axvline(0, color="grey", linestyle="--")
    ax.set_yticks(y, labels)
    ax.set(xlabel="uplift in conversion rate (treated - control), 95% interval")
    ax.set_title("Incrementality against the global control group")
    return _save(fig, path)
