"""``journey resolve``: deduplicate any person file with the pipeline's resolver."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ..identity.linkage_config import DEFAULT_CONFIG
from ..identity.normalise import DEFAULT_PHONE_REGION
from .common import console


def resolve(
    input_path: Annotated[
        Path, typer.Argument(metavar="INPUT", help="CSV, JSONL or Parquet file.")
    ],
    id_column: Annotated[str, typer.Option("--id", help="Column with a unique record id.")],
    out: Annotated[Path, typer.Option(help="Parquet file to write: record_id, cluster_id.")],
    role_map: Annotated[
        list[str],
        typer.Option("--map", help="ROLE=COLUMN, e.g. first_name=given_name; repeat per role."),
    ],
    date_format: Annotated[
        list[str] | None,
        typer.Option(
            help="strptime format of dates of birth, tried before ISO/YYYYMMDD/MM/DD/YYYY."
        ),
    ] = None,
    threshold: Annotated[
        float, typer.Option(help="Match probability to link two records.")
    ] = DEFAULT_CONFIG.match_threshold,
    phone_region: Annotated[
        str, typer.Option(help="Region for phones without +country.")
    ] = DEFAULT_PHONE_REGION,
    truth: Annotated[
        str | None,
        typer.Option(help="Column with each record's true entity: measure the clusters."),
    ] = None,
    source: Annotated[
        str | None,
        typer.Option(help="Column naming each record's source: with --truth, scores per pair."),
    ] = None,
) -> None:
    """Deduplicate any person file: train unsupervised, cluster, one row per input record."""
    from ..identity.linkage_config import LinkageConfig
    from ..identity.normalise import DEFAULT_DATE_FORMATS
    from ..identity.person_file import parse_role_map, resolve_file

    try:
        roles = parse_role_map(role_map)
        formats = (*(date_format or ()), *DEFAULT_DATE_FORMATS)
        with console.status(f"resolving {input_path}..."):
            report = resolve_file(
                input_path,
                id_column,
                roles,
                out,
                date_formats=formats,
                phone_region=phone_region,
                config=LinkageConfig(match_threshold=threshold),
                truth_column=truth,
                source_column=source,
            )
    except ValueError as error:
        console.print(f"[red]error:[/red] {error}")
        raise typer.Exit(2) from error
    print_report(report)


def print_report(report) -> None:  # a person_file.ResolveReport
    """What was learned and, with the truth, how well it did; at 80 columns."""
    from rich.table import Table

    notes = report.training
    expected = notes.prior * report.records * (report.records - 1) / 2
    console.print(
        f"{report.records:,} records -> {report.clusters:,} clusters "
        f"({report.comparisons:,} comparisons, {report.matched_pairs:,} matched pairs)"
    )
    console.print(
        f"prior: {notes.prior:.3g} (about {expected:,.0f} matching pairs); {notes.prior_method}"
    )
    table = Table(title="What the model learned: evidence per level (log2 m/u)")
    for column in ("comparison", "level", "weight", "m from"):
        table.add_column(column, overflow="fold")
    for level in report.levels:
        weight = "-" if level.weight is None else f"{level.weight:+.1f}"
        table.add_row(
            level.comparison, level.level, weight, notes.m_source.get(level.comparison, "")
        )
    console.print(table)
    for rule, outcome in notes.sessions.items():
        console.print(f"EM blocked on {rule}: {outcome.splitlines()[0][:120]}")
    for warning in report.warnings:
        console.print(f"[yellow]warning:[/yellow] {warning}")
    if report.blocking_recall:
        compared, true_pairs = report.blocking_recall
        console.print(
            f"blocking recall: {compared:,} of {true_pairs:,} true pairs are ever compared "
            f"({compared / max(true_pairs, 1):.1%})"
        )
    if report.accuracy:
        scores = Table(title="Against the truth (pairwise; cluster F1)")
        for column in ("records", "precision", "recall", "F1", "cluster F1"):
            scores.add_column(column, justify="right" if column != "records" else "left")
        rows = {"all": report.accuracy, **report.by_source_pair}
        for name, a in rows.items():
            scores.add_row(
                name,
                f"{a.pair_precision:.4f}",
                f"{a.pair_recall:.4f}",
                f"{a.pair_f1:.4f}",
                f"{a.cluster_f1:.4f}",
            )
        console.print(scores)
    console.print("time: " + ", ".join(f"{k} {v:.1f}s" for k, v in report.timings.items()))
    console.print(f"written: {report.out}")
