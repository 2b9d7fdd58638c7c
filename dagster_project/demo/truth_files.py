"""The demo world's truth files: their names and how to read them, and nothing of the simulator.

Evaluation code (identity accuracy, policy value, attribution) and the closed loop read the truth
through here, so reading it never loads the world generator. The pipeline itself never reads it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd

from dagster_project.settings import DataPaths

PERSONS_FILE = "persons.parquet"
RECORD_LINKS_FILE = "record_links.parquet"
INTENTS_FILE = "intents.parquet"
GRIEVANCES_FILE = "grievances.parquet"
PROPENSITIES_FILE = "propensities.parquet"
WORLD_FILE = "world.json"
# Written by the closed loop: which application each answered contact caused.
CAUSED_FILE = "closed_loop_conversions.parquet"


def has_truth(truth_dir: Path) -> bool:
    return (truth_dir / RECORD_LINKS_FILE).exists()


def load_persons(paths: DataPaths) -> pd.DataFrame:
    return pd.read_parquet(paths.truth / PERSONS_FILE)


def load_record_links(paths: DataPaths) -> pd.DataFrame:
    """table, record_id, person_id: which person each landing record belongs to."""
    return pd.read_parquet(paths.truth / RECORD_LINKS_FILE)


def load_world(paths: DataPaths) -> dict[str, Any]:
    return json.loads((paths.truth / WORLD_FILE).read_text(encoding="utf-8"))


def load_propensities(paths: DataPaths) -> pd.DataFrame:
    return pd.read_parquet(paths.truth / PROPENSITIES_FILE)


def truth_labels(truth_dir: Path) -> pd.Series | None:
    """True person per record id (``<table>:<id>``), or None when there is no truth."""
    links = truth_dir / RECORD_LINKS_FILE
    if not links.exists():
        return None
    truth = pd.read_parquet(links, columns=["table", "record_id", "person_id"])
    truth.index = truth["table"] + ":" + truth["record_id"]
    return truth[~truth.index.duplicated()]["person_id"]
