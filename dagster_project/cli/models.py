"""``journey models``: the registry from the terminal (list, promote, roll back) and policy value."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table

from ..settings import MODEL_LABEL_TABLES, DataPaths, data_paths
from .common import DataDirOption, console, narrow_table

if TYPE_CHECKING:
    from mlflow import MlflowClient

models_app = typer.Typer(help="The MLflow model registry: list versions, promote, roll back.")
MODEL_NAMES = tuple(MODEL_LABEL_TABLES)


def print_models(paths: DataPaths, out: Console = console) -> None:
    """Every registered version of each model, one block per model (fits 80 columns): aliases,
    holdout metrics, the gate's decision and its same-holdout comparison with the champion."""
    from models.mlflow_store import connect_mlflow, tracking_uri

    client = connect_mlflow(paths.root)
    out.print("Registered models in")
    # Whole on a line of its own: a URI folded in two cannot be pasted.
    out.print(tracking_uri(paths.root), highlight=False, soft_wrap=True)
    for name in MODEL_NAMES:
        out.print(model_table(client, name))
    out.print(
        "roc_auc and pr_auc are each version's own holdout (its newest snapshot); the gate "
        "compares challenger and champion on the same holdout, by a margin."
    )


def model_table(client: MlflowClient, name: str) -> Table:
    from mlflow.exceptions import MlflowException

    from models.registry import gate_comparison

    table = narrow_table(name)
    table.add_column("v", justify="right", no_wrap=True)
    table.add_column("aliases")
    table.add_column("roc_auc", justify="right", no_wrap=True)
    table.add_column("pr_auc", justify="right", no_wrap=True)
    table.add_column("gate", no_wrap=True)
    table.add_column("vs champion on the same holdout", ratio=1)
    try:
        versions = client.search_model_versions(f"name = '{name}'", order_by=["version_number"])
        # Version searches leave aliases out; the registered model carries them.
        aliases = client.get_registered_model(name).aliases
    except MlflowException:
        versions, aliases = [], {}
    if not versions:
        table.add_row("-", "", "", "", "not trained", "scores are population rates")
    for version in versions:
        metrics = client.get_run(version.run_id).data.metrics if version.run_id else {}
        table.add_row(
            str(version.version),
            " ".join(a for a, v in sorted(aliases.items()) if str(v) == str(version.version)),
            f"{metrics.get('roc_auc', float('nan')):.4f}",
            f"{metrics.get('pr_auc', float('nan')):.4f}",
            version.tags.get("gate.decision", ""),
            gate_comparison(version.tags),
        )
    return table


def print_policy_values(paths: DataPaths) -> None:
    from ..demo.evaluation import policy_value
    from ..warehouse import connect

    with connect(paths.warehouse, read_only=True) as conn:
        values = policy_value(conn, paths.truth)
    if values is None:
        console.print("No demo truth or no contact decided here: nothing to value.")
        return
    table = narrow_table(
        f"The {values.contacts:,} contacts decided at {values.decided_at[:16]}, "
        "valued with the demo truth"
    )
    for column in ("per contact", "decided", "best static", "random", "oracle", "room", "x static"):
        table.add_column(column, justify="right")
    for name, measure, digits in (
        ("probability", values.probability, 4),
        ("value", values.value, 2),
    ):
        table.add_row(
            name,
            f"{measure.decided:.{digits}f}",
            f"{measure.best_static:.{digits}f}",
            f"{measure.random:.{digits}f}",
            f"{measure.oracle:.{digits}f}",
            f"{measure.captured_share:.0%}",
            f"{measure.vs_static:.2f}",
        )
    console.print(table)
    console.print(
        f"Best static (one offer/channel for all): {values.probability.best_static_pair} by "
        f"probability, {values.value.best_static_pair} by value\n"
        "room: the share of the way from random to the oracle captured",
        highlight=False,
    )


@models_app.command("list")
def list_models(data_dir: DataDirOption = None) -> None:
    """Every version of every model with its aliases, metrics and gate decision."""
    print_models(data_paths(data_dir))


@models_app.command("promote")
def promote_model(
    name: Annotated[str, typer.Argument(help="Registered model, e.g. offer_propensity.")],
    version: Annotated[str, typer.Argument(help="The version to make champion.")],
    data_dir: DataDirOption = None,
) -> None:
    """Make a version the champion by hand (what the gate does when a challenger wins)."""
    from models.registry import promote

    replaced = promote(data_paths(data_dir).root, name, version)
    console.print(f"{name}@champion is now version {version} (was {replaced or 'unset'}).")


@models_app.command("rollback")
def rollback_model(
    name: Annotated[str, typer.Argument(help="Registered model, e.g. offer_propensity.")],
    data_dir: DataDirOption = None,
) -> None:
    """Point champion back at the version the current champion replaced. Rescore afterwards."""
    from models.registry import rollback

    try:
        current, previous = rollback(data_paths(data_dir).root, name)
    except ValueError as error:
        console.print(f"[red]{error}[/red]")
        raise typer.Exit(1) from error
    console.print(
        f"{name}@champion rolled back from version {current} to {previous}. Materialize "
        "ml/customer_scores (or run the train_and_score_models job) to rescore with it."
    )


@models_app.command("evaluate")
def evaluate(data_dir: DataDirOption = None) -> None:
    """Value the current scores' policy against the demo world's true propensities."""
    print_policy_values(data_paths(data_dir))
