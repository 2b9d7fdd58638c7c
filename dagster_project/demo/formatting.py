"""Turning numbers into the strings landing files carry, column at a time.

Times inside the world are int64 microseconds since the Unix epoch (UTC) and dates are int days
since the epoch; the files want ISO strings. Everything here works on whole arrays.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

SECOND_US = 1_000_000
MINUTE_US = 60 * SECOND_US
HOUR_US = 60 * MINUTE_US
DAY_US = 24 * HOUR_US

_EPOCH = date(1970, 1, 1)
NULL_STRING = pa.scalar(None, pa.string())


def epoch_day(day: date) -> int:
    return (day - _EPOCH).days


def iso_timestamps(micros: np.ndarray) -> pa.Array:
    """``YYYY-MM-DDTHH:MM:SSZ`` for each UTC time (sub-second part dropped)."""
    seconds = pa.array(np.asarray(micros, dtype=np.int64) // SECOND_US, pa.timestamp("s"))
    # Arrow's cast is many times faster than strftime; it only needs the ISO separators.
    text = pc.replace_substring(seconds.cast(pa.string()), " ", "T", max_replacements=1)
    return concat(text, "Z")


def iso_dates(days: np.ndarray) -> pa.Array:
    return (
        pa.array(np.asarray(days, dtype=np.int32), pa.int32()).cast(pa.date32()).cast(pa.string())
    )


def utc_timestamps(micros: np.ndarray) -> pa.Array:
    return pa.array(np.asarray(micros, dtype=np.int64), type=pa.timestamp("us", tz="UTC"))


def concat(*parts: pa.Array | str) -> pa.Array:
    """Element-wise string concatenation; a null part makes the result null."""
    return pc.binary_join_element_wise(*parts, "")


def digits(values: np.ndarray, width: int) -> pa.Array:
    """Integers as zero-padded decimal strings."""
    text = pc.cast(pa.array(np.asarray(values, dtype=np.int64)), pa.string())
    return pc.utf8_lpad(text, width=width, padding="0")


def pick(vocabulary: pa.Array, index: np.ndarray, valid: np.ndarray | None = None) -> pa.Array:
    """``vocabulary[index]``, null where ``valid`` is False."""
    mask = None if valid is None else ~np.asarray(valid, dtype=bool)
    return vocabulary.take(pa.array(np.asarray(index, dtype=np.int64), mask=mask))


def null_where(values: pa.Array, mask: np.ndarray) -> pa.Array:
    if not mask.any():
        return values
    return pc.if_else(pa.array(mask), pa.scalar(None, values.type), values)


def thousands(dollars: np.ndarray) -> pa.Array:
    """Amounts the way people say them: 400000 -> '400k'."""
    return concat(pc.cast(pa.array(np.asarray(dollars, np.int64) // 1000), pa.string()), "k")


def fill_templates(
    templates: Sequence[str], which: np.ndarray, amount: pa.Array | None = None
) -> pa.Array:
    """``templates[which]`` with each ``{amount}`` slot filled from the row's ``amount``."""
    slot = "{amount}"
    heads, tails = zip(
        *(t.split(slot, 1) if slot in t else (t, None) for t in templates), strict=True
    )
    head = pick(pa.array(heads), which)
    if amount is None:
        return head
    has_slot = np.array([tail is not None for tail in tails])[which]
    filled = concat(head, amount, pick(pa.array([t or "" for t in tails]), which))
    return pc.if_else(pa.array(has_slot), filled, head)
