"""Dagster wiring for the next-best-action models in ``models/``."""
