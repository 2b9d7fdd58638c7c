"""Erasing terms from files of each format the data directory holds, on real files."""

from __future__ import annotations

import gzip
import json
import re
import sqlite3
from pathlib import Path

import pandas as pd

from dagster_project.privacy.file_erasure import REDACTED, erase_files
from dagster_project.privacy.person import Person

PERSON = Person({"ck_aaaaaaaaaaaa"}, terms={"ck_aaaaaaaaaaaa", "ann@x.example", "C0001"})
PATTERN = PERSON.pattern()


def _erase(root: Path) -> dict:
    files = sorted(p for p in root.rglob("*") if p.is_file())
    return erase_files(root, files, PATTERN, PERSON.sql_pattern()).__dict__


def test_each_format_loses_the_person_and_keeps_everyone_else(tmp_path: Path) -> None:
    (tmp_path / "a.csv").write_text("id,email\nC0001,ann@x.example\nC00012,bob@x.example\n")
    (tmp_path / "b.jsonl").write_text('{"k": "ck_aaaaaaaaaaaa"}\n{"k": "ck_bbbbbbbbbbbb"}\n')
    (tmp_path / "c.json").write_text(
        json.dumps({"customers": {"ck_aaaaaaaaaaaa": {"x": 1}, "ck_bbbbbbbbbbbb": {"x": 2}}})
    )
    (tmp_path / "message.json").write_text(json.dumps({"recipient": "ann@x.example", "n": 1}))
    (tmp_path / "d.csv.gz").write_bytes(gzip.compress(b"id\nC0001\nC0002\n"))
    (tmp_path / "e.html").write_text("<script>data=['C0001','C0002']</script>")
    pd.DataFrame({"k": ["ck_aaaaaaaaaaaa", "ck_bbbbbbbbbbbb"], "v": [1, 2]}).to_parquet(
        tmp_path / "f.parquet"
    )
    with sqlite3.connect(tmp_path / "g.db") as db:
        db.execute("CREATE TABLE events (body TEXT)")
        db.executemany("INSERT INTO events VALUES (?)", [('{"to": "ann@x.example"}',), ("{}",)])
    db.close()
    (tmp_path / "h.bin").write_bytes(b"\x00\x01ann@x.example\x00")

    result = _erase(tmp_path)

    assert (tmp_path / "a.csv").read_text() == "id,email\nC00012,bob@x.example\n"
    assert (tmp_path / "b.jsonl").read_text() == '{"k": "ck_bbbbbbbbbbbb"}\n'
    assert json.loads((tmp_path / "c.json").read_text()) == {
        "customers": {"ck_bbbbbbbbbbbb": {"x": 2}}
    }
    assert not (tmp_path / "message.json").exists()
    assert gzip.decompress((tmp_path / "d.csv.gz").read_bytes()) == b"id\nC0002\n"
    assert (tmp_path / "e.html").read_text() == f"<script>data=['{REDACTED}','C0002']</script>"
    assert pd.read_parquet(tmp_path / "f.parquet")["k"].tolist() == ["ck_bbbbbbbbbbbb"]
    with sqlite3.connect(tmp_path / "g.db") as db:
        bodies = [r[0] for r in db.execute("SELECT body FROM events ORDER BY rowid")]
    db.close()
    assert bodies == [f'{{"to": "{REDACTED}"}}', "{}"]
    assert b"ann@x.example" not in (tmp_path / "g.db").read_bytes()  # VACUUM left no copy
    assert result["not_erased"] == ["h.bin"]
    assert result["rows_removed"] == {
        "a.csv": 1,
        "b.jsonl": 1,
        "c.json": 1,
        "message.json": 1,
        "d.csv.gz": 1,
        "e.html": 1,
        "f.parquet": 1,
        "g.db": 1,
    }


def test_a_term_inside_a_longer_id_is_not_matched() -> None:
    assert PATTERN.search("C0001") and PATTERN.search('"C0001"')
    assert not PATTERN.search("C00012") and not PATTERN.search("XC0001")
    assert re.search(PERSON.sql_pattern(), "id=C0001;")
