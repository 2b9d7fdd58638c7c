"""Identity on census-style registers written by an independent generator (tests/generators):
households, twins, namesake sons, maiden names, moves, and register noise the demo world's
generator does not make. The model is trained on the file itself, as for any user's file."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from dagster_project.identity.accuracy import linkage_accuracy
from dagster_project.identity.person_file import resolve_file
from tests.generators.person_registers import TRUTH_COLUMN, write_register_file


def _resolve(tmp_path: Path, shape: str, seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    path = tmp_path / f"{shape}.csv"
    roles = write_register_file(path, shape, persons=4000, seed=seed)
    report = resolve_file(path, "record_id", roles, tmp_path / f"{shape}.parquet")
    clusters = pd.read_parquet(report.out).set_index("record_id")
    truth = pd.read_csv(path, dtype=str).set_index("record_id")
    return clusters, truth


@pytest.mark.parametrize("seed", [3])
def test_census_and_social_security_register(tmp_path: Path, seed: int) -> None:
    clusters, truth = _resolve(tmp_path, "census_ssa", seed)
    accuracy = linkage_accuracy(clusters["cluster_id"], truth[TRUTH_COLUMN])
    assert accuracy.pair_f1 >= 0.97, accuracy
    assert accuracy.pair_precision >= 0.98, accuracy


@pytest.mark.parametrize("seed", [3])
def test_census_and_tax_forms_without_dates_of_birth(tmp_path: Path, seed: int) -> None:
    clusters, truth = _resolve(tmp_path, "census_tax", seed)
    accuracy = linkage_accuracy(clusters["cluster_id"], truth[TRUTH_COLUMN])
    # The goal; seeds 0 and 3 reach 0.95-0.96 F1 at 0.98 precision.
    assert accuracy.pair_f1 >= 0.92, accuracy
    assert accuracy.pair_precision >= 0.98, accuracy
