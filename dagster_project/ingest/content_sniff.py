"""Look at the first bytes of a landing file to tell its text encoding or why it cannot be read.

An HTML error page, a binary file or a JSON array saved under a data file's name is refused with
a reason before a parser sees it, so it is reported unreadable instead of loading as rows. The
reasons never quote the file's content.
"""

from __future__ import annotations

import gzip
import zlib
from dataclasses import dataclass
from pathlib import Path

SNIFF_BYTES = 64 * 1024
_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")
_UTF8_BOM = b"\xef\xbb\xbf"
_HTML_STARTS = (b"<!doctype html", b"<html", b"<head", b"<body", b"<?xml")
_PARQUET_MAGIC = b"PAR1"
# Bytes that never occur in CSV or JSON text (tab, newline and carriage return do).
_CONTROL = bytes(b for b in range(32) if b not in (9, 10, 13))


class UnreadableFile(ValueError):
    """The file as a whole cannot be read; the message says why without quoting its content."""


@dataclass(frozen=True)
class Sniffed:
    encoding: str  # 'utf-8' or 'utf-16', as DuckDB's read_csv names them
    has_bom: bool


def is_gzip(path: Path) -> bool:
    return path.name.lower().endswith(".gz")


def head_bytes(path: Path, size: int = SNIFF_BYTES) -> bytes:
    """The first ``size`` bytes of the file's content, decompressed when it is gzip."""
    if not is_gzip(path):
        with path.open("rb") as handle:
            return handle.read(size)
    try:
        with gzip.open(path, "rb") as handle:
            return handle.read(size)
    except (OSError, EOFError, zlib.error) as error:
        raise UnreadableFile(f"not a readable gzip file ({type(error).__name__})") from error


def sniff_text(path: Path, fmt: str) -> Sniffed:
    """Encoding of a CSV or JSONL file, or UnreadableFile when it is not such text."""
    head = head_bytes(path)
    if head.startswith(_UTF16_BOMS):
        return Sniffed("utf-16", True)
    has_bom = head.startswith(_UTF8_BOM)
    body = head[len(_UTF8_BOM) :] if has_bom else head
    start = body.lstrip()[:64].lower()
    if start.startswith(_HTML_STARTS):
        raise UnreadableFile("an HTML or XML page, not a data file")
    if body.startswith(_PARQUET_MAGIC):
        raise UnreadableFile(f"a Parquet file, not {fmt.upper()}")
    if b"\x00" in body[:4096] and body[1:4096:2].count(b"\x00") > len(body[1:4096:2]) // 2:
        raise UnreadableFile("looks like UTF-16 text without a byte-order mark")
    control = sum(body.count(bytes([b])) for b in _CONTROL)
    if body and control > max(8, len(body) // 100):
        raise UnreadableFile(f"binary content ({control} control bytes in the first {len(body)})")
    if fmt == "jsonl" and start.startswith(b"["):
        raise UnreadableFile("a JSON array, not JSON Lines (one object per line)")
    return Sniffed("utf-8", has_bom)


def check_parquet(path: Path) -> None:
    """UnreadableFile unless the file starts and ends with Parquet's magic bytes."""
    with path.open("rb") as handle:
        start = handle.read(4)
        handle.seek(0, 2)
        if handle.tell() < 8:
            raise UnreadableFile("too short to be a Parquet file")
        handle.seek(-4, 2)
        end = handle.read(4)
    if start != _PARQUET_MAGIC or end != _PARQUET_MAGIC:
        raise UnreadableFile("not a Parquet file (its magic bytes are missing)")
