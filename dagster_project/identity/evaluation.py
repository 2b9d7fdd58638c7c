"""Identity accuracy against the demo world's truth. Evaluation code: the pipeline's outputs never
depend on it; it only measures them."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pandas as pd

from .accuracy import LinkageAccuracy, linkage_accuracy


def truth_labels(truth_dir: Path) -> pd.Series | None:
    """True person per record id (``<table>:<id>``), or None when there is no truth."""
    links = truth_dir / "record_links.parquet"
    if not links.exists():
        return None
    truth = pd.read_parquet(links, columns=["table", "record_id", "person_id"])
    truth.index = truth["table"] + ":" + truth["record_id"]
    return truth[~truth.index.duplicated()]["person_id"]


def evaluate_customer_keys(
    conn: duckdb.DuckDBPyConnection, truth_dir: Path
) -> tuple[LinkageAccuracy, dict[str, LinkageAccuracy]] | None:
    """Overall accuracy and accuracy per source over the records that have a truth label."""
    truth = truth_labels(truth_dir)
    if truth is None:
        return None
    keys = conn.execute(
        "SELECT record_id, source_table, customer_key FROM identity.customer_keys"
    ).df()
    keys = keys[keys["record_id"].isin(truth.index)].set_index("record_id")
    labels = truth.loc[keys.index]
    overall = linkage_accuracy(keys["customer_key"], labels)
    # Per source: a source's records judged within the clusters they were put in.
    per_source = {
        source: linkage_accuracy(group["customer_key"], labels.loc[group.index])
        for source, group in keys.groupby("source_table")
    }
    return overall, per_source
