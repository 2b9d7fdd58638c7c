"""The cross-stage definitions: the whole pipeline, the micro-batch and the sensor that launches
it."""

import dagster as dg

from .jobs import micro_batch_job, pipeline_job
from .sensors import event_micro_batch_sensor

defs = dg.Definitions(jobs=[pipeline_job, micro_batch_job], sensors=[event_micro_batch_sensor])
