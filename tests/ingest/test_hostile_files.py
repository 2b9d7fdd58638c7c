"""Every landing file accounted for: a corpus of hostile files against a real DuckDB warehouse.

For every file: rows loaded + rows quarantined + rows in a file reported as not read equal the
rows the file declares, with the status and reason the case expects. Good rows in mixed files
still load, nothing outside the landing folder is read, and a rerun loads nothing twice.
"""

from __future__ import annotations

import os
import time
from collections import Counter
from pathlib import Path

import pytest

from dagster_project.ingest.loader import NOT_READ_STATUSES, LoadReport, load_source
from dagster_project.settings import LandingReadiness
from dagster_project.warehouse import connect
from tests.ingest.hostile_corpus import (
    CONTRACT,
    SECRET,
    HostileFile,
    complete_truncated,
    csv_text,
    good,
    write_corpus,
)

SETTLE = LandingReadiness(settle_seconds=60)
# Rows of these files are accounted for by the file's reason (or, for a redelivery, the original).
UNREAD_STATUSES = (*NOT_READ_STATUSES, "waiting", "duplicate_delivery")


def ingest(warehouse: Path, landing: Path, load_id: str) -> LoadReport:
    with connect(warehouse) as conn:
        return load_source(conn, CONTRACT, landing, load_id, readiness=SETTLE)


def query(warehouse: Path, sql: str, params: list | None = None) -> list[tuple]:
    with connect(warehouse, read_only=True) as conn:
        return conn.execute(sql, params or []).fetchall()


@pytest.fixture(scope="module")
def loaded_corpus(tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("hostile")
    landing, outside = root / "landing", root / "outside"
    folder = landing / CONTRACT.landing_subdir
    cases = write_corpus(folder, outside, old_mtime=time.time() - 3600)
    warehouse = root / "warehouse.duckdb"
    started = time.perf_counter()
    report = ingest(warehouse, landing, "load-1")
    seconds = time.perf_counter() - started
    return root, landing, warehouse, cases, report, seconds


def _prefix(case: HostileFile) -> str:
    return f"{CONTRACT.landing_subdir}/{case.entry}"


def test_the_corpus_is_big_enough(loaded_corpus) -> None:
    _, _, _, cases, report, seconds = loaded_corpus
    assert len(cases) >= 50
    assert len({c.name for c in cases}) == len(cases)
    statuses = Counter(f.status for f in report.files)
    print(f"\n{len(cases)} files in {seconds:.1f}s: {dict(sorted(statuses.items()))}")
    assert seconds < 60


def test_every_file_is_accounted_for(loaded_corpus) -> None:
    _, _, warehouse, cases, report, _ = loaded_corpus
    by_path = {f.path: f for f in report.files}
    # Exactly one outcome per case: none silently skipped, none invented.
    assert sorted(by_path) == sorted(_prefix(c) for c in cases)
    quarantine = query(
        warehouse,
        "SELECT source_file, reason FROM audit.quarantine WHERE source_table = ?",
        [CONTRACT.name],
    )
    reasons: dict[str, list[str]] = {}
    for source_file, reason in quarantine:
        reasons.setdefault(source_file, []).append(reason)
    raw_counts = dict(
        query(warehouse, f"SELECT _source_file, count(*) FROM raw.{CONTRACT.name} GROUP BY ALL")
    )
    failures = []
    for case in cases:
        outcome = by_path[_prefix(case)]
        not_read = case.declared if outcome.status in UNREAD_STATUSES else 0
        accounted = outcome.rows_loaded + outcome.rows_quarantined + not_read
        said = [outcome.error or "", *reasons.get(_prefix(case), [])]
        problems = []
        if outcome.status != case.status:
            problems.append(f"status {outcome.status} ({outcome.error}), expected {case.status}")
        if accounted != case.declared:
            problems.append(f"accounted {accounted} of {case.declared} declared rows")
        if outcome.rows_loaded != case.loaded:
            problems.append(f"loaded {outcome.rows_loaded}, expected {case.loaded}")
        if raw_counts.get(_prefix(case), 0) != outcome.rows_loaded:
            problems.append(f"raw table holds {raw_counts.get(_prefix(case), 0)} rows")
        if len(reasons.get(_prefix(case), [])) != outcome.rows_quarantined:
            problems.append(f"quarantine holds {len(reasons.get(_prefix(case), []))} rows")
        if outcome.status in UNREAD_STATUSES and (outcome.rows_loaded or outcome.rows_quarantined):
            problems.append("a file not read has rows")
        if case.reason is not None and not any(case.reason in text for text in said):
            problems.append(f"no reason says {case.reason!r}: {[t[:200] for t in said]}")
        if case.reason is None and outcome.error:
            problems.append(f"unexpected error {outcome.error}")
        if problems:
            failures.append(f"{case.name}: {'; '.join(problems)}")
    assert failures == [], "\n".join(failures)


def test_unread_files_have_a_manifest_row_with_the_reason(loaded_corpus) -> None:
    _, _, warehouse, cases, _, _ = loaded_corpus
    manifest = {
        path: (status, error)
        for path, status, error in query(
            warehouse,
            "SELECT path, status, error FROM audit.ingested_files WHERE source_table = ?",
            [CONTRACT.name],
        )
    }
    for case in cases:
        if case.status == "waiting":  # read by a later run, so not recorded as done
            assert _prefix(case) not in manifest
            continue
        status, error = manifest[_prefix(case)]
        assert status == case.status, case.name
        if status in NOT_READ_STATUSES:
            assert error and case.reason in error, case.name


def test_nothing_outside_the_landing_folder_is_read_or_shown(loaded_corpus) -> None:
    _, _, warehouse, _, report, _ = loaded_corpus
    stored = query(
        warehouse,
        f"SELECT count(*) FROM audit.quarantine WHERE record LIKE '%{SECRET}%' "
        f"OR reason LIKE '%{SECRET}%'",
    )
    assert stored == [(0,)]
    assert query(
        warehouse, f"SELECT count(*) FROM raw.{CONTRACT.name} WHERE holding_id LIKE '%TOP-SECRET%'"
    ) == [(0,)]
    assert not any("TOP-SECRET" in line for line in report.problems)
    manifest = query(
        warehouse, "SELECT count(*) FROM audit.ingested_files WHERE path LIKE '%outside%/%'"
    )
    assert manifest == [(0,)]


def test_huge_values_are_stored_truncated_with_a_marker(loaded_corpus) -> None:
    _, _, warehouse, _, _, _ = loaded_corpus
    rows = query(
        warehouse,
        "SELECT source_file, length(record), record LIKE '%[TRUNCATED]%', reason "
        "FROM audit.quarantine WHERE source_file LIKE '%huge%' OR source_file LIKE '%long%'",
    )
    assert len(rows) == 6  # the 40 MB and 20 MB lines of CSV and JSONL, two fields over 1 MB
    for source_file, length, marked, _ in rows:
        assert length < 12_000, source_file
        assert marked, source_file
    field_reason = next(r for f, _, _, r in rows if f.endswith("huge_field_1mb.csv"))
    assert "record stored truncated to 10000 characters" in field_reason


def test_rows_are_numbered_as_lines_of_the_file(loaded_corpus) -> None:
    _, _, warehouse, _, _, _ = loaded_corpus
    quarantined = query(
        warehouse,
        "SELECT row_number FROM audit.quarantine WHERE source_file LIKE '%unbalanced_quote.csv' "
        "ORDER BY 1",
    )
    assert quarantined == [(3,), (4,), (5,)]
    huge = query(
        warehouse,
        "SELECT row_number FROM audit.quarantine WHERE source_file LIKE '%huge_line_40mb.csv'",
    )
    assert huge == [(4,)]
    kept = query(
        warehouse,
        f"SELECT _row_number FROM raw.{CONTRACT.name} WHERE _source_file LIKE '%long_line_20mb.csv' "
        "ORDER BY 1",
    )
    assert kept == [(2,), (3,), (5,)]


def test_a_rerun_loads_nothing_twice_and_a_finished_file_loads_whole(loaded_corpus) -> None:
    _, landing, warehouse, _, first, _ = loaded_corpus
    before = query(warehouse, f"SELECT count(*) FROM raw.{CONTRACT.name}")[0][0]
    assert before == first.rows_loaded
    quarantined = query(warehouse, "SELECT count(*) FROM audit.quarantine")[0][0]

    again = ingest(warehouse, landing, "load-2")
    # Only the file still being written is looked at again, and it still waits.
    assert [(f.path, f.status) for f in again.files] == [
        (f"{CONTRACT.landing_subdir}/still_being_written.csv", "waiting")
    ]
    assert query(warehouse, f"SELECT count(*) FROM raw.{CONTRACT.name}")[0][0] == before

    path = landing / CONTRACT.landing_subdir / "still_being_written.csv"
    complete_truncated(path)
    old = time.time() - 3600
    os.utime(path, (old, old))
    third = ingest(warehouse, landing, "load-3")
    assert [(f.path, f.status, f.rows_loaded, f.rows_quarantined) for f in third.files] == [
        (f"{CONTRACT.landing_subdir}/still_being_written.csv", "loaded", 3, 0)
    ]
    assert query(warehouse, f"SELECT count(*) FROM raw.{CONTRACT.name}")[0][0] == before + 3
    assert query(warehouse, "SELECT count(*) FROM audit.quarantine")[0][0] == quarantined

    fourth = ingest(warehouse, landing, "load-4")
    assert fourth.files == []
    dup_keys = query(
        warehouse,
        f"SELECT holding_id, updated_at FROM raw.{CONTRACT.name} GROUP BY ALL HAVING count(*) > 1",
    )
    assert dup_keys == []


def test_a_linked_source_folder_is_refused(tmp_path: Path) -> None:
    landing, outside = tmp_path / "landing", tmp_path / "outside"
    outside.mkdir()
    (outside / "batch.csv").write_text(csv_text(good("linked", 2)), encoding="utf-8")
    (landing / CONTRACT.source).mkdir(parents=True)
    (landing / CONTRACT.landing_subdir).symlink_to(outside, target_is_directory=True)

    report = ingest(tmp_path / "w.duckdb", landing, "load-1")

    assert [(f.path, f.status) for f in report.files] == [(CONTRACT.landing_subdir, "refused")]
    assert report.rows_loaded == 0 and report.rows_quarantined == 0
    assert "symbolic link to a folder" in report.problems[0]


@pytest.mark.parametrize("marker", [".done", "_SUCCESS"])
def test_a_done_marker_releases_files(tmp_path: Path, marker: str) -> None:
    landing = tmp_path / "landing"
    folder = landing / CONTRACT.landing_subdir
    folder.mkdir(parents=True)
    (folder / "day.csv").write_text(csv_text(good("marker", 2)), encoding="utf-8")
    readiness = LandingReadiness(settle_seconds=0, done_marker=marker)
    warehouse = tmp_path / "w.duckdb"

    with connect(warehouse) as conn:
        first = load_source(conn, CONTRACT, landing, "load-1", readiness=readiness)
    assert [(f.status, f.rows_loaded) for f in first.files] == [("waiting", 0)]
    assert "done marker" in (first.files[0].error or "")

    (folder / ("day.csv.done" if marker == ".done" else marker)).write_text("")
    with connect(warehouse) as conn:
        second = load_source(conn, CONTRACT, landing, "load-2", readiness=readiness)
    # The marker itself is protocol, not data: it gets no outcome.
    assert [(f.path, f.status, f.rows_loaded) for f in second.files] == [
        (f"{CONTRACT.landing_subdir}/day.csv", "loaded", 2)
    ]


def test_readiness_is_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    from dagster_project.settings import landing_readiness

    monkeypatch.setenv("JOURNEY_LANDING_SETTLE_SECONDS", "45")
    monkeypatch.setenv("JOURNEY_LANDING_DONE_MARKER", "_SUCCESS")
    assert landing_readiness() == LandingReadiness(45.0, "_SUCCESS")
    monkeypatch.setenv("JOURNEY_LANDING_SETTLE_SECONDS", "soon")
    with pytest.raises(ValueError, match="JOURNEY_LANDING_SETTLE_SECONDS"):
        landing_readiness()


def test_the_cli_loads_every_source_and_never_shows_refused_content(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    from dagster_project.cli.app import app

    data = tmp_path / "data"
    folder = data / "landing" / CONTRACT.landing_subdir
    write_corpus(folder, tmp_path / "outside", old_mtime=time.time() - 3600)
    other = data / "landing" / "contact_centre" / "calls"
    other.mkdir(parents=True)
    (other / "calls.csv").write_text(
        "call_id,call_started_at,reason_code\nk1,2026-01-05T10:15:00Z,other\n", encoding="utf-8"
    )
    os.utime(other / "calls.csv", (time.time() - 3600, time.time() - 3600))
    monkeypatch.setenv("JOURNEY_LANDING_SETTLE_SECONDS", "60")

    result = CliRunner().invoke(app, ["ingest", "--data-dir", str(data)])

    assert result.exit_code == 0, result.output
    assert "TOP-SECRET" not in result.output
    assert "502 Bad Gateway" not in result.output  # the HTML page is refused, not quoted
    assert "still_being_written.csv: waiting" in result.output.replace("\n", "")
    with connect(data / "warehouse.duckdb", read_only=True) as conn:
        assert conn.execute("SELECT count(*) FROM raw.contact_centre__calls").fetchone() == (1,)
