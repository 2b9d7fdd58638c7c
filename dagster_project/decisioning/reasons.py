"""Reason codes for the actions decided, computed only for those rows.

Scoring stores reason codes for each customer's top-scored offer (or none, in a micro-batch).
When arbitration picks another offer, or scoring skipped them, the offer champion explains the
chosen (customer, offer) rows here: approximate contributions for a few thousand rows, not for
every customer and offer.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

EXPLAINED_ACTIONS = ("contact", "web", "advisor_task", "control")


def fill_reason_codes(plan: pd.DataFrame, customers: pd.DataFrame, data_root: Path) -> str:
    """Fill missing reason codes in place; returns what happened, for the asset's metadata."""
    need = (
        plan["reason_codes"].isna().to_numpy()
        & plan["product"].notna().to_numpy()
        & plan["action"].isin(EXPLAINED_ACTIONS).to_numpy()
    )
    if not need.any():
        return "none needed"
    from models.champions import load_champion
    from models.cold_start import PRIOR_REASON
    from models.registry import ModelLoadError, NoChampionError

    try:
        model = load_champion("offer_propensity", data_root).model
    except NoChampionError:  # a cold start: every offer is scored by its population rate
        plan.loc[need, "reason_codes"] = pd.Series(
            [[PRIOR_REASON]] * int(need.sum()), index=plan.index[need], dtype=object
        )
        return f"{int(need.sum())} decided rows on population rates (no champion yet)"
    except ModelLoadError as error:
        return f"left empty: {error}"
    rows = customers.set_index("customer_key").loc[plan.loc[need, "customer_key"]].reset_index()
    codes = np.array([model.spec.subjects.index(p) for p in plan.loc[need, "product"]])
    reasons = model.reason_codes(model.design(model.base(rows), codes)).to_pylist()
    plan.loc[need, "reason_codes"] = pd.Series(reasons, index=plan.index[need], dtype=object)
    return f"computed for {int(need.sum())} decided rows"
