"""The world answers the platform: delivered emails get opens, clicks and applications.

The simulator sits outside the pipeline. It reads what the channels received (the local email
sink: one JSON message per decision, with the address it went to), finds the person behind each
address in the world's truth, and draws their response from that person's true propensity for the
offered product on email: a click with probability p, an open with probability min(1, 2.5 p)
(every click is an open), and half of the clickers start an application. It writes what the
source systems would: the email service provider's send/open/click events and the application
system's ``started`` rows, as landing files for the next day. Decisions it has answered are
remembered in ``truth/closed_loop_answered.json``, so each is answered once.

Push and SMS responses have no source system in the demo world yet (see the issue notes).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

from dagster_project.demo.landing_files import (
    APPLICATIONS,
    EMAIL,
    LandingFile,
    LandingWriter,
    contract_table,
)
from dagster_project.demo.product_catalogue import PRODUCT_PROFILES
from dagster_project.demo.propensities import PROPENSITIES_FILE
from dagster_project.demo.random_streams import stream
from dagster_project.demo.truth import load_persons, load_record_links
from dagster_project.ingest.contracts import PRODUCTS
from dagster_project.settings import DataPaths

ANSWERED_FILE = "closed_loop_answered.json"
LOOP_EMAIL = LandingFile(EMAIL.contract, "jsonl", EMAIL.record_key, stem="email_events_closed_loop")
LOOP_APPLICATIONS = LandingFile(
    APPLICATIONS.contract, "csv", APPLICATIONS.record_key, stem="applications_closed_loop"
)
_OPEN_PER_CLICK = 2.5
_APPLY_PER_CLICK = 0.5


@dataclass(frozen=True)
class LoopDay:
    day: date
    answered: int
    opens: int
    clicks: int
    applications: int
    files: list[Path]


def _delivered_emails(outbox: Path, answered: set[str]) -> pd.DataFrame:
    rows = []
    for path in sorted((outbox / "email").glob("*.json")):
        message = json.loads(path.read_text(encoding="utf-8"))
        if message["decision_id"] not in answered:
            rows.append(message)
    return pd.DataFrame(rows, columns=["decision_id", "offer_id", "recipient", "customer_key"])


def _people_by_address(paths: DataPaths) -> pd.DataFrame:
    persons = load_persons(paths)
    current = persons[["person_id", "email"]].rename(columns={"email": "address"})
    previous = persons[["person_id", "previous_email"]].rename(
        columns={"previous_email": "address"}
    )
    both = pd.concat([current, previous]).dropna()
    return both.drop_duplicates("address").set_index("address")


def answer_deliveries(paths: DataPaths, outbox: Path, day: date, seed: int) -> LoopDay:
    """Responses to every email delivered and not yet answered, dated ``day`` (UTC)."""
    answered_path = paths.truth / ANSWERED_FILE
    answered = set(json.loads(answered_path.read_text())) if answered_path.exists() else set()
    emails = _delivered_emails(outbox, answered)
    if emails.empty:
        return LoopDay(day, 0, 0, 0, 0, [])
    emails["product"] = emails["offer_id"].map(_offer_products(paths))
    people = _people_by_address(paths)
    emails["person_id"] = emails["recipient"].map(people["person_id"])
    emails = emails.dropna(subset=["person_id", "product"]).reset_index(drop=True)
    truth = pd.read_parquet(
        paths.truth / PROPENSITIES_FILE, columns=["person_id", "offer", "channel", "propensity"]
    )
    truth = truth[truth["channel"] == "email"].set_index(["person_id", "offer"])["propensity"]
    p = (
        truth.reindex(pd.MultiIndex.from_arrays([emails["person_id"], emails["product"]]))
        .fillna(0)
        .to_numpy()
    )

    rng = stream(seed, f"closed-loop-{day.isoformat()}")
    n = len(emails)
    clicked = rng.random(n) < p
    opened = clicked | (rng.random(n) < np.minimum(1.0, _OPEN_PER_CLICK * p))
    applied = clicked & (rng.random(n) < _APPLY_PER_CLICK)
    start = datetime.combine(day, datetime.min.time(), tzinfo=UTC)
    sent_at = start + pd.to_timedelta(rng.integers(0, 3600, n), unit="s")
    opened_at = sent_at + pd.to_timedelta(rng.integers(60, 8 * 3600, n), unit="s")
    clicked_at = opened_at + pd.to_timedelta(rng.integers(5, 600, n), unit="s")

    files = []
    with LandingWriter(paths.landing) as writer:
        files.append(
            writer.write(
                LOOP_EMAIL,
                day,
                _email_events(emails, sent_at, opened, opened_at, clicked, clicked_at),
            )
        )
        if applied.any():
            files.append(
                writer.write(
                    LOOP_APPLICATIONS,
                    day,
                    _applications(paths, emails[applied], clicked_at[applied], rng),
                )
            )
    answered_path.write_text(json.dumps(sorted(answered | set(emails["decision_id"]))))
    return LoopDay(day, n, int(opened.sum()), int(clicked.sum()), int(applied.sum()), files)


def _offer_products(paths: DataPaths) -> dict[str, str]:
    from dagster_project.decisioning.config import load_marketing_config
    from dagster_project.settings import config_dir

    return {o.id: o.product for o in load_marketing_config(config_dir()).offers.offers}


def _email_events(
    emails: pd.DataFrame,
    sent_at: pd.DatetimeIndex,
    opened: np.ndarray,
    opened_at: pd.DatetimeIndex,
    clicked: np.ndarray,
    clicked_at: pd.DatetimeIndex,
) -> pa.Table:
    parts = []
    for kind, mask, at in (
        ("send", np.ones(len(emails), dtype=bool), sent_at),
        ("open", opened, opened_at),
        ("click", clicked, clicked_at),
    ):
        chosen = emails[mask]
        parts.append(
            pd.DataFrame(
                {
                    "event_id": "loop-" + chosen["decision_id"] + f"-{kind}",
                    "event_ts": [t.isoformat() for t in at[mask]],
                    "event_type": kind,
                    "message_id": "<" + chosen["decision_id"] + "@journey-orchestrator>",
                    "campaign_id": "nba-" + chosen["offer_id"],
                    "recipient_email": chosen["recipient"],
                    "product_topic": chosen["product"],
                    "link_url": [
                        f"https://bank.example/{p.replace('_', '-')}" if kind == "click" else None
                        for p in chosen["product"]
                    ],
                }
            )
        )
    frame = pd.concat(parts, ignore_index=True)
    return contract_table(
        EMAIL.contract, {c: pa.array(frame[c], pa.string()) for c in frame.columns}
    )


def _applications(
    paths: DataPaths, emails: pd.DataFrame, at: pd.DatetimeIndex, rng: np.random.Generator
) -> pa.Table:
    persons = load_persons(paths).set_index("person_id").loc[emails["person_id"]]
    links = load_record_links(paths)
    crm = (
        links[links["table"] == "crm__customers"]
        .drop_duplicates("person_id")
        .set_index("person_id")["record_id"]
    )
    amounts = []
    for product in emails["product"]:
        low, high, step = PRODUCT_PROFILES[PRODUCTS.index(product)].amount
        amounts.append(str(low + step * int(rng.integers(0, (high - low) // step + 1))))
    columns = {
        "application_id": ("APP-LOOP-" + emails["decision_id"].str[:12]).to_numpy(),
        "event_ts": [t.isoformat() for t in at + timedelta(minutes=15)],
        "stage": ["started"] * len(emails),
        "product": emails["product"].to_numpy(),
        "channel": ["web"] * len(emails),
        "customer_id": crm.reindex(emails["person_id"])
        .astype(object)
        .where(lambda v: v.notna(), None)
        .to_numpy(),
        "first_name": persons["first_name"].to_numpy(),
        "last_name": persons["last_name"].to_numpy(),
        "email": emails["recipient"].to_numpy(),
        "phone": persons["mobile_phone"].astype(object).where(lambda v: v.notna(), None).to_numpy(),
        "date_of_birth": persons["date_of_birth"].astype(str).to_numpy(),
        "amount": amounts,
    }
    return contract_table(
        APPLICATIONS.contract, {k: pa.array(list(v), pa.string()) for k, v in columns.items()}
    )
