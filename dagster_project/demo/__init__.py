"""The demo world: a simulated bank whose customers leave realistic, messy traces in every source.

``generate_world`` writes one landing file per source and day (as the ingest contracts declare)
and the ground truth behind them; ``load_propensities`` hands the truth to the closed-loop
simulator. Plain Python: nothing here imports Dagster.
"""

from dagster_project.demo.config import WorldConfig
from dagster_project.demo.propensities import load_propensities
from dagster_project.demo.truth import load_persons, load_record_links, load_world
from dagster_project.demo.world import WorldSummary, generate_world

__all__ = [
    "WorldConfig",
    "WorldSummary",
    "generate_world",
    "load_persons",
    "load_propensities",
    "load_record_links",
    "load_world",
]
