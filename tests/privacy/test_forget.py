"""``journey forget`` on a small world built through the pipeline: afterwards no file under the
data directory holds the person, nobody else's scores or decisions moved, and a re-delivered
landing file does not bring them back."""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import dagster as dg
import duckdb
import pandas as pd
import pytest

from dagster_project.activation.assets import deliveries
from dagster_project.cli.demo import WORLD_CLOCK
from dagster_project.decisioning.assets import next_best_actions
from dagster_project.demo import WorldConfig
from dagster_project.ingest.contracts import CONTRACTS, CRM_CUSTOMERS, EMAIL_EVENTS
from dagster_project.ingest.loader import load_source
from dagster_project.ml.assets import ml_assets
from dagster_project.privacy.erasure import find_customer_keys
from dagster_project.privacy.person import UnknownPerson
from dagster_project.settings import DataPaths
from dagster_project.warehouse import connect
from tests.factories import resources_for
from tests.worlds import build_world

pytestmark = pytest.mark.slow

JOURNEY = Path(sys.executable).parent / "journey"


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> DataPaths:
    """300 customers over 64 days, scored, decided and delivered; Dagster's own SQLite event
    log lives inside the data directory so the scan covers it too."""
    paths, profile = build_world(
        tmp_path_factory.mktemp("forget-world"), WorldConfig(customers=300, days=64, seed=5)
    )
    assert profile.success
    dagster_home = paths.root / "dagster_home"
    dagster_home.mkdir()
    with dg.instance_for_test(temp_dir=str(dagster_home)) as instance:
        result = dg.materialize(
            [*ml_assets, next_best_actions, deliveries],
            instance=instance,
            resources=resources_for(paths),
            # the world's own clock, a simulated day of deliveries, as the demo runs them:
            # whatever hour the test runs at, contacts held for quiet hours go out too
            run_config={"ops": {op: {"config": c} for op, c in WORLD_CLOCK.items()}},
            raise_on_error=False,
        )
    assert result.success
    return paths


def _query(paths: DataPaths, sql: str, params: list | None = None) -> pd.DataFrame:
    with connect(paths.warehouse, read_only=True) as conn:
        return conn.execute(sql, params or []).df()


def _pick_person(paths: DataPaths) -> dict:
    """A decided CRM customer with a delivered contact (a message file), and an email, a phone and a date of
    birth that no other CRM customer or applicant shares, and a last name nobody else has (so
    the scan can tell). Delivered: a contact deferred past quiet hours at the hour the test
    runs has no message file yet."""
    people = _query(
        paths,
        """
        WITH crm AS (SELECT * FROM raw.crm__customers),
        unique_people AS (
            SELECT c.customer_id, any_value(c.first_name) AS first_name,
                any_value(c.last_name) AS last_name, any_value(c.email) AS email,
                any_value(c.phone) AS phone, any_value(c.date_of_birth) AS dob
            FROM crm AS c
            WHERE c.email IS NOT NULL AND c.phone IS NOT NULL AND c.date_of_birth IS NOT NULL
            GROUP BY c.customer_id)
        SELECT u.*, k.customer_key FROM unique_people AS u
        JOIN identity.customer_keys AS k ON k.record_id = 'crm__customers:' || u.customer_id
        WHERE k.customer_key IN (SELECT customer_key FROM decisioning.next_best_actions)
          AND k.customer_key IN (SELECT customer_key FROM ml.offer_propensity_scores)
          AND k.customer_key IN (SELECT o.customer_key FROM activation.outbox AS o
              JOIN activation.action_log USING (decision_id)
              WHERE o.state = 'delivered' AND o.action = 'contact')
          AND lower(u.email) IN (SELECT lower(recipient_email) FROM raw.email__events)
          AND NOT EXISTS (SELECT 1 FROM crm AS o WHERE o.customer_id <> u.customer_id
              AND (o.last_name = u.last_name OR o.date_of_birth = u.dob
                   OR o.email = u.email OR o.phone = u.phone))
          AND NOT EXISTS (SELECT 1 FROM raw.outcomes__applications AS a
              WHERE coalesce(a.customer_id, '') <> u.customer_id
              AND (a.last_name = u.last_name OR a.date_of_birth = u.dob))
          AND NOT EXISTS (SELECT 1 FROM raw.contact_centre__calls AS cc
              WHERE cc.caller_name ILIKE '%' || u.last_name || '%'
              AND coalesce(cc.customer_id, '') <> u.customer_id)
        ORDER BY u.customer_id LIMIT 1
        """,
    )
    assert len(people) == 1, "the world should have someone to forget"
    return people.iloc[0].to_dict()


def _strings(paths: DataPaths, person: dict) -> set[str]:
    """Every way the person is written: names, email, phone raw and normalised, the date of
    birth in each format sources use, and their ids."""
    dob = pd.Timestamp(person["dob"])
    phones = set(
        _query(
            paths,
            "SELECT DISTINCT phone FROM raw.crm__customers WHERE customer_id = ? UNION "
            "SELECT DISTINCT phone FROM raw.outcomes__applications WHERE customer_id = ? UNION "
            "SELECT DISTINCT caller_phone FROM raw.contact_centre__calls WHERE customer_id = ?",
            [person["customer_id"]] * 3,
        )
        .iloc[:, 0]
        .dropna()
    )
    digits = {"".join(ch for ch in p if ch.isdigit()) for p in phones}
    return {
        person["last_name"],
        f"{person['first_name']} {person['last_name']}",
        person["email"],
        person["email"].lower(),
        *phones,
        *digits,
        *(d[-10:] for d in digits),
        dob.strftime("%Y-%m-%d"),
        dob.strftime("%d/%m/%Y"),
        dob.strftime("%m/%d/%Y"),
        dob.strftime("%Y%m%d"),
        person["customer_key"],
        person["customer_id"],
    }


def _file_texts(path: Path) -> list[bytes]:
    """The bytes of a file as stored, and what it holds decoded where it is compressed."""
    data = path.read_bytes()
    texts = [data]
    if path.suffix == ".gz":
        texts.append(gzip.decompress(data))
    if path.suffix == ".parquet":
        with duckdb.connect() as conn:
            frame = conn.execute(f"SELECT * FROM read_parquet('{path}')").df()
        texts.append(frame.astype(str).to_csv(index=False).encode())
    if data.startswith(b"DUCK", 8):
        texts.append(_duckdb_text(path))
    return texts


def _duckdb_text(path: Path) -> bytes:
    """Every value of every table, as text: DuckDB compresses strings, so bytes alone miss."""
    with duckdb.connect(str(path), read_only=True) as conn:
        tables = conn.execute(
            "SELECT schema_name, table_name FROM duckdb_tables() WHERE database_name = "
            "current_database()"
        ).fetchall()
        parts = [
            conn.execute(f'SELECT * FROM "{s}"."{t}"').df().astype(str).to_csv(index=False)
            for s, t in tables
        ]
    return "\n".join(parts).encode()


def scan(root: Path, strings: set[str]) -> dict[str, list[str]]:
    """Each string -> the files under ``root`` holding it (as stored or decoded)."""
    found: dict[str, list[str]] = {}
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        texts = _file_texts(path)
        for s in strings:
            if any(s.encode() in t for t in texts):
                found.setdefault(s, []).append(str(path.relative_to(root)))
    return found


def _forget(paths: DataPaths, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(JOURNEY), "forget", *args, "--data-dir", str(paths.root)],
        capture_output=True,
        text=True,
        env={**os.environ, "COLUMNS": "80", "JOURNEY_DATA_DIR": str(paths.root)},
        timeout=600,
    )


def _others(paths: DataPaths, table: str, key: str, order: str) -> pd.DataFrame:
    return _query(
        paths, f"SELECT * FROM {table} WHERE customer_key <> ? ORDER BY {order}", [key]
    ).reset_index(drop=True)


def test_forget_leaves_no_trace_and_keeps_them_out(world: DataPaths, tmp_path: Path) -> None:
    paths = world
    person = _pick_person(paths)
    key = person["customer_key"]
    strings = _strings(paths, person)

    # An unknown key says so, exits non-zero and changes nothing.
    before_hash = hashlib.sha256(paths.warehouse.read_bytes()).hexdigest()
    unknown = _forget(paths, "ck_000000000000")
    assert unknown.returncode == 1
    assert "Nothing was erased" in unknown.stdout and "ck_000000000000" in unknown.stdout
    assert _forget(paths, "--email", "nobody@nowhere.example").returncode == 1
    assert hashlib.sha256(paths.warehouse.read_bytes()).hexdigest() == before_hash
    assert not (paths.root / "privacy" / "receipts").exists()

    # The scan can see them before: their email, phone, key, name and birth date are there.
    before = scan(paths.root, strings)
    for s in (person["email"], person["phone"], key, person["last_name"]):
        assert before.get(s), f"{s!r} should be in the world before it is forgotten"
    assert before.get(pd.Timestamp(person["dob"]).strftime("%Y-%m-%d"))

    # What they would bring back: the original landing files holding them.
    redelivered = {}
    for contract, needle in (
        (CRM_CUSTOMERS, person["customer_id"]),
        (EMAIL_EVENTS, person["email"]),
    ):
        folder = paths.landing / contract.landing_subdir
        holding = [p for p in sorted(folder.iterdir()) if needle in p.read_text()]
        assert holding, f"{contract.name} should hold them"
        original = holding[0]
        rows = sum(needle in line for line in original.read_text().splitlines())
        shutil.copy(original, tmp_path / original.name)
        redelivered[contract] = (tmp_path / original.name, rows)

    scores_before = _others(paths, "ml.offer_propensity_scores", key, "ALL")
    decisions_before = _others(paths, "decisioning.next_best_actions", key, "decision_id")
    assert len(scores_before) > 100 and len(decisions_before) > 100

    # The email and phone find them however they are written.
    digits = "".join(ch for ch in person["phone"] if ch.isdigit())[-10:]
    spaced = f"({digits[:3]}) {digits[3:6]}-{digits[6:]}"
    assert find_customer_keys(paths, phone=spaced) == {key}
    assert find_customer_keys(paths, email=f" {person['email'].upper()} ") == {key}
    with pytest.raises(UnknownPerson):
        find_customer_keys(paths, email="nobody@nowhere.example")

    done = _forget(paths, "--email", person["email"].upper())
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Receipt:" in done.stdout
    assert all(len(line) <= 80 for line in done.stdout.splitlines())

    # Nothing under the data directory holds them any more.
    assert scan(paths.root, strings) == {}

    # Nobody else moved.
    pd.testing.assert_frame_equal(
        _others(paths, "ml.offer_propensity_scores", key, "ALL"), scores_before
    )
    pd.testing.assert_frame_equal(
        _others(paths, "decisioning.next_best_actions", key, "decision_id"), decisions_before
    )

    # The receipt says where they were removed from, without saying who they were.
    receipts = list((paths.root / "privacy" / "receipts").glob("*.json"))
    assert len(receipts) == 1
    receipt = json.loads(receipts[0].read_text())
    for table in (
        "raw.crm__customers",
        "identity.customer_keys",
        "marts.dim_customer",
        "decisioning.next_best_actions",
        "ml.offer_propensity_scores",
        "training.customer_feature_snapshots",
        "activation.outbox",
        "activation.action_log",
    ):
        assert receipt["warehouse_rows_removed"].get(table, 0) > 0, table
    assert receipt["landing_files_rewritten"] and receipt["tombstone_digests"]
    assert any(f.startswith("outbox/") for f in receipt["file_rows_removed"])
    assert receipt["files_not_erased"] == []
    assert not any(s in receipts[0].read_text() for s in strings)

    with connect(paths.warehouse) as conn:
        # The rewritten landing files count as loaded: nothing is loaded twice.
        for contract in CONTRACTS:
            report = load_source(conn, contract, paths.landing, "after-forget")
            assert report.files == [], contract.name
        # The original files delivered again bring back no row of theirs, counted as erased.
        for contract, (original, rows) in redelivered.items():
            target = paths.landing / contract.landing_subdir / f"redelivered_{original.name}"
            shutil.copy(original, target)
            report = load_source(conn, contract, paths.landing, f"redelivered-{contract.name}")
            assert [f.status for f in report.files] == ["loaded"]
            erased = conn.execute(
                "SELECT sum(rows_erased) FROM audit.erased_on_ingest WHERE load_id = ?",
                [f"redelivered-{contract.name}"],
            ).fetchone()[0]
            assert erased == rows
            assert (
                report.rows_loaded + report.rows_quarantined + erased == report.files[0].rows_read
            )
        assert (
            conn.execute(
                "SELECT count(*) FROM raw.crm__customers WHERE customer_id = ?",
                [person["customer_id"]],
            ).fetchone()[0]
            == 0
        )
        assert (
            conn.execute(
                "SELECT count(*) FROM raw.email__events WHERE lower(recipient_email) = ?",
                [person["email"].lower()],
            ).fetchone()[0]
            == 0
        )
        assert (
            conn.execute(
                "SELECT count(*) FROM audit.quarantine WHERE contains(record, ?)", [person["email"]]
            ).fetchone()[0]
            == 0
        )
    # The re-delivered files themselves still hold them (the operator removes them or forgets
    # again); only the warehouse is asked to stay clean here.


def test_forgetting_one_of_a_household_keeps_the_other(world: DataPaths) -> None:
    """Two CRM customers (two keys) on one home phone: forgetting one keeps the other's rows,
    decisions and the phone, which the other still gives."""
    pair = _query(
        world,
        """
        WITH phones AS (
            SELECT c.phone, c.customer_id, k.customer_key FROM raw.crm__customers AS c
            JOIN identity.customer_keys AS k ON k.record_id = 'crm__customers:' || c.customer_id
            WHERE c.phone IS NOT NULL GROUP BY ALL)
        SELECT a.customer_key AS forgotten, b.customer_key AS kept, b.customer_id AS kept_id
        FROM phones AS a JOIN phones AS b ON a.phone = b.phone AND a.customer_key < b.customer_key
        ORDER BY 1 LIMIT 1
        """,
    )
    assert len(pair) == 1, "the world should have a household sharing a phone"
    forgotten, kept, kept_id = pair.iloc[0]
    rows_before = _query(
        world, "SELECT * FROM raw.crm__customers WHERE customer_id = ? ORDER BY ALL", [kept_id]
    )
    decisions_before = _query(
        world, "SELECT * FROM decisioning.next_best_actions WHERE customer_key = ?", [kept]
    )
    assert len(rows_before) and len(decisions_before)

    done = _forget(world, forgotten)
    assert done.returncode == 0, done.stdout + done.stderr

    pd.testing.assert_frame_equal(
        _query(
            world, "SELECT * FROM raw.crm__customers WHERE customer_id = ? ORDER BY ALL", [kept_id]
        ),
        rows_before,
    )
    pd.testing.assert_frame_equal(
        _query(world, "SELECT * FROM decisioning.next_best_actions WHERE customer_key = ?", [kept]),
        decisions_before,
    )
    assert (
        _query(
            world,
            "SELECT count(*) AS n FROM identity.customer_keys WHERE customer_key = ?",
            [forgotten],
        )["n"].item()
        == 0
    )
    receipt = json.loads(
        max((world.root / "privacy" / "receipts").glob("*.json"), key=os.path.getmtime).read_text()
    )
    assert receipt["shared_identifiers_kept"].get("phone", 0) >= 1
