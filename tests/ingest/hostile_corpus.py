"""A corpus of hostile landing files for one source, each with the rows it was meant to carry.

Every file is generated here (no committed blobs). Each case says how many rows the file declares,
which status the loader must give it, how many rows must load, and a phrase its reason must hold
(the file's error, or one of its quarantine reasons). Rows in a file that is not read count as
"not read": together with loaded and quarantined rows they must add up to the declared rows.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import os
import random
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from dagster_project.ingest.contracts import CRM_PRODUCTS

CONTRACT = CRM_PRODUCTS
COLUMNS = list(CONTRACT.field_names)
SECRET = "root:x:0:0:TOP-SECRET-OUTSIDE-LINE"  # content of files outside the landing folder
HUGE_LINE_BYTES = 40_000_000  # beyond DuckDB's ~32 MB read buffer, which failed whole scans
LONG_LINE_BYTES = 20_000_000  # beyond the 2 MB maximum line size, inside the buffer


def row(prefix: str, i: int, **changes: str) -> dict[str, str]:
    base = {
        "holding_id": f"{prefix}-{i}",
        "customer_id": f"C{i:04d}",
        "product": "savings",
        "opened_at": "2020-01-01",
        "closed_at": "",
        "balance": "12.5",
        "updated_at": "2026-01-05T10:15:00Z",
    }
    return base | changes


def csv_text(rows: list[dict[str, str]], columns: list[str] | None = None, end: str = "\n") -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns or COLUMNS, lineterminator=end)
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()


def jsonl_text(rows: list[dict], end: str = "\n") -> str:
    return "".join(json.dumps(r) + end for r in rows)


def good(prefix: str, n: int) -> list[dict[str, str]]:
    return [row(prefix, i) for i in range(n)]


@dataclass(frozen=True)
class HostileFile:
    name: str  # path under the source's landing folder
    declared: int  # rows the file was meant to deliver
    status: str  # the outcome the loader must report
    loaded: int  # rows that must load (0 unless the file is read)
    reason: str | None  # a phrase its error or one of its quarantine reasons must contain
    write: Callable[[Path], None]
    recent: bool = False  # still being written: modified just now
    reported_as: str | None = None  # the entry the outcome names, when not the file (its folder)

    @property
    def entry(self) -> str:
        return self.reported_as or self.name


def _text(content: str, encoding: str = "utf-8") -> Callable[[Path], None]:
    return lambda path: path.write_bytes(content.encode(encoding))


def _bytes(content: bytes) -> Callable[[Path], None]:
    return lambda path: path.write_bytes(content)


def _parquet(columns: dict[str, pa.Array]) -> Callable[[Path], None]:
    return lambda path: pq.write_table(pa.table(columns), path)


def _parquet_rows(rows: list[dict[str, str]]) -> dict[str, pa.Array]:
    return {c: pa.array([r[c] or None for r in rows], pa.string()) for c in COLUMNS}


def _huge_csv_line(path: Path) -> None:
    """Two good rows, then a 40 MB line that never ends (no newline): the prober's blocker."""
    with path.open("w", encoding="utf-8") as handle:
        handle.write(csv_text(good("huge40", 2)))
        handle.write("huge40-2,C1,savings,2020-01-01,,1," + "x" * HUGE_LINE_BYTES)


def _long_csv_line(path: Path) -> None:
    rows = good("long20", 3)
    with path.open("w", encoding="utf-8") as handle:
        handle.write(csv_text(rows[:2]))
        handle.write("long20-9,C1,savings,2020-01-01,,1," + "y" * LONG_LINE_BYTES + "\n")
        handle.write(csv_text(rows[2:]).split("\n", 1)[1])


def _huge_jsonl_record(path: Path) -> None:
    with path.open("w", encoding="utf-8") as handle:
        handle.write(jsonl_text(good("hugej", 1)))
        handle.write(json.dumps(row("hugej", 9, customer_id="z" * HUGE_LINE_BYTES)) + "\n")
        handle.write(jsonl_text([row("hugej", 2)]))


def _long_jsonl_field(path: Path) -> None:
    with path.open("w", encoding="utf-8") as handle:
        handle.write(jsonl_text(good("longj", 1)))
        handle.write(json.dumps(row("longj", 9, customer_id="w" * LONG_LINE_BYTES)) + "\n")
        handle.write(jsonl_text([row("longj", 2)]))


def _header_never_ends(path: Path) -> None:
    path.write_text("holding_id," + "h" * 5_000_000, encoding="utf-8")


def _truncated_while_written(path: Path) -> None:
    text = csv_text(good("writing", 3))
    path.write_text(text[: len(text) - 12], encoding="utf-8")


def complete_truncated(path: Path) -> None:
    """The writer finishes the file that was still being written."""
    path.write_text(csv_text(good("writing", 3)), encoding="utf-8")


def _gzip(content: str) -> Callable[[Path], None]:
    return lambda path: path.write_bytes(gzip.compress(content.encode("utf-8"), mtime=0))


def _binary(seed: int) -> bytes:
    return random.Random(seed).randbytes(50_000)


def _html() -> str:
    return (
        "<!DOCTYPE html>\n<html><head><title>502 Bad Gateway</title></head>\n"
        "<body><h1>502 Bad Gateway</h1><p>holding_id,customer_id</p></body></html>\n"
    )


def _nested(depth: int) -> str:
    return "[" * depth + "]" * depth


def corpus(outside: Path) -> list[HostileFile]:
    """The hostile files; ``outside`` is a folder beyond the landing root for links to point at."""
    nan_rows = [
        row("nan", 0),
        *(row("nan", i, balance=v) for i, v in enumerate(["NaN", "inf", "-inf", "1e309"], 1)),
        row("nan", 5, balance="Infinity"),
    ]
    mixed_quote = csv_text(good("quote", 1)) + 'quote-1,C1,savings,"2020-01-01,,1,x\n'
    mixed_quote += "quote-2,C2,savings,2020-01-01,,1,2026-01-05T10:15:00Z\n"
    mixed_quote += "quote-3,C3,savings,2020-01-01,,1,2026-01-05T10:15:00Z\n"
    nul = csv_text(good("nul", 3)).replace("nul-1,", "nul-\x001,")
    invalid_utf8 = csv_text(good("badutf", 3)).encode().replace(b"badutf-2", b"badutf-\xff\xfe2")
    latin1 = csv_text([row("latin", 0), row("latin", 1, customer_id="Zoë"), row("latin", 2)])
    passwd = "root:x:0:0:root:/root:/bin/bash\ndaemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n"
    return [
        HostileFile("good.csv", 3, "loaded", 3, None, _text(csv_text(good("good", 3)))),
        HostileFile(
            "bom_utf8.csv", 3, "loaded", 3, None, _text(csv_text(good("bom8", 3)), "utf-8-sig")
        ),
        HostileFile(
            "bom_utf16.csv", 3, "loaded", 3, None, _text(csv_text(good("bom16", 3)), "utf-16")
        ),
        HostileFile(
            "utf16_no_bom.csv",
            2,
            "unreadable",
            0,
            "UTF-16",
            _text(csv_text(good("u16", 2)), "utf-16-le"),
        ),
        HostileFile("crlf.csv", 3, "loaded", 3, None, _text(csv_text(good("crlf", 3), end="\r\n"))),
        HostileFile("cr_only.csv", 3, "loaded", 3, None, _text(csv_text(good("cr", 3), end="\r"))),
        HostileFile(
            "no_trailing_newline.csv",
            3,
            "loaded",
            3,
            None,
            _text(csv_text(good("nonl", 3)).rstrip("\n")),
        ),
        HostileFile("huge_line_40mb.csv", 3, "loaded", 2, "bytes long, more than", _huge_csv_line),
        HostileFile("long_line_20mb.csv", 4, "loaded", 3, "bytes long, more than", _long_csv_line),
        HostileFile(
            "huge_field_1mb.csv",
            2,
            "loaded",
            1,
            "customer_id: value is 1200000 characters",
            _text(csv_text([row("hf", 0), row("hf", 1, customer_id="q" * 1_200_000)])),
        ),
        HostileFile(
            "huge_field_1mb.jsonl",
            2,
            "loaded",
            1,
            "undeclared columns (kept in _extra) hold 1500",
            _text(jsonl_text([row("hfj", 0), row("hfj", 1) | {"note": "n" * 1_500_000}])),
        ),
        HostileFile(
            "header_never_ends.csv",
            0,
            "unreadable",
            0,
            "the header line is 5000011 bytes long",
            _header_never_ends,
        ),
        HostileFile("header_only.csv", 0, "loaded", 0, None, _text(csv_text([]))),
        HostileFile("header_only_no_newline.csv", 0, "loaded", 0, None, _text(",".join(COLUMNS))),
        HostileFile("empty.csv", 0, "empty", 0, "file is empty", _bytes(b"")),
        HostileFile("html_error_page.csv", 0, "unreadable", 0, "HTML", _text(_html())),
        HostileFile("binary_garbage.csv", 0, "unreadable", 0, "binary content", _bytes(_binary(1))),
        HostileFile(
            "semicolon.csv",
            3,
            "loaded",
            3,
            None,
            _text(csv_text(good("semi", 3)).replace(",", ";")),
        ),
        HostileFile(
            "tab_separated.csv",
            3,
            "loaded",
            3,
            None,
            _text(csv_text(good("tab", 3)).replace(",", "\t")),
        ),
        HostileFile("compressed.csv.gz", 3, "loaded", 3, None, _gzip(csv_text(good("gz", 3)))),
        HostileFile("compressed.jsonl.gz", 3, "loaded", 3, None, _gzip(jsonl_text(good("gzj", 3)))),
        HostileFile(
            "corrupt.csv.gz",
            3,
            "unreadable",
            0,
            "not a readable gzip file",
            lambda p: p.write_bytes(gzip.compress(csv_text(good("gzbad", 3)).encode())[:30]),
        ),
        HostileFile(
            "plain_text_named.csv.gz",
            2,
            "unreadable",
            0,
            "gzip",
            _text(csv_text(good("gzplain", 2))),
        ),
        HostileFile(
            "nan_inf.csv",
            6,
            "loaded",
            1,
            "balance: 'NaN' is not a finite number",
            _text(csv_text(nan_rows)),
        ),
        HostileFile(
            "duplicate_header.csv",
            2,
            "unreadable",
            0,
            "repeats a column name: balance",
            _text(csv_text(good("duph", 2)).replace("closed_at", "balance", 1)),
        ),
        HostileFile(
            "missing_required_column.csv",
            2,
            "loaded",
            0,
            "product: required field is missing",
            _text(_without_column(good("miss", 2), "product")),
        ),
        HostileFile(
            "extra_columns.csv",
            2,
            "loaded",
            2,
            None,
            _text(
                csv_text([r | {"colour": "blue"} for r in good("extra", 2)], [*COLUMNS, "colour"])
            ),
        ),
        HostileFile(
            "too_many_fields.csv",
            3,
            "loaded",
            2,
            "TOO MANY COLUMNS",
            _text(csv_text(good("many", 2)) + "many-9,C9,savings,2020-01-01,,1,2026-01-05,extra\n"),
        ),
        HostileFile("unbalanced_quote.csv", 4, "loaded", 1, "never closes", _text(mixed_quote)),
        HostileFile(
            "nul_bytes.csv", 3, "loaded", 2, "holding_id: value contains a NUL byte", _text(nul)
        ),
        HostileFile("invalid_utf8.csv", 3, "loaded", 2, "INVALID ENCODING", _bytes(invalid_utf8)),
        HostileFile("latin1.csv", 3, "loaded", 2, "INVALID ENCODING", _text(latin1, "latin-1")),
        HostileFile(
            "blank_lines.csv",
            2,
            "loaded",
            2,
            None,
            _text(csv_text(good("blank", 2)).replace("\n", "\n\n", 2)),
        ),
        HostileFile(
            "header_case_and_spaces.csv",
            2,
            "loaded",
            2,
            None,
            _text(csv_text(good("case", 2)).replace("holding_id", " Holding_ID ", 1)),
        ),
        HostileFile(
            "no_contract_columns.csv",
            2,
            "unreadable",
            0,
            "no column of the header",
            _text(passwd),
        ),
        HostileFile(
            "repeated_key_in_file.csv",
            2,
            "loaded",
            1,
            "duplicate key",
            _text(csv_text([row("rep", 0), row("rep", 0)])),
        ),
        HostileFile(
            "bad_values.csv",
            3,
            "loaded",
            1,
            "opened_at: '2026-02-30' is not a valid",
            _text(
                csv_text(
                    [
                        row("bad", 0),
                        row("bad", 1, opened_at="2026-02-30"),
                        row("bad", 2, product="yacht"),
                    ]
                )
            ),
        ),
        HostileFile(".hidden.csv", 2, "hidden", 0, "hidden file", _text(csv_text(good("dot", 2)))),
        HostileFile(
            ".staging/inside_hidden_folder.csv",
            2,
            "hidden",
            0,
            "hidden folder",
            _text(csv_text(good("dotdir", 2))),
            reported_as=".staging",
        ),
        HostileFile(
            "link_to_outside_file.csv",
            2,
            "refused",
            0,
            "symbolic link to a file",
            lambda p: p.symlink_to(outside / "secret.csv"),
        ),
        HostileFile(
            "link_to_etc_passwd.csv",
            0,
            "refused",
            0,
            "symbolic link to a file",
            lambda p: p.symlink_to(outside / "passwd"),
        ),
        HostileFile(
            "link_to_outside_folder",
            2,
            "refused",
            0,
            "symbolic link to a folder",
            lambda p: p.symlink_to(outside / "folder", target_is_directory=True),
        ),
        HostileFile(
            "still_being_written.csv",
            3,
            "waiting",
            0,
            "still being written",
            _truncated_while_written,
            recent=True,
        ),
        HostileFile(
            "notes.txt", 1, "unsupported", 0, "not a CSV, JSONL or Parquet", _text("a note\n")
        ),
        HostileFile("good.jsonl", 3, "loaded", 3, None, _text(jsonl_text(good("gj", 3)))),
        HostileFile(
            "bom_utf8.jsonl", 3, "loaded", 3, None, _text(jsonl_text(good("bj", 3)), "utf-8-sig")
        ),
        HostileFile(
            "bom_utf16.jsonl", 3, "loaded", 3, None, _text(jsonl_text(good("uj", 3)), "utf-16")
        ),
        HostileFile(
            "crlf.jsonl", 3, "loaded", 3, None, _text(jsonl_text(good("cj", 3), end="\r\n"))
        ),
        HostileFile(
            "no_trailing_newline.jsonl",
            2,
            "loaded",
            2,
            None,
            _text(jsonl_text(good("nj", 2)).rstrip("\n")),
        ),
        HostileFile(
            "huge_record_40mb.jsonl", 3, "loaded", 2, "bytes long, more than", _huge_jsonl_record
        ),
        HostileFile(
            "long_field_20mb.jsonl", 3, "loaded", 2, "bytes long, more than", _long_jsonl_field
        ),
        HostileFile(
            "json_array.json",
            3,
            "unreadable",
            0,
            "a JSON array, not JSON Lines",
            _text(json.dumps(good("arr", 3))),
        ),
        HostileFile(
            "deep_nesting.jsonl",
            2,
            "loaded",
            2,
            None,
            _text(
                jsonl_text(good("deep", 1)) + '{"holding_id": "deep-9", "customer_id": "C1", '
                '"product": "savings", "opened_at": "2020-01-01", '
                f'"updated_at": "2026-01-05T10:15:00Z", "payload": {_nested(20_000)}}}\n'
            ),
        ),
        HostileFile(
            "not_objects.jsonl",
            3,
            "loaded",
            1,
            "line is not a JSON object",
            _text(jsonl_text(good("no", 1)) + '"a string"\n[1, 2]\n'),
        ),
        HostileFile(
            "invalid_json.jsonl",
            3,
            "loaded",
            1,
            "line is not valid JSON",
            _text(jsonl_text(good("ij", 1)) + '{"holding_id": "ij-8",\n{"balance": NaN}\n'),
        ),
        HostileFile(
            "nan_as_text.jsonl",
            3,
            "loaded",
            1,
            "balance: 'inf' is not a finite number",
            _text(
                jsonl_text(
                    [row("nt", 0), row("nt", 1, balance="inf"), row("nt", 2, balance="-Infinity")]
                )
            ),
        ),
        HostileFile("html_error_page.jsonl", 0, "unreadable", 0, "HTML", _text(_html())),
        HostileFile(
            "binary_garbage.jsonl", 0, "unreadable", 0, "binary content", _bytes(_binary(2))
        ),
        HostileFile("empty.jsonl", 0, "empty", 0, "file is empty", _bytes(b"")),
        HostileFile("good.parquet", 3, "loaded", 3, None, _parquet(_parquet_rows(good("gp", 3)))),
        HostileFile(
            "wrong_types.parquet",
            2,
            "loaded",
            0,
            "is not a valid",
            _parquet(
                {
                    "holding_id": pa.array(["wt-0", "wt-1"]),
                    "customer_id": pa.array(["C0", "C1"]),
                    "product": pa.array(["savings", "savings"]),
                    "opened_at": pa.array([True, False]),
                    "balance": pa.array(["abc", "x"]),
                    "updated_at": pa.array([1.5, 2.5]),
                }
            ),
        ),
        HostileFile(
            "non_finite.parquet",
            3,
            "loaded",
            1,
            "is not a finite number",
            _parquet(
                {
                    "holding_id": pa.array(["nf-0", "nf-1", "nf-2"]),
                    "customer_id": pa.array(["C0", "C1", "C2"]),
                    "product": pa.array(["savings"] * 3),
                    "opened_at": pa.array(["2020-01-01"] * 3),
                    "balance": pa.array([1.0, float("nan"), float("-inf")]),
                    "updated_at": pa.array(["2026-01-05T10:15:00Z"] * 3),
                }
            ),
        ),
        HostileFile(
            "truncated.parquet", 2, "unreadable", 0, "not a Parquet file", _truncated_parquet
        ),
        HostileFile(
            "csv_named.parquet",
            2,
            "unreadable",
            0,
            "not a Parquet file",
            _text(csv_text(good("cnp", 2))),
        ),
        HostileFile(
            "parquet_named.csv", 2, "unreadable", 0, "a Parquet file, not CSV", _parquet_as_csv
        ),
    ]


def _without_column(rows: list[dict[str, str]], column: str) -> str:
    columns = [c for c in COLUMNS if c != column]
    return csv_text([{c: r[c] for c in columns} for r in rows], columns)


def _truncated_parquet(path: Path) -> None:
    pq.write_table(pa.table(_parquet_rows(good("tp", 2))), path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def _parquet_as_csv(path: Path) -> None:
    pq.write_table(pa.table(_parquet_rows(good("pac", 2))), path)


def write_outside(outside: Path) -> None:
    """Files beyond the landing root that links in the corpus point at."""
    (outside / "folder").mkdir(parents=True)
    (outside / "secret.csv").write_text(
        csv_text([row(SECRET, 0), row(SECRET, 1)]), encoding="utf-8"
    )
    (outside / "passwd").write_text(SECRET + "\n", encoding="utf-8")
    (outside / "folder" / "inside_linked_folder.csv").write_text(
        csv_text([row(SECRET, 2), row(SECRET, 3)]), encoding="utf-8"
    )


def write_corpus(folder: Path, outside: Path, old_mtime: float) -> list[HostileFile]:
    """Write every case under ``folder``; all but the recent ones get ``old_mtime``."""
    write_outside(outside)
    cases = corpus(outside)
    for case in cases:
        path = folder / case.name
        path.parent.mkdir(parents=True, exist_ok=True)
        case.write(path)
        if not case.recent and not path.is_symlink():
            os.utime(path, (old_mtime, old_mtime))
    return cases
