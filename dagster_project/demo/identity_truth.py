"""Identity accuracy against the demo world's truth. Evaluation code: the pipeline's outputs never
depend on it; it only measures them (through ``demo.evaluation``)."""

from __future__ import annotations

from pathlib import Path

import duckdb

from dagster_project.demo.truth_files import truth_labels
from dagster_project.identity.accuracy import (
    LinkageAccuracy,
    accuracy_by_source_pair,
    linkage_accuracy,
)


def _labelled_keys(conn: duckdb.DuckDBPyConnection, truth_dir: Path):
    """(keys indexed by record id with their source, the true person of each) or None."""
    truth = truth_labels(truth_dir)
    if truth is None:
        return None
    keys = conn.execute(
        "SELECT record_id, source_table, customer_key FROM identity.customer_keys"
    ).df()
    keys = keys[keys["record_id"].isin(truth.index)].set_index("record_id")
    return keys, truth.loc[keys.index]


def evaluate_by_source_pair(
    conn: duckdb.DuckDBPyConnection, truth_dir: Path
) -> dict[str, LinkageAccuracy] | None:
    """Accuracy per pair of sources (CRM with calls, CRM with applications, ...)."""
    labelled = _labelled_keys(conn, truth_dir)
    if labelled is None:
        return None
    keys, labels = labelled
    return accuracy_by_source_pair(keys["customer_key"], labels, keys["source_table"])


def evaluate_customer_keys(
    conn: duckdb.DuckDBPyConnection, truth_dir: Path
) -> tuple[LinkageAccuracy, dict[str, LinkageAccuracy]] | None:
    """Overall accuracy and accuracy per source over the records that have a truth label."""
    labelled = _labelled_keys(conn, truth_dir)
    if labelled is None:
        return None
    keys, labels = labelled
    overall = linkage_accuracy(keys["customer_key"], labels)
    # Per source: a source's records judged within the clusters they were put in.
    per_source = {
        source: linkage_accuracy(group["customer_key"], labels.loc[group.index])
        for source, group in keys.groupby("source_table")
    }
    return overall, per_source
