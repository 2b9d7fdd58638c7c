"""Find the files of one source's landing folder without ever reading outside the landing root.

The walk never follows a symbolic link: a link (to a file or to a folder) is refused and reported,
as is any path that resolves outside the landing root. Hidden files (a name starting with a dot)
are reported, not read. A file that is still being written (changed within the settle time, or
without its done marker, or a text file ending mid-line that changed in the last half minute)
waits for a later run. Nothing here reads a file's content beyond its last byte.
"""

from __future__ import annotations

import hashlib
import os
import stat as stat_flags
import time
from dataclasses import dataclass
from pathlib import Path

from ..settings import LandingReadiness
from .contracts import SourceContract

# What the walk can say about an entry before anything reads it.
CANDIDATE, HIDDEN, REFUSED, WAITING = "candidate", "hidden", "refused", "waiting"


@dataclass(frozen=True)
class LandingEntry:
    """One entry of a landing folder: a file to read, or why it is not read."""

    path: Path
    relative: str  # to the landing root, with forward slashes
    kind: str  # CANDIDATE | HIDDEN | REFUSED | WAITING
    size: int = 0
    mtime_ns: int = 0
    reason: str | None = None


def file_sha256(path: Path) -> str:
    """The file's content hash, as the ingest manifest records it."""
    with path.open("rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def _inside(path: Path, root: Path) -> bool:
    return path == root or root in path.parents


def _is_marker(name: str, readiness: LandingReadiness) -> bool:
    marker = readiness.done_marker
    if marker is None:
        return False
    return name.endswith(marker) if marker.startswith(".") else name == marker


def _waiting_reason(
    entry: os.DirEntry[str], info: os.stat_result, names: set[str], readiness: LandingReadiness
) -> str | None:
    marker = readiness.done_marker
    if marker is not None:
        expected = entry.name + marker if marker.startswith(".") else marker
        if expected not in names:
            return f"waiting for its done marker {expected}"
    age = time.time() - info.st_mtime_ns / 1e9
    if readiness.settle_seconds > 0 and age < readiness.settle_seconds:
        return (
            f"still being written: changed {max(age, 0.0):.0f}s ago, "
            f"read once unchanged for {readiness.settle_seconds:g}s"
        )
    if age < readiness.unterminated_settle_seconds and _ends_mid_line(entry.path, info):
        return (
            f"still being written: its last line has no newline and it changed "
            f"{max(age, 0.0):.0f}s ago; read once it ends in a newline or rests for "
            f"{readiness.unterminated_settle_seconds:g}s"
        )
    return None


def _ends_mid_line(path: str, info: os.stat_result) -> bool:
    """A non-empty CSV or JSONL file whose last byte is not a newline (a writer mid-line)."""
    if info.st_size == 0 or not path.lower().endswith((".csv", ".jsonl", ".json", ".txt")):
        return False
    try:
        with open(path, "rb") as handle:  # the walk's own entry: never a link
            handle.seek(-1, os.SEEK_END)
            return handle.read(1) not in (b"\n", b"\r")
    except OSError:
        return False


def landing_entries(
    landing_root: Path, contract: SourceContract, readiness: LandingReadiness | None = None
) -> list[LandingEntry]:
    """Every entry under the source's landing folder, sorted by path, each with its kind."""
    readiness = readiness or LandingReadiness()
    root = Path(os.path.abspath(landing_root))
    folder = root / contract.landing_subdir
    real_root = root.resolve()
    entries: list[LandingEntry] = []
    # The source folder itself (or a folder above it) may be a link that leads out of the root.
    for step in [folder, *folder.parents]:
        if step == root or not _inside(step, root):
            break
        if step.is_symlink():
            relative = step.relative_to(root).as_posix()
            entries.append(
                LandingEntry(step, relative, REFUSED, reason="symbolic link to a folder, not read")
            )
            return entries
    if not folder.is_dir():
        return entries
    if not _inside(folder.resolve(), real_root):
        relative = folder.relative_to(root).as_posix()
        return [LandingEntry(folder, relative, REFUSED, reason="folder lies outside the landing")]
    pending = [folder]
    while pending:
        current = pending.pop()
        try:
            with os.scandir(current) as listing:
                children = sorted(listing, key=lambda e: e.name)
        except OSError as error:
            relative = current.relative_to(root).as_posix()
            reason = f"folder cannot be listed ({type(error).__name__})"
            entries.append(LandingEntry(current, relative, REFUSED, reason=reason))
            continue
        names = {child.name for child in children}
        for child in children:
            path = Path(child.path)
            relative = path.relative_to(root).as_posix()
            info = child.stat(follow_symlinks=False)
            if child.is_symlink():
                target = "folder" if path.is_dir() else "file"
                reason = f"symbolic link to a {target}, not read"
                entries.append(
                    LandingEntry(path, relative, REFUSED, info.st_size, info.st_mtime_ns, reason)
                )
                continue
            if stat_flags.S_ISDIR(info.st_mode):
                if child.name.startswith("."):
                    entries.append(
                        LandingEntry(path, relative, HIDDEN, reason="hidden folder, not read")
                    )
                else:
                    pending.append(path)
                continue
            if not stat_flags.S_ISREG(info.st_mode):
                entries.append(
                    LandingEntry(
                        path, relative, REFUSED, 0, info.st_mtime_ns, "not a regular file, not read"
                    )
                )
                continue
            if _is_marker(child.name, readiness):
                continue  # a done marker is part of the delivery protocol, not data
            size, mtime = info.st_size, info.st_mtime_ns
            if child.name.startswith("."):
                entries.append(
                    LandingEntry(
                        path,
                        relative,
                        HIDDEN,
                        size,
                        mtime,
                        "hidden file (name starts with a dot), not read",
                    )
                )
                continue
            waiting = _waiting_reason(child, info, names, readiness)
            kind = WAITING if waiting else CANDIDATE
            entries.append(LandingEntry(path, relative, kind, size, mtime, waiting))
    return sorted(entries, key=lambda e: e.relative)
