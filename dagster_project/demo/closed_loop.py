"""The world answers the platform: delivered emails, pushes and SMS get responses.

The simulator sits outside the pipeline. It reads what the channels received (the local sinks:
one JSON message per decision), finds the person behind each message in the world's truth, and
draws their response from that person's true propensity for the offered product on that channel,
at the instant activation delivered it: a click (a link followed) with probability p; an open with
probability min(1, 2.5 p) (every click is an open) for email and push, both with their odds moved
by the person's reading habit for the channel (``habits.py``: up to 1.5x at their hour against far
from it, none on average; many reads wait for that hour), where an open is a read or a tap,
and none for SMS, which has no open receipts; half of the clickers start an application. A few recipients opt out: an SMS
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
import pyarrow.parquet as pq

from dagster_project.demo.habits import habit_logit, read_delay_hours
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
from dagster_project.warehouse import connect, table_exists

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


def answer_deliveries(
    paths: DataPaths, outbox: Path, day: date, seed: int, until: datetime | None = None
) -> LoopDay:
    """Responses to every email, push and SMS delivered and not yet answered, in ``day``'s files.

    Each response follows the message from the instant it was delivered (the activation log's;
    the start of ``day`` for a message it does not know). With ``until`` (the next decision
    instant), events at or after it are held back for a later call: the platform cannot see an
    open before it happens."""
    answered_path = paths.truth / ANSWERED_FILE
    answered = set(json.loads(answered_path.read_text())) if answered_path.exists() else set()
    sent = _delivered(outbox, answered)
    if sent.empty:
        files = _write_due(paths, day, {}, until)
        return LoopDay(day, {}, 0, 0, 0, 0, files)
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
    # The hour the message reached them, against the hour they read that channel (habits.py).
    start = datetime.combine(day, datetime.min.time(), tzinfo=UTC)
    sent_at = _delivered_at(paths, sent["decision_id"]).reindex(sent["decision_id"]).to_numpy()
    fallback = start + pd.to_timedelta(rng.integers(0, 3600, n), unit="s")
    sent["sent_at"] = (
        pd.Series(sent_at, dtype="datetime64[us, UTC]")
        .fillna(pd.Series(fallback, dtype="datetime64[us, UTC]"))
        .dt.floor("s")  # the providers report whole seconds
    )
    send_hour, habit_hour = _send_and_habit_hours(paths, sent)
    habit = habit_logit(send_hour, habit_hour)
    clicked = rng.random(n) < _shifted(p, habit)
    open_rate = np.minimum(1.0, sent["channel"].map(_OPEN_PER_CLICK).to_numpy() * p)
    opened = clicked | (rng.random(n) < _shifted(open_rate, habit))
    opened &= sent["channel"].map(_OPEN_PER_CLICK).to_numpy() > 0
    applied = clicked & (rng.random(n) < _APPLY_PER_CLICK)
    opted_out = ~clicked & (rng.random(n) < sent["channel"].map(_OPT_OUT).to_numpy())
    responses = sent.assign(opened=opened, clicked=clicked, opted_out=opted_out)
    soon = rng.integers(60, 8 * 3600, n) / 3600
    delay = read_delay_hours(stream(seed, f"closed-loop-habits-{day}"), send_hour, habit_hour, soon)
    responses["opened_at"] = responses["sent_at"] + pd.to_timedelta(
        np.round(delay * 3600), unit="s"
    )
    responses["clicked_at"] = responses["opened_at"] + pd.to_timedelta(
        rng.integers(5, 600, n), unit="s"
    )

    by_email = (responses["channel"] == "email").to_numpy()
    tables = {}
    if by_email.any():
        tables[LOOP_EMAIL.stem] = _email_events(responses[by_email])
    if (~by_email).any():
        tables[LOOP_MESSAGING.stem] = _messaging_events(responses[~by_email])
    if applied.any():
        tables[LOOP_APPLICATIONS.stem] = _applications(paths, responses[applied], rng)
    files = _write_due(paths, day, tables, until)
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


def _delivered_at(paths: DataPaths, decision_ids: pd.Series) -> pd.Series:
    """When activation delivered each message (UTC), as its log says; empty without a log."""
    empty = pd.Series(dtype="datetime64[us, UTC]")
    if not paths.warehouse.exists() or decision_ids.empty:
        return empty
    with connect(paths.warehouse, read_only=True) as conn:
        if not table_exists(conn, "activation.action_log"):
            return empty
        rows = conn.execute(
            "SELECT decision_id, min(logged_at) AS at FROM activation.action_log "
            "WHERE state = 'delivered' AND list_contains(?, decision_id) GROUP BY 1",
            [sorted(set(decision_ids))],
        ).df()
    return pd.Series(
        pd.to_datetime(rows["at"]).dt.tz_localize(UTC).to_numpy(), index=rows["decision_id"]
    ).astype("datetime64[us, UTC]")


def _send_and_habit_hours(paths: DataPaths, sent: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Per message: the recipient's local hour of day at delivery, and the hour they read that
    channel."""
    persons = load_persons(paths).set_index("person_id")
    who = persons.reindex(sent["person_id"])
    zones = who["time_zone"].fillna("UTC").to_numpy()
    send_hour = np.zeros(len(sent))
    at = sent["sent_at"].reset_index(drop=True)
    for zone in pd.unique(zones):
        rows = np.flatnonzero(zones == zone)
        local = at.iloc[rows].dt.tz_convert(zone)
        send_hour[rows] = (local.dt.hour + local.dt.minute / 60).to_numpy()
    habit_hour = np.zeros(len(sent))
    for channel in ANSWERED_CHANNELS:
        rows = np.flatnonzero((sent["channel"] == channel).to_numpy())
        column = f"read_hour_{channel}"
        if column in who:
            habit_hour[rows] = who[column].to_numpy(dtype=float)[rows]
    return send_hour, habit_hour


def _shifted(p: np.ndarray, logit: np.ndarray) -> np.ndarray:
    """``p`` with its log-odds moved by ``logit``."""
    q = np.clip(p, 1e-9, 1 - 1e-9)
    return 1.0 / (1.0 + np.exp(-(np.log(q / (1 - q)) + logit)))


def _held_path(paths: DataPaths, stem: str) -> Path:
    return paths.truth / f"closed_loop_held_{stem}.parquet"


def _write_due(
    paths: DataPaths, day: date, tables: dict[str, pa.Table], until: datetime | None
) -> list[Path]:
    """Write each landing file's events due before ``until`` (all without it), with any held
    from earlier calls; keep the rest held."""
    files = []
    with LandingWriter(paths.landing) as writer:
        for spec in (LOOP_EMAIL, LOOP_MESSAGING, LOOP_APPLICATIONS):
            parts = [tables[spec.stem]] if spec.stem in tables else []
            held = _held_path(paths, spec.stem)
            if held.exists():
                parts.insert(0, pq.read_table(held))
                held.unlink()
            parts = [t for t in parts if t.num_rows]
            if not parts:
                continue
            table = pa.concat_tables(parts)
            due = np.ones(table.num_rows, dtype=bool)
            if until is not None:
                at = pd.to_datetime(table["event_ts"].to_pandas(), utc=True, format="ISO8601")
                due = (at < pd.Timestamp(until).tz_convert(UTC)).to_numpy()
            if (~due).any():
                pq.write_table(table.filter(pa.array(~due)), held)
            if due.any():
                files.append(writer.write(spec, day, table.filter(pa.array(due))))
    return files


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
