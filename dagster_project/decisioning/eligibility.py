"""Declarative eligibility rules evaluated on the customers' decision rows, vectorised.

A comparison with a missing value is false (as in SQL), so an unknown fact never makes a customer
eligible by accident; ``is_null`` and ``not_null`` test for missing values explicitly.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .config import OFFERS_FILE, Condition, ConfigError, Offer


def _holds(column: pd.Series, condition: Condition) -> np.ndarray:
    op, value = condition.op, condition.value
    if op == "is_null":
        return column.isna().to_numpy()
    if op == "not_null":
        return column.notna().to_numpy()
    known = column.notna().to_numpy()
    if op in ("in", "not_in"):
        inside = column.isin(value).to_numpy()
        return known & (inside if op == "in" else ~inside)
    compare = {
        "eq": column.__eq__,
        "ne": column.__ne__,
        "lt": column.__lt__,
        "lte": column.__le__,
        "gt": column.__gt__,
        "gte": column.__ge__,
    }[op]
    try:
        result = compare(value)
    except TypeError as error:
        raise ValueError(f"cannot compare {column.name} ({column.dtype}) with {value!r}") from error
    return known & result.fillna(False).to_numpy(dtype=bool)


def eligible(customers: pd.DataFrame, offer: Offer, offer_index: int) -> np.ndarray:
    """One boolean per customer row: does the offer's eligibility hold?"""
    rules = offer.eligibility
    result = np.ones(len(customers), dtype=bool)
    for group in ("all", "any"):
        conditions = getattr(rules, group)
        if not conditions:
            continue
        tests = []
        for position, condition in enumerate(conditions):
            where = f"{OFFERS_FILE}: offers[{offer_index}].eligibility.{group}[{position}]"
            if condition.field not in customers.columns:
                raise ConfigError(
                    f"{where}.field: no such column in the decision row "
                    f"(value: {condition.field!r}); known columns: {', '.join(customers.columns)}"
                )
            try:
                tests.append(_holds(customers[condition.field], condition))
            except ValueError as error:
                raise ConfigError(f"{where}.value: {error} (value: {condition.value!r})") from error
        combined = np.logical_and.reduce(tests) if group == "all" else np.logical_or.reduce(tests)
        result &= combined
    return result
