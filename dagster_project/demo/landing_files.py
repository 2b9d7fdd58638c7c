"""The landing files the world writes: one per source entity and day, exactly as contracted.

Each ``LandingFile`` ties a contract to its file format, to the column that names a record in the
truth links, and to the columns its deliberate bad rows may break. Files appear atomically (written
under a temporary name, then renamed) so a sensor never picks up half a file.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from types import TracebackType

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from dagster_project.demo.bad_rows import Defect
from dagster_project.ingest.contracts import (
    CONTACT_CENTRE_CALLS,
    CRM_ADVISOR_NOTES,
    CRM_CUSTOMERS,
    CRM_PRODUCTS,
    EMAIL_EVENTS,
    OUTCOMES_APPLICATIONS,
    WEB_EVENTS,
    SourceContract,
)


@dataclass(frozen=True)
class LandingFile:
    contract: SourceContract
    extension: str  # csv | parquet | jsonl
    record_key: str  # the column whose value names a record in truth/record_links.parquet
    defects: Mapping[str, Defect] = field(default_factory=dict)
    stem: str = ""  # file name before the date; the entity unless that says too little

    @property
    def name(self) -> str:
        return self.contract.name

    @property
    def file_stem(self) -> str:
        return self.stem or self.contract.entity

    def path(self, landing: Path, day: date) -> Path:
        name = f"{self.file_stem}_{day.isoformat()}.{self.extension}"
        return landing / self.contract.landing_subdir / name

    def is_own_file(self, path: Path) -> bool:
        date_part = r"\d{4}-\d{2}-\d{2}"
        pattern = rf"{re.escape(self.file_stem)}_{date_part}\.{re.escape(self.extension)}"
        return re.fullmatch(pattern, path.name) is not None


CUSTOMERS = LandingFile(
    CRM_CUSTOMERS,
    "csv",
    record_key="customer_id",
    defects={
        "customer_id": Defect.MISSING,
        "date_of_birth": Defect.DATE,
        "email": Defect.EMAIL,
        "phone": Defect.PHONE,
        "gender": Defect.CATEGORY,
    },
)
PRODUCTS = LandingFile(
    CRM_PRODUCTS,
    "csv",
    record_key="holding_id",
    defects={
        "customer_id": Defect.MISSING,
        "opened_at": Defect.DATE,
        "product": Defect.CATEGORY,
    },
)
ADVISOR_NOTES = LandingFile(
    CRM_ADVISOR_NOTES,
    "csv",
    record_key="note_id",
    defects={"customer_id": Defect.MISSING, "created_at": Defect.TIMESTAMP},
)
WEB = LandingFile(
    WEB_EVENTS,
    "parquet",
    record_key="anonymous_id",
    defects={
        "anonymous_id": Defect.MISSING,
        "session_id": Defect.MISSING,
        "login_email": Defect.EMAIL,
        "event_type": Defect.CATEGORY,
    },
    stem="web_events",
)
CALLS = LandingFile(
    CONTACT_CENTRE_CALLS,
    "csv",
    record_key="call_id",
    defects={
        "call_id": Defect.MISSING,
        "call_started_at": Defect.TIMESTAMP,
        "caller_phone": Defect.PHONE,
        "reason_code": Defect.CATEGORY,
    },
)
EMAIL = LandingFile(
    EMAIL_EVENTS,
    "jsonl",
    record_key="recipient_email",
    defects={
        "recipient_email": Defect.EMAIL,
        "message_id": Defect.MISSING,
        "event_type": Defect.CATEGORY,
    },
    stem="email_events",
)
APPLICATIONS = LandingFile(
    OUTCOMES_APPLICATIONS,
    "csv",
    record_key="application_id",
    defects={
        "application_id": Defect.MISSING,
        "date_of_birth": Defect.DATE,
        "email": Defect.EMAIL,
        "phone": Defect.PHONE,
        "stage": Defect.CATEGORY,
    },
)

LANDING_FILES: tuple[LandingFile, ...] = (
    CUSTOMERS,
    PRODUCTS,
    ADVISOR_NOTES,
    WEB,
    CALLS,
    EMAIL,
    APPLICATIONS,
)


@dataclass(frozen=True)
class DayRows:
    """One day's rows of a landing file, and the person behind each row (for the truth links)."""

    table: pa.Table
    person: np.ndarray


def contract_table(contract: SourceContract, columns: Mapping[str, pa.Array]) -> pa.Table:
    """Columns in the contract's order; a missing or unexpected column is a bug, not data."""
    expected = contract.field_names
    if set(columns) != set(expected):
        raise ValueError(
            f"{contract.name}: columns {sorted(set(columns) ^ set(expected))} do not match"
        )
    return pa.table({name: columns[name] for name in expected})


def remove_previous_world(landing: Path) -> None:
    """Delete day files an earlier world left, so two worlds never mix in one landing area."""
    for spec in LANDING_FILES:
        folder = landing / spec.contract.landing_subdir
        if folder.is_dir():
            for path in sorted(folder.iterdir()):
                if spec.is_own_file(path):
                    path.unlink()


class LandingWriter:
    """Writes day files; CSV and JSON lines go through DuckDB, Parquet through pyarrow."""

    def __init__(self, landing: Path) -> None:
        self._landing = landing
        self._duckdb = duckdb.connect()
        self._duckdb.execute("SET enable_progress_bar = false")

    def __enter__(self) -> LandingWriter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._duckdb.close()

    def write(self, spec: LandingFile, day: date, table: pa.Table) -> Path:
        if tuple(table.column_names) != spec.contract.field_names:
            raise ValueError(f"{spec.name}: columns are not the contract's")
        path = spec.path(self._landing, day)
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(f".{path.name}.tmp")
        if spec.extension == "parquet":
            pq.write_table(table, temporary, compression="zstd")
        else:
            options = "FORMAT csv, HEADER" if spec.extension == "csv" else "FORMAT json"
            self._duckdb.register("landing_rows", table)
            try:
                target = str(temporary).replace("'", "''")
                self._duckdb.execute(f"COPY landing_rows TO '{target}' ({options})")
            finally:
                self._duckdb.unregister("landing_rows")
        os.replace(temporary, path)
        return path
