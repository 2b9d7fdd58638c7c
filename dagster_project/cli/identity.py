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
            )
    except ValueError as error:
        console.print(f"[red]error:[/red] {error}")
        raise typer.Exit(2) from error
    console.print(
        f"{report.records:,} records -> {report.clusters:,} clusters "
        f"({report.comparisons:,} comparisons, {report.matched_pairs:,} matched pairs)"
    )
    console.print({k: f"{v:.2f}s" for k, v in report.timings.items()})
    console.print(f"written: {report.out}")
