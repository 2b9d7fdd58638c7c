"""Rows that break their contract on purpose, so the demo shows quarantine at work.

Real feeds carry a trickle of impossible dates, mangled emails, junk phones and missing ids. At
``bad_row_rate`` a row gets exactly one such defect, in one of the columns its landing file marks
as corruptible. Email defects are derived from the real address so the row still belongs to its
person in the truth links.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from dagster_project.demo.formatting import pick


class Defect(StrEnum):
    MISSING = "missing"  # a required value left empty
    DATE = "date"  # an impossible or non-ISO date
    TIMESTAMP = "timestamp"  # an impossible or non-ISO timestamp
    EMAIL = "email"  # an address that is not one
    PHONE = "phone"  # a number no phone has
    CATEGORY = "category"  # a value outside the allowed list


_JUNK: dict[Defect, tuple[str, ...]] = {
    Defect.DATE: ("1985-02-30", "2001-13-01", "31/12/1990", "19850230", "1990-06-31"),
    Defect.TIMESTAMP: ("2026-02-30T10:15:00Z", "2026-01-05 25:61:00", "yesterday", "05/01/2026"),
    Defect.PHONE: ("12345", "n/a", "0", "+1 (555) 12", "call me"),
    Defect.CATEGORY: ("unknown", "N/A", "tbd", "?"),
}
# What replaces the "@" of a real address: "john.smith at mail.example", "john.smith@@...", ...
_BROKEN_AT = (" at ", "@@", "", ",")


def _defective(defect: Defect, values: pa.Array, rng: np.random.Generator) -> pa.Array | pa.Scalar:
    if defect is Defect.MISSING:
        return pa.nulls(len(values), values.type)
    if defect is Defect.EMAIL:
        which = rng.integers(0, len(_BROKEN_AT), len(values)).astype(np.int8)
        broken = [pc.replace_substring(values, "@", at) for at in _BROKEN_AT]
        return pc.fill_null(pc.choose(pa.array(which), *broken), "no-email")
    junk = _JUNK[defect]
    return pick(pa.array(junk), rng.integers(0, len(junk), len(values)))


def break_rows(
    table: pa.Table, defects: Mapping[str, Defect], rng: np.random.Generator, rate: float
) -> tuple[pa.Table, int]:
    """Give about ``rate`` of the rows one defect each; returns the table and how many."""
    bad = np.flatnonzero(rng.random(table.num_rows) < rate)
    if not len(bad) or not defects:
        return table, 0
    columns = list(defects)
    which = rng.integers(0, len(columns), len(bad))
    for j, column in enumerate(columns):
        rows = bad[which == j]
        if not len(rows):
            continue
        mask = np.zeros(table.num_rows, dtype=bool)
        mask[rows] = True
        values = table[column].combine_chunks()
        replacement = _defective(defects[column], values.take(pa.array(rows)), rng)
        broken = pc.replace_with_mask(values, pa.array(mask), replacement)
        table = table.set_column(table.schema.get_field_index(column), column, broken)
    return table, len(bad)
