"""The cross-stage definitions: the micro-batch job and the sensor that launches it."""

import dagster as dg

from .jobs import micro_batch_job
from .sensors import event_micro_batch_sensor

defs = dg.Definitions(jobs=[micro_batch_job], sensors=[event_micro_batch_sensor])
