"""The MLflow model registry: challenger on every new version, champion behind a gate.

Every registered version gets the ``challenger`` alias. The gate scores the challenger and the
current champion on the *same* holdout rows and moves ``champion`` only when the challenger wins by
the configured margin on the configured metric and, when given a policy check
(``dagster_project.ml.policy_gate``), its policy is not worse than the champion's valued
off-policy on the logged contacts; the comparison is recorded as tags on the challenger version
and on its training run. A promotion records the version it replaced
(``replaced_champion_version``), which is what ``rollback`` returns to.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from models.calibrated_booster import CalibratedBooster
from models.metrics import HIGHER_IS_BETTER, holdout_metrics
from models.mlflow_store import connect_mlflow

if TYPE_CHECKING:
    from typing import Protocol

    from mlflow import MlflowClient

    class PolicyComparison(Protocol):  # dagster_project.ml.policy_gate.PolicyComparison
        @property
        def refuses(self) -> bool: ...
        def note(self) -> str: ...
        def tags(self) -> dict[str, str]: ...

    # (challenger, champion) -> how their policies compare on the logged decisions
    PolicyCheck = Callable[["LoadedModel", "LoadedModel"], PolicyComparison]

# The promotion gate's defaults: the metric compared on the same holdout, and by how much a
# challenger must beat the champion on it.
GATE_METRIC = "roc_auc"
GATE_MARGIN = 0.002
CHAMPION = "champion"
CHALLENGER = "challenger"
REPLACED_TAG = "replaced_champion_version"


class ModelLoadError(RuntimeError):
    """A registered model could not be loaded; nothing that depends on it was changed."""


class NoChampionError(ModelLoadError):
    """The model has no version under that alias yet (none was ever trained or promoted)."""

    # MLflow's codes for an unknown registered model and for an unknown alias.
    MLFLOW_CODES = ("RESOURCE_DOES_NOT_EXIST", "INVALID_PARAMETER_VALUE")


@dataclass(frozen=True)
class LoadedModel:
    name: str
    version: str
    run_id: str
    model: CalibratedBooster

    @property
    def label(self) -> str:
        return f"{self.name}@{self.version}"


@dataclass(frozen=True)
class GateResult:
    # first_champion, promoted, kept_champion, champion_not_comparable, refused_by_policy_value
    decision: str
    metric: str
    margin: float
    challenger_version: str
    challenger_value: float
    champion_version: str | None = None
    champion_value: float | None = None
    note: str = ""
    policy: dict[str, str] = field(default_factory=dict)  # the policy comparison's tags

    @property
    def promoted(self) -> bool:
        return self.decision in ("first_champion", "promoted")

    def tags(self) -> dict[str, str]:
        values = {
            "gate.decision": self.decision,
            "gate.metric": self.metric,
            "gate.margin": str(self.margin),
            "gate.challenger_version": self.challenger_version,
            "gate.challenger_value": f"{self.challenger_value:.6f}",
            "gate.champion_version": self.champion_version or "",
            "gate.champion_value": ""
            if self.champion_value is None
            else f"{self.champion_value:.6f}",
            "gate.note": self.note,
            **self.policy,
        }
        return {k: v for k, v in values.items() if v != ""}

    def comparison(self) -> str:
        return gate_comparison(self.tags())


def gate_comparison(tags: Mapping[str, str]) -> str:
    """The gate's same-holdout comparison in a few words, from a version's ``gate.*`` tags:
    "vs v1: +0.0040 < margin 0.01 (roc_auc)". The metrics each run logged are on its own
    holdout; this is the one comparison that puts challenger and champion on the same rows."""
    decision = tags.get("gate.decision")
    if not decision:
        return ""
    champion = tags.get("gate.champion_version")
    if decision == "first_champion":
        return "no champion yet"
    if decision == "champion_not_comparable":
        return f"v{champion} could not score the holdout"
    metric, margin = tags["gate.metric"], float(tags["gate.margin"])
    gain = float(tags["gate.challenger_value"]) - float(tags["gate.champion_value"])
    if not HIGHER_IS_BETTER.get(metric, True):
        gain = -gain
    text = f"vs v{champion}: {gain:+.4f} {'>=' if gain >= margin else '<'} margin {margin:g} ({metric})"
    if decision == "refused_by_policy_value":
        text += "; policy value worse"
    return text


def load_model_version(name: str, alias_or_version: str, data_root: Path) -> LoadedModel:
    """``models:/<name>@<alias>`` (or ``models:/<name>/<version>`` for a number), loaded."""
    import mlflow
    from mlflow.exceptions import MlflowException

    client = connect_mlflow(data_root)
    by_alias = not alias_or_version.isdigit()
    uri = f"models:/{name}@{alias_or_version}" if by_alias else f"models:/{name}/{alias_or_version}"
    try:
        if by_alias:
            version = client.get_model_version_by_alias(name, alias_or_version)
        else:
            version = client.get_model_version(name, alias_or_version)
    except Exception as error:
        missing = (
            isinstance(error, MlflowException) and error.error_code in NoChampionError.MLFLOW_CODES
        )
        raise (NoChampionError if missing else ModelLoadError)(
            f"could not load {uri}: {error}"
        ) from error
    try:
        # The version the alias names now, loaded by number: a gate moving the alias meanwhile
        # cannot pair this version's label with another version's booster.
        pyfunc = mlflow.pyfunc.load_model(f"models:/{name}/{version.version}")
        model = pyfunc.unwrap_python_model().model
    except Exception as error:  # a model can fail to load in many ways; all mean the same here
        raise ModelLoadError(f"could not load {uri}: {error}") from error
    return LoadedModel(name, str(version.version), version.run_id or "", model)


def gate_challenger(
    client: MlflowClient,
    data_root: Path,
    name: str,
    challenger: LoadedModel,
    holdout: pd.DataFrame,
    metric: str,
    margin: float,
    policy_check: PolicyCheck | None = None,
) -> GateResult:
    """Compare challenger and champion on ``holdout`` and move the champion alias if it wins;
    with ``policy_check``, a challenger whose policy is worse than the champion's off-policy
    (``models.policy_gate``) is refused even when its metric wins."""
    if metric not in HIGHER_IS_BETTER:
        raise ValueError(f"gate metric {metric!r} is not one of {sorted(HIGHER_IS_BETTER)}")
    result = _compare(client, data_root, name, challenger, holdout, metric, margin, policy_check)
    if result.promoted:
        set_champion(client, name, challenger.version, replaced=result.champion_version)
    _record(client, name, challenger, result)
    return result


def _compare(
    client: MlflowClient,
    data_root: Path,
    name: str,
    challenger: LoadedModel,
    holdout: pd.DataFrame,
    metric: str,
    margin: float,
    policy_check: PolicyCheck | None = None,
) -> GateResult:
    labels = holdout[challenger.model.spec.label].to_numpy()
    challenger_value = holdout_metrics(labels, challenger.model.predict_proba(holdout))[metric]
    common = {
        "metric": metric,
        "margin": margin,
        "challenger_version": challenger.version,
        "challenger_value": challenger_value,
    }
    champion_version = _alias_version(client, name, CHAMPION)
    if champion_version is None:
        return GateResult("first_champion", **common)
    try:
        champion = load_model_version(name, CHAMPION, data_root)
        champion_scores = champion.model.predict_proba(holdout)
    except (ModelLoadError, ValueError) as error:  # e.g. trained on features that are gone
        return GateResult(
            "champion_not_comparable", champion_version=champion_version, note=str(error), **common
        )
    champion_value = holdout_metrics(labels, champion_scores)[metric]
    gain = challenger_value - champion_value
    if not HIGHER_IS_BETTER[metric]:
        gain = -gain
    decision, note, policy = "promoted" if gain >= margin else "kept_champion", "", {}
    if policy_check is not None:
        comparison = policy_check(challenger, champion)
        note, policy = comparison.note(), comparison.tags()
        if decision == "promoted" and comparison.refuses:
            decision = "refused_by_policy_value"
    return GateResult(
        decision,
        champion_version=champion_version,
        champion_value=champion_value,
        note=note,
        policy=policy,
        **common,
    )


def _record(client: MlflowClient, name: str, challenger: LoadedModel, result: GateResult) -> None:
    for key, value in result.tags().items():
        client.set_model_version_tag(name, challenger.version, key, value)
        if challenger.run_id:
            client.set_tag(challenger.run_id, key, value)


def set_champion(
    client: MlflowClient, name: str, version: str, replaced: str | None = None
) -> None:
    if replaced and replaced != version:
        client.set_model_version_tag(name, version, REPLACED_TAG, replaced)
    client.set_registered_model_alias(name, CHAMPION, version)


def promote(data_root: Path, name: str, version: str) -> str | None:
    """Make ``version`` the champion by hand; returns the version it replaced."""
    client = connect_mlflow(data_root)
    client.get_model_version(name, version)  # raises a clear MlflowException when unknown
    current = _alias_version(client, name, CHAMPION)
    set_champion(client, name, version, replaced=current)
    return current


def rollback(data_root: Path, name: str) -> tuple[str, str]:
    """Point ``champion`` back at the version the current champion replaced."""
    client = connect_mlflow(data_root)
    current = _alias_version(client, name, CHAMPION)
    if current is None:
        raise ValueError(f"{name} has no champion to roll back")
    previous = client.get_model_version(name, current).tags.get(REPLACED_TAG)
    if not previous:
        raise ValueError(
            f"{name}@{CHAMPION} is version {current}, which replaced no earlier champion"
        )
    client.set_registered_model_alias(name, CHAMPION, previous)
    client.set_model_version_tag(name, current, "rolled_back_to", previous)
    return current, previous


def champion_version(data_root: Path, name: str) -> str | None:
    """The version ``champion`` names now, or None when there is none."""
    return champion_versions(data_root, [name])[name]


def champion_versions(data_root: Path, names: Iterable[str]) -> dict[str, str | None]:
    """Each model's champion version (None where there is none), from one store connection."""
    client = connect_mlflow(data_root)
    return {name: _alias_version(client, name, CHAMPION) for name in names}


def _alias_version(client: MlflowClient, name: str, alias: str) -> str | None:
    from mlflow.exceptions import MlflowException

    try:
        return str(client.get_model_version_by_alias(name, alias).version)
    except MlflowException:
        return None
