"""``decisioning.next_best_actions``: every decision ever made, and the exports marketing ops read.

A decision run appends its rows in one transaction; a decision_id already present (the same plan
decided again the same day, e.g. by a later micro-batch) is kept as first decided, so re-running is
idempotent. Each run's plan is also exported as Parquet and CSV under
``<data dir>/exports/next_best_actions/`` (keys and scores only: no names, emails or phones).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb
import pandas as pd

from ..warehouse import quote_literal, transaction

ACTIONS_TABLE = "decisioning.next_best_actions"

_DDL = f"""
CREATE SCHEMA IF NOT EXISTS decisioning;
CREATE TABLE IF NOT EXISTS {ACTIONS_TABLE} (
    decision_id VARCHAR PRIMARY KEY,   -- deterministic; the idempotency key to the channel
    customer_key VARCHAR NOT NULL,
    action VARCHAR NOT NULL,           -- contact, web, advisor_task, control, no_action
    offer_id VARCHAR,
    product VARCHAR,
    channel VARCHAR,                   -- email, sms or push for contacts
    offer_score DOUBLE,                -- calibrated offer propensity
    channel_score DOUBLE,              -- channel engagement (model and the channel's answers)
    response_score DOUBLE,             -- expected click of the contact (calibrated)
    value DOUBLE,                      -- the offer's value
    priority DOUBLE,                   -- expected value that won arbitration
    control BOOLEAN NOT NULL,          -- in the global control group: held out, tracked
    action_probability DOUBLE,         -- chance this action was chosen (exploration); OPE
    explored BOOLEAN,                  -- an exploring contact, not the best guess
    options VARCHAR[],                 -- offer/channel pairs the contact was chosen among
    explanation VARCHAR,               -- why, in words (decisioning/explanations.py)
    scheduled_at TIMESTAMP,            -- UTC; past quiet hours in the customer's time zone
    reason_codes VARCHAR[],            -- features that raised the offer score most
    content VARCHAR,                   -- JSON the template receives
    offer_model VARCHAR,               -- model name@version
    channel_model VARCHAR,
    policy_hash VARCHAR NOT NULL,
    decided_at TIMESTAMP NOT NULL,
    decision_date VARCHAR NOT NULL,
    decision_run_id VARCHAR NOT NULL
);
ALTER TABLE {ACTIONS_TABLE} ADD COLUMN IF NOT EXISTS action_probability DOUBLE;
ALTER TABLE {ACTIONS_TABLE} ADD COLUMN IF NOT EXISTS explored BOOLEAN;
ALTER TABLE {ACTIONS_TABLE} ADD COLUMN IF NOT EXISTS response_score DOUBLE;
ALTER TABLE {ACTIONS_TABLE} ADD COLUMN IF NOT EXISTS options VARCHAR[];
"""


@dataclass(frozen=True)
class StoredDecisions:
    new: int
    already_decided: int
    by_action: dict[str, int]
    exports: list[Path]


def append_decisions(conn: duckdb.DuckDBPyConnection, plan: pd.DataFrame) -> int:
    """Insert the rows whose decision_id is new (inside the caller's transaction); returns how
    many. ``plan`` carries ``decision_run_id``."""
    conn.execute(_DDL)
    conn.register("plan", plan)
    try:
        before = conn.execute(f"SELECT count(*) FROM {ACTIONS_TABLE}").fetchone()[0]
        conn.execute(
            f"INSERT INTO {ACTIONS_TABLE} BY NAME SELECT * FROM plan "
            f"WHERE decision_id NOT IN (SELECT decision_id FROM {ACTIONS_TABLE})"
        )
        return int(conn.execute(f"SELECT count(*) FROM {ACTIONS_TABLE}").fetchone()[0] - before)
    finally:
        conn.unregister("plan")


def store_decisions(
    conn: duckdb.DuckDBPyConnection, plan: pd.DataFrame, run_id: str, export_dir: Path
) -> StoredDecisions:
    plan = plan.assign(decision_run_id=run_id)
    with transaction(conn):
        new = append_decisions(conn, plan)
    export_dir.mkdir(parents=True, exist_ok=True)
    stem = (
        export_dir
        / f"next_best_actions_{plan['decision_date'].iloc[0] if len(plan) else 'empty'}_{run_id[:8]}"
    )
    exports = [stem.with_suffix(".parquet"), stem.with_suffix(".csv")]
    with duckdb.connect() as local:
        local.register("plan", plan)
        for path in exports:
            fmt = "PARQUET" if path.suffix == ".parquet" else "CSV, HEADER"
            local.execute(f"COPY plan TO {quote_literal(str(path))} (FORMAT {fmt})")
    return StoredDecisions(
        new=int(new),
        already_decided=len(plan) - int(new),
        by_action=plan["action"].value_counts().to_dict(),
        exports=exports,
    )


CONTEXTS_DIR = ("decision_log", "contexts")


def contexts_folder(data_root: Path) -> Path:
    return data_root.joinpath(*CONTEXTS_DIR)


def log_contexts(plan: pd.DataFrame, customers: pd.DataFrame, data_root: Path, run_id: str) -> int:
    """What each contact (and each control-group row, the contact held out) was decided on: its
    customer's numeric decision-row features, by decision_id, one Parquet file per run (keys and
    numbers only; no PII). Off-policy evaluation scores other models' policies on the contacts;
    the uplift model compares them with the control rows."""
    contacts = plan[plan["action"].isin(["contact", "control"])]
    if contacts.empty:
        return 0
    numeric = [
        c
        for c in customers.columns
        if pd.api.types.is_numeric_dtype(customers[c]) or pd.api.types.is_bool_dtype(customers[c])
    ]
    rows = customers.set_index("customer_key").loc[contacts["customer_key"], numeric]
    frame = rows.reset_index(drop=True).assign(decision_id=contacts["decision_id"].to_numpy())
    folder = contexts_folder(data_root)
    folder.mkdir(parents=True, exist_ok=True)
    day = str(contacts["decision_date"].iloc[0])
    frame.to_parquet(folder / f"{day}_{run_id[:8]}.parquet", index=False)
    return len(frame)
