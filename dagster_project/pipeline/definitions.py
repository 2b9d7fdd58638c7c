"""The cross-stage definitions: the whole pipeline, the refresh after each ingest and the
micro-batch, with the sensors that launch them."""

import dagster as dg

from .jobs import micro_batch_job, pipeline_job, refresh_job
from .sensors import event_micro_batch_sensor, refresh_after_ingest

defs = dg.Definitions(
    jobs=[pipeline_job, refresh_job, micro_batch_job],
    sensors=[refresh_after_ingest, event_micro_batch_sensor],
)
