"""Dagster wiring for the models: train and gate each one, score everyone, value the policy.

The ML code is in ``models/`` and is imported inside the asset bodies: MLflow, XGBoost and
scikit-learn take seconds to import, and loading the code location must not pay for that.
"""

import time

import dagster as dg

from ..pipeline.automation import schedule_status
from ..resources import WAREHOUSE_POOL, WarehouseResource
from ..settings import DATA_SCIENCE, ML, MODEL_LABEL_TABLES

GROUP = ML  # training, registration, the gate, scoring and the policy's value
FEATURE_SNAPSHOTS = dg.AssetKey(["training", "customer_feature_snapshots"])
CUSTOMER_FEATURES = dg.AssetKey(["marts", "customer_features"])
CUSTOMER_SCORES = dg.AssetKey([ML, "customer_scores"])
POLICY_EVALUATION = dg.AssetKey([ML, "policy_evaluation"])
UPLIFT_EVALUATION = dg.AssetKey([ML, "uplift_evaluation"])

# (registered model name, the dbt label model it trains on).
MODELS = tuple(MODEL_LABEL_TABLES.items())


class ModelTrainingConfig(dg.Config):
    """Overrides only: an unset value is the default of ``models.training.TrainingParams`` or of
    the gate (``models.registry.GATE_METRIC`` and ``GATE_MARGIN``), written there once."""

    gate_metric: str | None = None  # compared between challenger and champion on the same holdout
    gate_margin: float | None = None  # the challenger must beat the champion by at least this
    seed: int | None = None
    max_depth: int | None = None
    learning_rate: float | None = None
    max_rounds: int | None = None
    early_stopping_rounds: int | None = None

    def training_params(self):  # -> models.training.TrainingParams, imported when training
        from models.training import TrainingParams

        overrides = {
            name: value
            for name in (
                "seed",
                "max_depth",
                "learning_rate",
                "max_rounds",
                "early_stopping_rounds",
            )
            if (value := getattr(self, name)) is not None
        }
        return TrainingParams(**overrides)


class ScoringConfig(dg.Config):
    # Reason codes for every customer's top offer (about a quarter of the scoring time); off,
    # arbitration computes them for the customers it decides an action for.
    reason_codes: bool = True


def model_key(name: str) -> dg.AssetKey:
    return dg.AssetKey([ML, name])


def _mlflow_run_url(run_id: str, experiment_id: str) -> str:
    # Where `make mlflow` serves the UI; with a team server the run id is what to search for.
    return f"http://127.0.0.1:5000/#/experiments/{experiment_id}/runs/{run_id}"


def _model_asset(name: str, labels: str) -> dg.AssetsDefinition:
    @dg.asset(
        key=model_key(name),
        group_name=GROUP,
        pool=WAREHOUSE_POOL,
        kinds={"xgboost", "mlflow"},
        owners=[DATA_SCIENCE],
        deps=[FEATURE_SNAPSHOTS, dg.AssetKey(["training", labels])],
        description=f"The {name} model: trained on point-in-time snapshots, logged to MLflow, "
        "registered as challenger and promoted to champion only if it beats the champion on "
        "the same holdout and, valued off-policy on the contacts made, its policy is not worse.",
    )
    def train(
        context: dg.AssetExecutionContext, config: ModelTrainingConfig, warehouse: WarehouseResource
    ) -> dg.MaterializeResult:
        from models.registry import GATE_MARGIN, GATE_METRIC, champion_version
        from models.specs import model_spec
        from models.training_run import train_and_register
        from models.training_sets import TrainingDataError

        from .policy_gate import policy_check

        params = config.training_params()
        started = time.perf_counter()
        try:
            with warehouse.connect(read_only=True) as conn:
                report = train_and_register(
                    conn,
                    warehouse.paths.root,
                    model_spec(name),
                    params,
                    config.gate_metric or GATE_METRIC,
                    GATE_MARGIN if config.gate_margin is None else config.gate_margin,
                    policy_check(conn, warehouse.paths.root, name),
                )
        except TrainingDataError as error:
            # Too little fresh data to retrain (a window with one label value, say): keep the
            # champion and let scoring and decisions go on; with no champion yet (a new
            # deployment), scoring uses the population rates (models/cold_start.py).
            current = champion_version(warehouse.paths.root, name)
            if current is None:
                context.log.warning(
                    f"{name} not trained, no champion yet: scores are population rates "
                    f"until there is history to train on. {error}"
                )
                return dg.MaterializeResult(
                    metadata={"gate_decision": "cold_start", "reason": str(error)}
                )
            context.log.warning(f"{name} not retrained, champion v{current} kept: {error}")
            return dg.MaterializeResult(
                metadata={
                    "gate_decision": "not_retrained",
                    "champion_version": current,
                    "reason": str(error),
                }
            )
        gate = report.gate
        return dg.MaterializeResult(
            metadata={
                "model_version": report.version,
                "mlflow_run_id": report.run_id,
                "gate_decision": gate.decision,
                "champion_version": report.version if gate.promoted else gate.champion_version,
                "gate": dg.MetadataValue.json(gate.tags()),
                "holdout_metrics": dg.MetadataValue.json(
                    {k: round(v, 5) for k, v in report.trained.holdout_metrics.items()}
                ),
                **{
                    f"holdout_{k}": float(v)
                    for k, v in report.trained.holdout_metrics.items()
                    if k in ("roc_auc", "pr_auc", "log_loss")
                },
                "best_rounds": report.trained.best_rounds,
                "split": dg.MetadataValue.json(report.split_summary),
                "train_seconds": round(time.perf_counter() - started, 2),
            }
        )

    return train


model_assets = [_model_asset(name, labels) for name, labels in MODELS]
# What retraining materializes: each model trained, registered and gated.
MODEL_TRAINING = dg.AssetSelection.assets(*(model_key(name) for name, _ in MODELS))


@dg.asset(
    key=CUSTOMER_SCORES,
    group_name=GROUP,
    pool=WAREHOUSE_POOL,
    kinds={"xgboost", "duckdb"},
    owners=[DATA_SCIENCE],
    deps=[CUSTOMER_FEATURES, *(model_key(name) for name, _ in MODELS)],
    description="Every customer scored by each model's champion (models:/<name>@champion) into "
    "ml.customer_scores, with the model version and reason codes. A champion that fails "
    "to load fails the run and leaves the previous scores in place.",
)
def customer_scores(
    context: dg.AssetExecutionContext, config: ScoringConfig, warehouse: WarehouseResource
) -> dg.MaterializeResult:
    from models.champions import load_champion
    from models.cold_start import (
        MODELS_WITH_PRIOR_SCORES,
        population_rates,
        trained_version_scored,
    )
    from models.registry import ModelLoadError, NoChampionError
    from models.scoring import score_customers
    from models.specs import model_spec

    champions, untrained = {}, []
    for name, _ in MODELS:
        try:
            champions[name] = load_champion(name, warehouse.paths.root)
        except NoChampionError:
            untrained.append(name)
        except ModelLoadError as error:
            raise dg.Failure(
                description=f"{error}. The previous scores in ml.customer_scores are unchanged."
            ) from error
    started = time.perf_counter()
    with warehouse.connect() as conn:
        lost = {n: v for n in untrained if (v := trained_version_scored(conn, n)) is not None}
        if lost:
            raise dg.Failure(
                description="No champion in the model registry for "
                + ", ".join(f"{n} (whose scores are from version {v})" for n, v in lost.items())
                + ": the registry was recreated, emptied or is not the one that trained them "
                "(MLFLOW_TRACKING_URI?). The previous scores in ml.customer_scores are unchanged."
            )
        rates = {
            name: found
            for name in untrained
            if name in MODELS_WITH_PRIOR_SCORES
            and (found := population_rates(conn, model_spec(name))) is not None
        }
        summaries = score_customers(conn, champions, context.run.run_id, config.reason_codes, rates)
    if untrained:
        context.log.warning(
            f"No champion yet for {', '.join(untrained)}: "
            + (f"{', '.join(rates)} scored by population rates; " if rates else "")
            + "train once there is enough history."
        )
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": sum(s.rows for s in summaries),
            "models": dg.MetadataValue.json(
                {n: m.label for n, m in champions.items()}
                | {n: "population rate (no champion yet)" for n in rates}
            ),
            "untrained_models": dg.MetadataValue.json(untrained),
            "rows_per_model": dg.MetadataValue.json({s.model: s.rows for s in summaries}),
            "customers": summaries[0].customers if summaries else 0,
            "score_seconds": round(time.perf_counter() - started, 2),
        }
    )


@dg.asset(
    key=POLICY_EVALUATION,
    group_name=GROUP,
    pool=WAREHOUSE_POOL,
    kinds={"mlflow"},
    owners=[DATA_SCIENCE],
    deps=[dg.AssetKey(["decisioning", "next_best_actions"])],
    description="The contacts just decided (after eligibility, caps, quiet hours, exploration "
    "and the control group) valued with the demo world's true propensities, in probability and "
    "in value, beside the oracle, random and the best static rule; also logged to the MLflow "
    "experiment policy_evaluation. Skipped where there is no demo truth.",
)
def policy_evaluation(warehouse: WarehouseResource) -> dg.MaterializeResult:
    from models.policy_log import log_policy_values

    from ..demo.evaluation import policy_value

    with warehouse.connect(read_only=True) as conn:
        values = policy_value(conn, warehouse.paths.truth)
        if values is None:
            return dg.MaterializeResult(
                metadata={"note": "no demo truth or no contact decided here; nothing to value"}
            )
        run_id = log_policy_values(conn, warehouse.paths.root, values.as_metrics(), values.tags())
    return dg.MaterializeResult(
        metadata={
            **{k: round(v, 6) for k, v in values.as_metrics().items()},
            **values.tags(),
            "mlflow_run_id": run_id,
        }
    )


@dg.asset(
    key=UPLIFT_EVALUATION,
    group_name=GROUP,
    pool=WAREHOUSE_POOL,
    kinds={"mlflow", "xgboost"},
    owners=[DATA_SCIENCE],
    deps=[dg.AssetKey(["decisioning", "next_best_actions"])],
    description="How much response the contacts cause: a T-learner (XGBoost per arm) fitted on "
    "the contacts and the control group's held contacts, checked on a holdout of customers by "
    "its Qini coefficient and AUUC; logged to the MLflow experiment uplift. Says when the "
    "control group has too few rows or responses to learn from.",
)
def uplift_evaluation(warehouse: WarehouseResource) -> dg.MaterializeResult:
    from models.uplift import evaluate_t_learner
    from models.uplift_log import log_uplift

    from .uplift_rows import load_uplift_rows

    with warehouse.connect(read_only=True) as conn:
        rows, features = load_uplift_rows(conn, warehouse.paths.root)
    evaluation = evaluate_t_learner(rows, features)
    run_id = log_uplift(warehouse.paths.root, evaluation)
    return dg.MaterializeResult(
        metadata={
            "status": evaluation.status,
            "reason": evaluation.reason or "fitted",
            "rows": dg.MetadataValue.json(evaluation.rows),
            "responses": dg.MetadataValue.json(evaluation.responses),
            **{k: round(v, 6) for k, v in evaluation.metrics.items()},
            "mean_uplift_by_offer": dg.MetadataValue.json(evaluation.by_offer),
            "mlflow_run_id": run_id,
        }
    )


ml_assets = [*model_assets, customer_scores, policy_evaluation, uplift_evaluation]

train_models_job = dg.define_asset_job(
    "train_and_score_models",
    # The training sets first: a retrain on last week's snapshots learns nothing new.
    selection=dg.AssetSelection.key_prefixes("training") | dg.AssetSelection.groups(GROUP),
    description="Rebuild the training sets, retrain every model, gate the challengers, rescore "
    "every customer.",
)

weekly_training_schedule = dg.ScheduleDefinition(
    name="weekly_model_training",
    job=train_models_job,
    cron_schedule="0 4 * * 1",
    execution_timezone="UTC",
    description="Rebuild the training sets, retrain and gate every Monday at 04:00 UTC.",
    default_status=schedule_status(),
)
