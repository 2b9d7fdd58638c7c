"""Notice new landing files without opening the warehouse: fingerprints of folder listings."""

from __future__ import annotations

import hashlib
from pathlib import Path

from ..settings import landing_readiness
from .contracts import SourceContract
from .landing_files import HIDDEN, landing_entries


def landing_fingerprint(landing_root: Path, contract: SourceContract) -> str:
    """Changes whenever a file of the source appears, disappears, changes size or time, or
    becomes complete (so a file that waited is loaded once it settles).

    An empty or missing folder gives the empty string, like a source never seen.
    """
    # Hidden files are left out: an atomic writer's temporary dot-file must not launch a run
    # (the next run still reports any hidden file that stays).
    entries = [
        e for e in landing_entries(landing_root, contract, landing_readiness()) if e.kind != HIDDEN
    ]
    if not entries:
        return ""
    digest = hashlib.sha256()
    for entry in entries:
        digest.update(f"{entry.relative}|{entry.size}|{entry.mtime_ns}|{entry.kind}\n".encode())
    return digest.hexdigest()[:16]


def changed_sources(
    landing_root: Path, contracts: tuple[SourceContract, ...], previous: dict[str, str]
) -> dict[str, str]:
    """Fingerprints of the sources whose landing folder changed since ``previous``."""
    current = {c.name: landing_fingerprint(landing_root, c) for c in contracts}
    return {name: fp for name, fp in current.items() if previous.get(name, "") != fp}
