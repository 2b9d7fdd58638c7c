"""Evaluation against a demo world's truth: the one door through which the pipeline asks.

Stages call these only to *measure* what they produced (identity accuracy, the value of the
targeting policy, attribution against caused conversions); nothing they compute depends on the
answers. Every function returns None where the data directory holds no demo truth, as at a bank.
Importing this module loads neither the simulator nor pandas-heavy evaluation code: each function
imports its implementation when called.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import duckdb
    import pandas as pd

    from dagster_project.demo.policy_value import PolicyValues
    from dagster_project.identity.accuracy import LinkageAccuracy


def has_truth(truth_dir: Path) -> bool:
    from dagster_project.demo.truth_files import has_truth as exists

    return exists(truth_dir)


def identity_accuracy(
    conn: duckdb.DuckDBPyConnection, truth_dir: Path
) -> tuple[LinkageAccuracy, dict[str, LinkageAccuracy]] | None:
    """Pairwise and cluster accuracy of ``identity.customer_keys``, overall and per source."""
    from dagster_project.demo.identity_truth import evaluate_customer_keys

    return evaluate_customer_keys(conn, truth_dir)


def identity_accuracy_by_source_pair(
    conn: duckdb.DuckDBPyConnection, truth_dir: Path
) -> dict[str, LinkageAccuracy] | None:
    """Accuracy of ``identity.customer_keys`` per pair of sources ("a~b"; "a~a" within one)."""
    from dagster_project.demo.identity_truth import evaluate_by_source_pair

    return evaluate_by_source_pair(conn, truth_dir)


def policy_value(conn: duckdb.DuckDBPyConnection, truth_dir: Path) -> PolicyValues | None:
    """The latest decided contacts valued with the true propensities, beside the oracle, random
    and the best static rule, in probability and in value (marketing's offer values)."""
    from dagster_project.decisioning.config import load_marketing_config
    from dagster_project.demo.policy_value import evaluate_policies
    from dagster_project.settings import config_dir

    offers = load_marketing_config(config_dir()).offers.offers
    return evaluate_policies(conn, truth_dir, {o.id: (o.product, o.value) for o in offers})


def attribution_check(journeys: pd.DataFrame, credits: pd.DataFrame, truth_dir: Path):
    """Each attribution model's credit to email, push and SMS beside the conversions the closed
    loop caused on them, or None before any loop day."""
    from dagster_project.demo.attribution_truth import caused_conversions, compare_with_truth

    caused = caused_conversions(journeys, truth_dir)
    return None if caused is None else compare_with_truth(credits, caused)
