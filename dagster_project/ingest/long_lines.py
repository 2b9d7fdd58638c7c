"""Lines too long for DuckDB's CSV scanner, found and set aside so the rest of the file still loads.

DuckDB 1.5 rejects a line longer than ``max_line_size`` as a bad row, but a line longer than its
read buffer (about 32 MB) either fails the whole scan or, measured, vanishes without a reject.
So the loader looks for long lines first, streaming the file in chunks (memory stays at one
chunk), and when there are any it reads a copy without them; each long line is quarantined with
its length and a truncated start.
"""

from __future__ import annotations

import gzip
import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from .content_sniff import is_gzip

CHUNK_BYTES = 4 * 1024 * 1024
_BREAK = re.compile(rb"(\r|\n)")
KEPT_BYTES = 1000  # of a long line, for the quarantine record


@dataclass(frozen=True)
class LongLine:
    line: int  # 1-based physical line number
    length: int  # bytes, without the line break
    head: bytes


def _open(path: Path) -> BinaryIO:
    return gzip.open(path, "rb") if is_gzip(path) else path.open("rb")  # type: ignore[return-value]


def _runs(handle: BinaryIO) -> Iterator[bytes]:
    """The stream as runs of bytes without a line break and single break bytes (CR or LF)."""
    while chunk := handle.read(CHUNK_BYTES):
        yield from (piece for piece in _BREAK.split(chunk) if piece)


def _lines(handle: BinaryIO) -> Iterator[tuple[int, int, bytes]]:
    """(line number, length, first bytes) of every line, a chunk at a time.

    A line ends at LF, CRLF or a lone CR, as DuckDB's scanner reads them.
    """
    number, length, head, after_cr, open_line = 1, 0, b"", False, False
    for run in _runs(handle):
        if run == b"\n" and after_cr:
            after_cr = False  # the LF of a CRLF: the line already ended
            continue
        after_cr = run == b"\r"
        if run in (b"\n", b"\r"):
            yield number, length, head
            number, length, head, open_line = number + 1, 0, b"", False
            continue
        open_line = True
        if len(head) < KEPT_BYTES:
            head += run[: KEPT_BYTES - len(head)]
        length += len(run)
    if open_line:
        yield number, length, head


def may_have_long_line(path: Path, limit: int) -> bool:
    """False when no line is longer than ``limit`` bytes; True when one may be (then look closer).

    A line longer than ``limit`` covers at least one whole window of ``limit // 2`` bytes, so it
    is enough to find a window without a line break: one ``find`` per window, no per-line loop.
    """
    window = max(limit // 2, 1)
    chunk_size = max(CHUNK_BYTES // window, 1) * window  # windows never straddle chunks
    with _open(path) as handle:
        while chunk := handle.read(chunk_size):
            for start in range(0, len(chunk), window):
                piece = chunk[start : start + window]
                if len(piece) == window and b"\n" not in piece and b"\r" not in piece:
                    return True
    return False


def long_lines(path: Path, limit: int) -> list[LongLine]:
    """Lines of the file longer than ``limit`` bytes."""
    with _open(path) as handle:
        return [
            LongLine(number, length, head)
            for number, length, head in _lines(handle)
            if length > limit
        ]


def copy_without(path: Path, drop: set[int], target: Path) -> None:
    """Write the file (decompressed) to ``target`` with the lines numbered in ``drop`` left out."""
    with _open(path) as source, target.open("wb") as out:
        if not drop:
            shutil.copyfileobj(source, out)
            return
        line, after_cr = 1, False
        kept = bytearray()
        for run in _runs(source):
            if run == b"\n" and after_cr:
                after_cr = False  # the LF of a CRLF belongs to the line it ends
                if line - 1 not in drop:
                    kept += run
                continue
            after_cr = run == b"\r"
            if line not in drop:
                kept += run
            if run in (b"\n", b"\r"):
                line += 1
            if len(kept) >= CHUNK_BYTES:
                out.write(kept)
                kept.clear()
        out.write(kept)
