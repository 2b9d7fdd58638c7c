"""The world answers the platform: delivered emails, pushes and SMS get responses.

The simulator sits outside the pipeline. It reads what the channels received (the local sinks:
one JSON message per decision), finds the person behind each message in the world's truth, and
draws their response from that person's true propensity for the offered product on that channel:
a click (a link followed) with probability p; an open with probability min(1, 2.5 p) (every click
is an open) for email and push, where an open is a read or a tap, and none for SMS, which has no
open receipts; half of the clickers start an application. A few recipients opt out: an SMS
answered STOP, a push permission turned off. An email is traced to its person by the address it
went to; a push or SMS, which the provider addresses by customer key, through the records behind
that key. The simulator writes what the source systems would: the email service provider's
events, the messaging provider's push and SMS events and the application system's ``started``
rows, as landing files for the next day. Decisions it has answered are remembered in
``truth/closed_loop_answered.json``, so each is answered once; the applications they caused, with
the channel that caused them, in ``truth/closed_loop_conversions.parquet``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
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
from dagster_project.demo.random_streams import stream
from dagster_project.demo.truth_files import (
    CAUSED_FILE,
    PROPENSITIES_FILE,
    load_persons,
    load_record_links,
    truth_labels,
)
from dagster_project.ingest.contracts import MESSAGING_EVENTS
from dagster_project.settings import NBA_CAMPAIGN_PREFIX, PRODUCTS, DataPaths
from dagster_project.warehouse import connect

ANSWERED_FILE = "closed_loop_answered.json"
LOOP_EMAIL = LandingFile(EMAIL.contract, "jsonl", EMAIL.record_key, stem="email_events_closed_loop")
LOOP_MESSAGING = LandingFile(
    MESSAGING_EVENTS, "jsonl", "customer_key", stem="messaging_events_closed_loop"
)
LOOP_APPLICATIONS = LandingFile(
    APPLICATIONS.contract, "csv", APPLICATIONS.record_key, stem="applications_closed_loop"
)
ANSWERED_CHANNELS = ("email", "push", "sms")  # the order the loop table prints
_OPEN_PER_CLICK = {"email": 2.5, "push": 2.5, "sms": 0.0}
_OPT_OUT = {"email": 0.0, "push": 0.005, "sms": 0.01}  # email unsubscribes: not simulated
_APPLY_PER_CLICK = 0.5


@dataclass(frozen=True)
class LoopDay:
    day: date
    answered: dict[str, int]  # per channel
    opens: int
    clicks: int
    applications: int
    opt_outs: int
    files: list[Path] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(self.answered.values())


def _delivered(outbox: Path, answered: set[str]) -> pd.DataFrame:
    rows = []
    for channel in ANSWERED_CHANNELS:
        for path in sorted((outbox / channel).glob("*.json")):
            message = json.loads(path.read_text(encoding="utf-8"))
            if message["decision_id"] not in answered:
                rows.append(message)
    columns = ["decision_id", "channel", "offer_id", "recipient", "customer_key"]
    return pd.DataFrame(rows, columns=columns)


def _people_by_address(paths: DataPaths) -> pd.Series:
    persons = load_persons(paths)
    current = persons[["person_id", "email"]].rename(columns={"email": "address"})
    previous = persons[["person_id", "previous_email"]].rename(
        columns={"previous_email": "address"}
    )
    both = pd.concat([current, previous]).dropna()
    return both.drop_duplicates("address").set_index("address")["person_id"]


def _people_by_key(paths: DataPaths, keys: list[str]) -> pd.Series:
    """The person most of a customer key's records belong to."""
    if not keys:
        return pd.Series(dtype=object)
    with connect(paths.warehouse, read_only=True) as conn:
        records = conn.execute(
            "SELECT customer_key, record_id FROM identity.customer_keys "
            "WHERE list_contains(?, customer_key)",
            [sorted(set(keys))],
        ).df()
    records["person_id"] = records["record_id"].map(truth_labels(paths.truth))
    counts = records.groupby(["customer_key", "person_id"]).size().rename("n").reset_index()
    majority = counts.sort_values(["customer_key", "n"], ascending=[True, False])
    return majority.drop_duplicates("customer_key").set_index("customer_key")["person_id"]


def answer_deliveries(paths: DataPaths, outbox: Path, day: date, seed: int) -> LoopDay:
    """Responses to every email, push and SMS delivered and not yet answered, dated ``day``."""
    answered_path = paths.truth / ANSWERED_FILE
    answered = set(json.loads(answered_path.read_text())) if answered_path.exists() else set()
    sent = _delivered(outbox, answered)
    if sent.empty:
        return LoopDay(day, {}, 0, 0, 0, 0)
    sent["product"] = sent["offer_id"].map(_offer_products(paths))
    by_email = sent["channel"] == "email"
    by_key = _people_by_key(paths, sent.loc[~by_email, "customer_key"].tolist())
    sent["person_id"] = np.where(
        by_email,
        sent["recipient"].map(_people_by_address(paths)),
        sent["customer_key"].map(by_key),
    )
    sent = sent.dropna(subset=["person_id", "product"]).reset_index(drop=True)
    truth = pd.read_parquet(
        paths.truth / PROPENSITIES_FILE, columns=["person_id", "offer", "channel", "propensity"]
    ).set_index(["person_id", "offer", "channel"])["propensity"]
    index = pd.MultiIndex.from_arrays([sent["person_id"], sent["product"], sent["channel"]])
    p = truth.reindex(index).fillna(0).to_numpy()

    rng = stream(seed, f"closed-loop-{day.isoformat()}")
    n = len(sent)
    clicked = rng.random(n) < p
    open_rate = np.minimum(1.0, sent["channel"].map(_OPEN_PER_CLICK).to_numpy() * p)
    opened = clicked | (rng.random(n) < open_rate)
    opened &= sent["channel"].map(_OPEN_PER_CLICK).to_numpy() > 0
    applied = clicked & (rng.random(n) < _APPLY_PER_CLICK)
    opted_out = ~clicked & (rng.random(n) < sent["channel"].map(_OPT_OUT).to_numpy())
    start = datetime.combine(day, datetime.min.time(), tzinfo=UTC)
    responses = sent.assign(
        sent_at=start + pd.to_timedelta(rng.integers(0, 3600, n), unit="s"),
        opened=opened,
        clicked=clicked,
        opted_out=opted_out,
    )
    responses["opened_at"] = responses["sent_at"] + pd.to_timedelta(
        rng.integers(60, 8 * 3600, n), unit="s"
    )
    responses["clicked_at"] = responses["opened_at"] + pd.to_timedelta(
        rng.integers(5, 600, n), unit="s"
    )

    files = []
    with LandingWriter(paths.landing) as writer:
        emails = responses[responses["channel"] == "email"]
        if len(emails):
            files.append(writer.write(LOOP_EMAIL, day, _email_events(emails)))
        messages = responses[responses["channel"] != "email"]
        if len(messages):
            files.append(writer.write(LOOP_MESSAGING, day, _messaging_events(messages)))
        if applied.any():
            appliers = responses[applied]
            files.append(writer.write(LOOP_APPLICATIONS, day, _applications(paths, appliers, rng)))
    _record_caused(paths, responses[applied])
    answered_path.write_text(json.dumps(sorted(answered | set(sent["decision_id"]))))
    return LoopDay(
        day,
        {c: int(v) for c, v in sent["channel"].value_counts().items()},
        int(opened.sum()),
        int(clicked.sum()),
        int(applied.sum()),
        int(opted_out.sum()),
        files,
    )


def _record_caused(paths: DataPaths, appliers: pd.DataFrame) -> None:
    caused = pd.DataFrame(
        {
            "decision_id": appliers["decision_id"],
            "customer_key": appliers["customer_key"],
            "person_id": appliers["person_id"],
            "channel": appliers["channel"],
            "offer_id": appliers["offer_id"],
            "product": appliers["product"],
            "applied_at": appliers["clicked_at"] + timedelta(minutes=15),
        }
    )
    path = paths.truth / CAUSED_FILE
    if path.exists():
        caused = pd.concat([pd.read_parquet(path), caused], ignore_index=True)
    caused.to_parquet(path, index=False)


def _offer_products(paths: DataPaths) -> dict[str, str]:
    from dagster_project.decisioning.config import load_marketing_config
    from dagster_project.settings import config_dir

    return {o.id: o.product for o in load_marketing_config(config_dir()).offers.offers}


def _events(responses: pd.DataFrame) -> pd.DataFrame:
    """One row per send, open (or tap), click and opt-out, with its time and the product's link."""
    parts = []
    for kind, mask, at in (
        ("send", np.ones(len(responses), dtype=bool), "sent_at"),
        ("open", responses["opened"].to_numpy(), "opened_at"),
        ("click", responses["clicked"].to_numpy(), "clicked_at"),
        ("opt_out", responses["opted_out"].to_numpy(), "opened_at"),
    ):
        chosen = responses[mask]
        parts.append(
            chosen.assign(
                event_id="loop-" + chosen["decision_id"] + f"-{kind}",
                event_ts=[t.isoformat() for t in chosen[at]],
                event_type=kind,
                link_url=[
                    f"https://bank.example/{p.replace('_', '-')}" if kind == "click" else None
                    for p in chosen["product"]
                ],
            )
        )
    return pd.concat(parts, ignore_index=True)


def _email_events(emails: pd.DataFrame) -> pa.Table:
    frame = _events(emails)
    columns = {
        "event_id": frame["event_id"],
        "event_ts": frame["event_ts"],
        "event_type": frame["event_type"],
        "message_id": "<" + frame["decision_id"] + "@journey-orchestrator>",
        "campaign_id": NBA_CAMPAIGN_PREFIX + frame["offer_id"],
        "recipient_email": frame["recipient"],
        "product_topic": frame["product"],
        "link_url": frame["link_url"],
    }
    return contract_table(EMAIL.contract, {c: pa.array(v, pa.string()) for c, v in columns.items()})


def _messaging_events(messages: pd.DataFrame) -> pa.Table:
    frame = _events(messages)
    columns = {
        "event_id": frame["event_id"],
        "event_ts": frame["event_ts"],
        "channel": frame["channel"],
        "event_type": frame["event_type"],
        "message_id": frame["decision_id"],
        "customer_key": frame["customer_key"],
        "product_topic": frame["product"],
        "link_url": frame["link_url"],
    }
    return contract_table(
        MESSAGING_EVENTS, {c: pa.array(v, pa.string()) for c, v in columns.items()}
    )


def _applications(paths: DataPaths, appliers: pd.DataFrame, rng: np.random.Generator) -> pa.Table:
    """The application system's ``started`` rows, a quarter of an hour after the click."""
    persons = load_persons(paths).set_index("person_id").loc[appliers["person_id"]]
    links = load_record_links(paths)
    crm = (
        links[links["table"] == "crm__customers"]
        .drop_duplicates("person_id")
        .set_index("person_id")["record_id"]
    )
    amounts = []
    for product in appliers["product"]:
        low, high, step = PRODUCT_PROFILES[PRODUCTS.index(product)].amount
        amounts.append(str(low + step * int(rng.integers(0, (high - low) // step + 1))))
    by_email = (appliers["channel"] == "email").to_numpy()
    columns = {
        "application_id": ("APP-LOOP-" + appliers["decision_id"].str[:12]).to_numpy(),
        "event_ts": [t.isoformat() for t in appliers["clicked_at"] + timedelta(minutes=15)],
        "stage": ["started"] * len(appliers),
        "product": appliers["product"].to_numpy(),
        # A tapped push opens the app; email and SMS links open the site.
        "channel": np.where(appliers["channel"] == "push", "app", "web"),
        "customer_id": crm.reindex(appliers["person_id"])
        .astype(object)
        .where(lambda v: v.notna(), None)
        .to_numpy(),
        "first_name": persons["first_name"].to_numpy(),
        "last_name": persons["last_name"].to_numpy(),
        # The address the email went to; otherwise the one the person uses now.
        "email": np.where(
            by_email,
            appliers["recipient"].to_numpy(),
            persons["email"].astype(object).where(lambda v: v.notna(), None).to_numpy(),
        ),
        "phone": persons["mobile_phone"].astype(object).where(lambda v: v.notna(), None).to_numpy(),
        "date_of_birth": persons["date_of_birth"].astype(str).to_numpy(),
        "amount": amounts,
    }
    return contract_table(
        APPLICATIONS.contract, {k: pa.array(list(v), pa.string()) for k, v in columns.items()}
    )
