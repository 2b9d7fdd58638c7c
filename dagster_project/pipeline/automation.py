"""What keeps the platform fresh without anyone pressing a button, and whether it runs by
default.

With ``JOURNEY_AUTOMATION=on`` (``make dev``), as soon as the daemon runs:
- ``landing_files_sensor`` ingests the sources whose landing folders changed;
- ``refresh_after_ingest`` then runs job ``refresh``: identity, the profile (marts and training
  sets), scores with the current champions, decisions, deliveries and analytics;
- ``due_actions_sensor`` delivers each action when it falls due (after quiet hours, at its hour);
- ``weekly_model_training`` rebuilds the training sets and retrains and gates every model;
- ``nightly_journey_analytics`` rebuilds the report for the morning.
The nightly ingest and identity schedules are a safety net for when the sensors are off, and the
micro-batch sensor replaces ``landing_files_sensor`` for low-latency event feeds: they stay off.
"""

from __future__ import annotations

import dagster as dg

from ..settings import automation_enabled


def sensor_status() -> dg.DefaultSensorStatus:
    running = automation_enabled()
    return dg.DefaultSensorStatus.RUNNING if running else dg.DefaultSensorStatus.STOPPED


def schedule_status() -> dg.DefaultScheduleStatus:
    running = automation_enabled()
    return dg.DefaultScheduleStatus.RUNNING if running else dg.DefaultScheduleStatus.STOPPED
