"""The demo world: a simulated bank whose customers leave realistic, messy traces in every source.

``generate_world`` writes one landing file per source and day (as the ingest contracts declare)
and the ground truth behind them; ``evaluation`` is the one door through which the pipeline
measures itself against that truth. Plain Python: nothing here imports Dagster. Importing this
package loads nothing: each name below is imported from its module when first used.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

_EXPORTS = {
    "WorldConfig": "dagster_project.demo.config",
    "WorldSummary": "dagster_project.demo.world",
    "generate_world": "dagster_project.demo.world",
    "load_persons": "dagster_project.demo.truth_files",
    "load_propensities": "dagster_project.demo.truth_files",
    "load_record_links": "dagster_project.demo.truth_files",
    "load_world": "dagster_project.demo.truth_files",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(import_module(_EXPORTS[name]), name)
