"""The tools' own output (dbt, MLflow, Splink, Dagster's logger, Python warnings) goes to a log
file under the data directory; the terminal keeps the command's progress bars and summaries.

The redirect is at the level of file descriptors 1 and 2, so it also takes what subprocesses
(dbt) and C libraries write, not only Python's ``print``.
"""

from __future__ import annotations

import os
import re
import sys
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from rich.console import Console

from .common import console

# dbt's "WARN=0" in its totals is not a warning.
_WARNING = re.compile(r"\b(WARNING|WARN|[A-Za-z]*Warning)\b(?!=)")
# Run ids, numbers and paths vary from one occurrence of a warning to the next.
_VARYING = re.compile(r"[0-9a-f]{8}-[0-9a-f-]{27}|\d+(\.\d+)?|/\S+")


@dataclass
class ToolLog:
    """Where the tools wrote, and the warnings among what they wrote."""

    path: Path
    warnings: Counter[str] = field(default_factory=Counter)

    def print_summary(self, most: int = 3) -> None:
        """Where the log is (the path unbroken, however long) and the most frequent warnings."""
        for line in self.summary(most):
            console.print(line, highlight=False, soft_wrap=True)

    def summary(self, most: int = 3) -> list[str]:
        """A line on the log and the most frequent kinds of warning, each cut to 76 columns."""
        count = sum(self.warnings.values())
        lines = ["Tools' output (dbt, MLflow, Splink, Dagster's logs) is in", f"  {self.path}"]
        if count:
            kind = "warning" if count == 1 else "warnings"
            lines.append(f"  with {count:,} {kind}; the most frequent:")
            lines += [f"  {n:>4} x {text[:66]}" for text, n in self.warnings.most_common(most)]
        return lines


def new_log_path(root: Path, command: str) -> Path:
    return root / "logs" / f"{command}-{datetime.now(UTC):%Y%m%dT%H%M%SZ}.log"


def _warnings_in(text: str) -> Counter[str]:
    found: Counter[str] = Counter()
    for line in text.splitlines():
        match = _WARNING.search(line)
        if match:  # the warning from its level on: what precedes it is a time stamp
            found[_VARYING.sub("#", line[match.start() :].strip())] += 1
    return found


@contextmanager
def tool_output_to(log: ToolLog) -> Iterator[Console]:
    """Send everything written to stdout and stderr to ``log.path`` (appended) while inside;
    yield a console on the real terminal for progress. The warnings written meanwhile are
    counted into ``log.warnings``."""
    log.path.parent.mkdir(parents=True, exist_ok=True)
    sys.stdout.flush()
    sys.stderr.flush()
    saved = os.dup(1), os.dup(2)
    terminal = os.fdopen(os.dup(saved[0]), "w", encoding="utf-8", errors="replace")
    with log.path.open("ab") as sink:
        start = sink.tell()
        os.dup2(sink.fileno(), 1)
        os.dup2(sink.fileno(), 2)
        try:
            yield Console(file=terminal, width=console.width)
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            for fd in saved:
                os.close(fd)
            terminal.close()
    with log.path.open("rb") as written:
        written.seek(start)
        log.warnings.update(_warnings_in(written.read().decode("utf-8", errors="replace")))
