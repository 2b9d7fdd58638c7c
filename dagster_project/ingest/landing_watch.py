"""Notice new landing files without opening the warehouse: fingerprints of folder listings."""

from __future__ import annotations

import hashlib
from pathlib import Path

from .contracts import SourceContract
from .loader import discover_files


def landing_fingerprint(landing_root: Path, contract: SourceContract) -> str:
    """Changes whenever a file of the source appears, disappears or changes size or time.

    An empty or missing folder gives the empty string, like a source never seen.
    """
    files = discover_files(landing_root, contract)
    if not files:
        return ""
    digest = hashlib.sha256()
    for path in files:
        stat = path.stat()
        digest.update(
            f"{path.relative_to(landing_root)}|{stat.st_size}|{stat.st_mtime_ns}\n".encode()
        )
    return digest.hexdigest()[:16]


def changed_sources(
    landing_root: Path, contracts: tuple[SourceContract, ...], previous: dict[str, str]
) -> dict[str, str]:
    """Fingerprints of the sources whose landing folder changed since ``previous``."""
    current = {c.name: landing_fingerprint(landing_root, c) for c in contracts}
    return {name: fp for name, fp in current.items() if previous.get(name, "") != fp}
