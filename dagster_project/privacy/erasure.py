"""``forget``: erase one person from every store under the data directory, and write a receipt.

Order matters for a crash half-way: the files are rewritten first (re-running repeats that
harmlessly, as the warehouse still knows the person), then one warehouse transaction deletes the
person's rows, records the tombstones and updates the ingest manifest, then the warehouse file
is rewritten without free blocks and the receipt is written.

Landing files are rewritten without the person's rows and the manifest
(``audit.ingested_files``) gets the rewritten file's size, mtime and hash, so the loader skips
it as already loaded: the other rows in it are not loaded twice. The original content's hash is
not kept, so the same original file delivered again is read afresh: its erased rows are dropped
by the tombstones (and counted) and the other rows are quarantined as duplicate keys, as any
re-delivered row is.
"""

from __future__ import annotations

import json
import uuid
from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from ..ingest.landing_files import file_sha256
from ..settings import DataPaths
from ..warehouse import connect, transaction
from .file_erasure import erase_files
from .person import UnknownPerson, gather, keys_for
from .tombstones import digest, key_path, record_tombstones, tombstone_key
from .warehouse_erasure import delete_person_rows, rewrite_database

RECEIPTS_DIR = "privacy/receipts"


@dataclass
class ErasureReceipt:
    erasure_id: str
    erased_at: str
    customer_key_digests: list[str]
    tombstone_digests: list[str]
    warehouse_rows_removed: dict[str, int] = field(default_factory=dict)
    warehouse_scratch_tables_dropped: list[str] = field(default_factory=list)
    file_rows_removed: dict[str, int] = field(default_factory=dict)
    landing_files_rewritten: list[str] = field(default_factory=list)
    files_not_erased: list[str] = field(default_factory=list)
    # Emails and phones another customer's records carry too (a shared home phone), by kind:
    # kept, with that customer's rows, and not tombstoned.
    shared_identifiers_kept: dict[str, int] = field(default_factory=dict)
    # Per raw table, rows found by such a value that identity gives to someone else: kept.
    others_rows_kept: dict[str, int] = field(default_factory=dict)

    @property
    def total_rows(self) -> int:
        return sum(self.warehouse_rows_removed.values()) + sum(self.file_rows_removed.values())


def find_customer_keys(
    paths: DataPaths,
    customer_keys: list[str] | None = None,
    email: str | None = None,
    phone: str | None = None,
) -> set[str]:
    """The keys to forget: those given, and those whose records carry the email or phone."""
    if not paths.warehouse.exists():
        raise UnknownPerson(f"no warehouse at {paths.warehouse}")
    with connect(paths.warehouse, read_only=True) as conn:
        keys = set(customer_keys or ())
        if email or phone:
            found = keys_for(conn, email, phone)
            if not found:
                raise UnknownPerson("no raw record carries that email or phone")
            keys |= found
        return keys


def _stores(paths: DataPaths, receipts: Path) -> list[Path]:
    """Every file under the data directory but the warehouse (erased in SQL), the tombstone
    key and earlier receipts."""
    skip = {paths.warehouse, Path(f"{paths.warehouse}.wal"), key_path(paths.root)}
    return sorted(
        p
        for p in paths.root.rglob("*")
        if p.is_file() and p not in skip and receipts not in p.parents
    )


def forget(
    paths: DataPaths, customer_keys: set[str], now: datetime | None = None
) -> ErasureReceipt:
    """Erase the people behind ``customer_keys``; raises UnknownPerson before changing anything."""
    erased_at = (now or datetime.now(UTC)).astimezone(UTC)
    erasure_id = f"erasure-{erased_at:%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:8]}"
    with connect(paths.warehouse, read_only=True) as conn:
        person = gather(conn, customer_keys)
    key = tombstone_key(paths.root, create=True)
    assert key is not None
    receipts = paths.root / RECEIPTS_DIR

    files = erase_files(
        paths.root, _stores(paths, receipts), person.pattern(), person.sql_pattern()
    )
    landing_prefix = paths.landing.relative_to(paths.root).as_posix() + "/"
    rewritten = sorted(p for p in files.rows_removed if p.startswith(landing_prefix))

    naive = erased_at.replace(tzinfo=None)
    with connect(paths.warehouse) as conn, transaction(conn):
        removed, dropped = delete_person_rows(conn, person)
        digests = record_tombstones(conn, key, person.identifiers, erasure_id, naive)
        for relative in rewritten:
            path = paths.root / relative
            if not path.exists():
                continue
            stat = path.stat()
            conn.execute(
                "UPDATE audit.ingested_files SET size_bytes = ?, mtime_ns = ?, sha256 = ? "
                "WHERE path = ?",
                [
                    stat.st_size,
                    stat.st_mtime_ns,
                    file_sha256(path),
                    relative[len(landing_prefix) :],
                ],
            )
    rewrite_database(paths.warehouse)

    receipt = ErasureReceipt(
        erasure_id=erasure_id,
        erased_at=erased_at.isoformat(),
        customer_key_digests=sorted(digest(key, "customer_key", k) for k in customer_keys),
        tombstone_digests=digests,
        warehouse_rows_removed=removed,
        warehouse_scratch_tables_dropped=dropped,
        file_rows_removed=files.rows_removed,
        landing_files_rewritten=rewritten,
        files_not_erased=files.not_erased,
        shared_identifiers_kept=dict(Counter(kind for kind, _ in person.shared)),
        others_rows_kept={table: len(rows) for table, rows in sorted(person.spared.items())},
    )
    receipts.mkdir(parents=True, exist_ok=True)
    (receipts / f"{erasure_id}.json").write_text(
        json.dumps(asdict(receipt), indent=1), encoding="utf-8"
    )
    return receipt
