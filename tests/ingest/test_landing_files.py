"""The landing walk: what is a candidate, what waits, and what the sensor's fingerprint sees."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from dagster_project.ingest.contracts import CRM_PRODUCTS
from dagster_project.ingest.landing_files import (
    CANDIDATE,
    HIDDEN,
    REFUSED,
    WAITING,
    landing_entries,
)
from dagster_project.ingest.landing_watch import landing_fingerprint
from dagster_project.settings import LandingReadiness

CONTRACT = CRM_PRODUCTS


def _age(path: Path, seconds: float) -> None:
    then = time.time() - seconds
    os.utime(path, (then, then))


def test_entries_say_what_each_file_is(tmp_path: Path) -> None:
    landing = tmp_path / "landing"
    folder = landing / CONTRACT.landing_subdir
    (folder / "nested").mkdir(parents=True)
    outside = tmp_path / "outside.csv"
    outside.write_text("secret\n")
    (folder / "old.csv").write_text("a\n")
    (folder / "nested" / "deep.csv").write_text("a\n")
    (folder / "fresh.csv").write_text("a\n")
    (folder / ".tmp.csv").write_text("a\n")
    (folder / "link.csv").symlink_to(outside)
    for name in ("old.csv", "nested/deep.csv", ".tmp.csv"):
        _age(folder / name, 600)

    entries = landing_entries(landing, CONTRACT, LandingReadiness(settle_seconds=30))

    kinds = {e.relative.removeprefix(f"{CONTRACT.landing_subdir}/"): e.kind for e in entries}
    assert kinds == {
        ".tmp.csv": HIDDEN,
        "fresh.csv": WAITING,
        "link.csv": REFUSED,
        "nested/deep.csv": CANDIDATE,
        "old.csv": CANDIDATE,
    }
    assert [e.relative for e in entries] == sorted(e.relative for e in entries)


def test_a_settling_file_changes_the_fingerprint_but_a_dot_file_does_not(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("JOURNEY_LANDING_SETTLE_SECONDS", "30")
    landing = tmp_path / "landing"
    folder = landing / CONTRACT.landing_subdir
    folder.mkdir(parents=True)
    assert landing_fingerprint(landing, CONTRACT) == ""
    (folder / ".writing.csv.tmp").write_text("a\n")
    assert landing_fingerprint(landing, CONTRACT) == ""  # a temporary dot-file launches nothing

    (folder / "day.csv").write_text("a\n")
    waiting = landing_fingerprint(landing, CONTRACT)
    assert waiting != ""
    stat = (folder / "day.csv").stat()
    # The same size and time, now older than the settle time: the sensor must see it settle.
    monkeypatch.setenv("JOURNEY_LANDING_SETTLE_SECONDS", "0")
    settled = landing_fingerprint(landing, CONTRACT)
    assert (folder / "day.csv").stat().st_mtime_ns == stat.st_mtime_ns
    assert settled not in ("", waiting)


def test_a_text_file_ending_mid_line_waits_by_default(tmp_path: Path) -> None:
    landing = tmp_path / "landing"
    folder = landing / CONTRACT.landing_subdir
    folder.mkdir(parents=True)
    header = "customer_id,first_name\n"
    (folder / "half.csv").write_text(header + "C1,Ann\nC2,Bo")  # the writer is mid-line
    (folder / "whole.csv").write_text(header + "C1,Ann\n")
    old = folder / "old_unterminated.csv"
    old.write_text(header + "C1,Ann")  # legal: at rest long enough, no final newline
    _age(old, 120)
    kinds = {e.relative.rsplit("/", 1)[-1]: e for e in landing_entries(landing, CONTRACT)}
    assert kinds["half.csv"].kind == WAITING
    assert "last line has no newline" in kinds["half.csv"].reason
    assert kinds["whole.csv"].kind == CANDIDATE
    assert kinds["old_unterminated.csv"].kind == CANDIDATE


def test_a_file_that_fails_for_want_of_memory_is_read_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Running out of memory (or disk) is not the file's fault: it is not recorded as
    unreadable, and the next run loads it. (Memory exhaustion is injected: it cannot be
    produced on demand.)"""
    from dagster_project.ingest import loader
    from dagster_project.warehouse import connect
    from tests.ingest.hostile_corpus import csv_text, good

    folder = tmp_path / "landing" / CONTRACT.landing_subdir
    folder.mkdir(parents=True)
    path = folder / "day.csv"
    path.write_text(csv_text(good("mem", 3)), encoding="utf-8")
    _age(path, 120)
    real_stage = loader._Batch.stage

    def exhausted(self, *args, **kwargs):
        raise MemoryError("cannot allocate")

    monkeypatch.setattr(loader._Batch, "stage", exhausted)
    with connect(tmp_path / "w.duckdb") as conn:
        first = loader.load_source(conn, CONTRACT, tmp_path / "landing", "load-1")
    assert [(f.status, f.rows_loaded) for f in first.files] == [(WAITING, 0)]
    assert "the next run retries" in first.files[0].error

    monkeypatch.setattr(loader._Batch, "stage", real_stage)
    with connect(tmp_path / "w.duckdb") as conn:
        second = loader.load_source(conn, CONTRACT, tmp_path / "landing", "load-2")
    assert [(f.status, f.rows_loaded) for f in second.files] == [("loaded", 3)]
