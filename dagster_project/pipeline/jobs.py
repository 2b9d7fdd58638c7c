"""Jobs that span the stages: the whole pipeline, and the micro-batch.

``pipeline`` is every asset and check in dependency order, in one process (the stages take turns
on the one DuckDB writer anyway, and one process saves each step's start-up). ``journey run`` and
``journey demo run`` execute it in their own process (``in_process_run.py``) as ordinary runs of
this code location, so the Dagster UI lists them and re-executes them.

Micro-batches: new event files land, and within one run the platform ingests them, refreshes
the profile, rescores, decides and delivers.

``event_micro_batch_sensor`` (stopped by default) watches the event sources' landing folders (it
never opens the warehouse) and launches ``micro_batch``, which runs in one process, step after
step, to keep the latency of a small batch low. Identity is not re-run: events of known devices,
addresses and phones map to their customer at once; new people get their key at the nightly
reconcile. Run it instead of ``landing_files_sensor``, not beside it.

``customer_features`` does not need the training tables, so the micro-batch builds the dbt models
the decision reads and their tests, not the training snapshots. Each run takes only what the new
files can change: the changed sources' raw assets and everything in the job downstream of them,
with their checks (a web events file leaves the CRM loads and the customer dimension alone).
"""

from __future__ import annotations

import dagster as dg

from ..ml.assets import MODEL_TRAINING, POLICY_EVALUATION, UPLIFT_EVALUATION
from ..quality.checks import gx_checks
from ..settings import ML

PIPELINE_JOB = "pipeline"

pipeline_job = dg.define_asset_job(
    PIPELINE_JOB,
    selection=dg.AssetSelection.all(),
    executor_def=dg.in_process_executor,
    description="The whole pipeline on the landing files there: ingest, identity, profile, "
    "quality, models, scores, decisions, deliveries and analytics, one step after another.",
)

refresh_job = dg.define_asset_job(
    "refresh",
    selection=dg.AssetSelection.all() - dg.AssetSelection.groups("ingest") - MODEL_TRAINING,
    executor_def=dg.in_process_executor,
    description="Everything after ingest, from the raw tables as they are: identity, profile "
    "and training sets, scores with the current champions, decisions, deliveries, analytics.",
)

micro_batch_job = dg.define_asset_job(
    "micro_batch",
    # Not in a micro-batch: the training tables, the policy and uplift valuations, and the GX
    # suites (seconds of import and validation); dbt's own tests still gate every model built,
    # and the nightly full run validates with GX.
    selection=dg.AssetSelection.groups("ingest", "profile", ML, "decisioning", "activation")
    - MODEL_TRAINING
    - dg.AssetSelection.assets(POLICY_EVALUATION, UPLIFT_EVALUATION)
    - dg.AssetSelection.key_prefixes("training")
    - dg.AssetSelection.checks(*gx_checks),
    executor_def=dg.in_process_executor,
    config={
        "ops": {
            # Scores without reason codes (arbitration reads them for top offers only when
            # present), and deliveries at the wall clock.
            "ml__customer_scores": {"config": {"reason_codes": False}},
        }
    },
    description="New events -> ingest -> profile -> scores -> decisions -> deliveries, one run.",
)
