"""Short-lived connections to the DuckDB warehouse.

DuckDB allows one writer per file, so callers open a connection for one unit of work and close it;
every connection works in UTC so timestamps mean the same thing in every stage.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from .settings import warehouse_wait_seconds

LOCK_HELD = re.compile(r"Conflicting lock is held in (?P<program>.*?) \(PID (?P<pid>\d+)\)")
_FIRST_PAUSE, _LONGEST_PAUSE, _REPEAT_NOTICE = 0.1, 2.0, 30.0


class WarehouseBusyError(RuntimeError):
    """Another process held the warehouse for longer than this one would wait."""


def lock_holder(error: Exception) -> str:
    """Who holds the lock, in words: the process id and its command line (from /proc)."""
    found = LOCK_HELD.search(str(error))
    if not found:
        return "another process"
    pid = found["pid"]
    try:
        command = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode().strip()
    except OSError:
        command = found["program"]
    words = " ".join(Path(part).name if "/" in part else part for part in command.split()[:6])
    return f"process {pid} ({words[:60]})"


def _is_lock_conflict(error: duckdb.Error) -> bool:
    return isinstance(error, duckdb.IOException) and "Could not set lock" in str(error)


def _open(
    path: Path, read_only: bool, wait_seconds: float, on_wait: Callable[[str], None]
) -> duckdb.DuckDBPyConnection:
    """A connection, waiting with back-off while another process holds the file's lock."""
    deadline = time.monotonic() + wait_seconds
    pause, noticed = _FIRST_PAUSE, -_REPEAT_NOTICE
    while True:
        try:
            return duckdb.connect(str(path), read_only=read_only)
        except duckdb.Error as error:
            if not _is_lock_conflict(error):
                raise
            holder, now = lock_holder(error), time.monotonic()
            if now >= deadline:
                raise WarehouseBusyError(
                    f"the warehouse {path} is in use by {holder}, which did not release it "
                    f"within {wait_seconds:.0f} s; try again when it has finished "
                    "(JOURNEY_WAREHOUSE_WAIT_SECONDS sets how long to wait)"
                ) from error
            if now - noticed >= _REPEAT_NOTICE:
                on_wait(f"waiting for {holder} to release the warehouse {path.name}")
                noticed = now
            time.sleep(min(pause, max(deadline - now, 0.0)))
            pause = min(pause * 2, _LONGEST_PAUSE)


@contextmanager
def connect(
    path: Path | str,
    *,
    read_only: bool = False,
    wait_seconds: float | None = None,
    on_wait: Callable[[str], None] | None = None,
) -> Iterator[duckdb.DuckDBPyConnection]:
    """A connection for one unit of work. While another process holds the file (DuckDB allows
    one writer, and no reader beside it), it waits up to ``wait_seconds`` (default: the
    ``JOURNEY_WAREHOUSE_WAIT_SECONDS`` setting), saying whom for through ``on_wait`` (default: a
    warning in the ``journey.warehouse`` log), then raises ``WarehouseBusyError``."""
    path = Path(path)
    if not read_only:
        path.parent.mkdir(parents=True, exist_ok=True)
    conn = _open(
        path,
        read_only,
        warehouse_wait_seconds() if wait_seconds is None else wait_seconds,
        on_wait or logging.getLogger("journey.warehouse").warning,
    )
    try:
        conn.execute("SET TimeZone = 'UTC'")
        yield conn
    finally:
        conn.close()


@contextmanager
def transaction(conn: duckdb.DuckDBPyConnection) -> Iterator[duckdb.DuckDBPyConnection]:
    """Everything inside commits together or, on any error, not at all (and the error rises)."""
    conn.execute("BEGIN TRANSACTION")
    try:
        yield conn
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


def quote_identifier(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def quote_literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def naive_utc(at: datetime) -> datetime:
    """The warehouse's timestamps are naive UTC: an aware instant in that form (a naive one is
    taken as UTC already)."""
    return at.astimezone(UTC).replace(tzinfo=None) if at.tzinfo else at


def table_exists(conn: duckdb.DuckDBPyConnection, qualified: str) -> bool:
    """Whether ``schema.table`` exists (a table or a view)."""
    schema, table = qualified.split(".")
    return bool(
        conn.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = ? AND table_name = ?",
            [schema, table],
        ).fetchone()[0]
    )
