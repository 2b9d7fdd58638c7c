"""The bank world answers what the platform delivered.

Every message in ``<data dir>/outbox/{email,sms,push}/*.json`` not answered yet is traced to its
person: an email by the address it went to (an inbox a couple shares goes to whichever of them the
platform's key mostly holds), an SMS or push by the records behind its customer key in
``identity.customer_keys`` (the person owning most of them). The response is drawn from that
person's true click probability for the offer on the channel, on the day the message was
delivered. What the providers then report goes into the world's buffer and lands in the next
day files:

* email (the provider's events): ``send``; ``bounce`` for a dead address; privacy-proxy opens a few
  seconds after the send, often twice; real opens (some read twice) and the click with its link;
  rare unsubscribes;
* SMS and push (the messaging provider's events): ``send``; ``failed`` for a landline, a phone
  without the app, or someone who already opted out; push taps (``open``) and clicks; rare opt-outs;
* for some clickers an application (``started``, and its future) and a visit to the product page.

Answered decision ids are kept in ``truth_bank_world/answered.json``, each message's outcome in
``truth_bank_world/answers.parquet``.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from dagster_project.settings import NBA_CAMPAIGN_PREFIX, DataPaths
from dagster_project.warehouse import connect

from .world import CHANNELS, DAY, MINUTE, PRODUCT_SLUG, US, BankWorld, truth_dir

ANSWERED_FILE = "answered.json"
ANSWERS_FILE = "answers.parquet"
ANSWERED_CHANNELS = ("email", "sms", "push")
SMS_OPT_OUT = 0.006
PUSH_OPT_OUT = 0.004


@dataclass
class AnswerDay:
    day: str
    answered: Counter = field(default_factory=Counter)  # per channel
    unmatched: int = 0  # messages whose person could not be found
    opens: int = 0
    clicks: Counter = field(default_factory=Counter)  # per channel
    applications: int = 0
    opt_outs: int = 0
    failed: int = 0  # SMS to a landline, push without the app, sends after an opt-out
    bounces: int = 0

    def as_dict(self) -> dict:
        return {
            "day": self.day,
            "answered": dict(self.answered),
            "unmatched": self.unmatched,
            "opens": self.opens,
            "clicks": dict(self.clicks),
            "applications": self.applications,
            "opt_outs": self.opt_outs,
            "failed": self.failed,
            "bounces": self.bounces,
        }


def delivered_messages(outbox: Path, answered: set[str]) -> pd.DataFrame:
    rows = []
    for channel in ANSWERED_CHANNELS:
        for path in sorted((outbox / channel).glob("*.json")):
            if path.stem in answered:
                continue
            message = json.loads(path.read_text(encoding="utf-8"))
            if message.get("decision_id") not in answered:
                rows.append(message)
    columns = ["decision_id", "channel", "offer_id", "recipient", "customer_key"]
    return pd.DataFrame(rows, columns=columns)


def key_records(paths: DataPaths, keys: list[str]) -> pd.DataFrame:
    """record_id, customer_key of the given keys, as identity resolution has them now."""
    if not keys:
        return pd.DataFrame(columns=["record_id", "customer_key"])
    with connect(paths.warehouse, read_only=True) as conn:
        return conn.execute(
            "SELECT record_id, customer_key FROM identity.customer_keys "
            "WHERE customer_key IN (SELECT unnest(?))",
            [sorted(set(keys))],
        ).df()


def key_owners(world: BankWorld, records: pd.DataFrame) -> dict[str, int]:
    """Each customer key's person: the one owning most of the key's records."""
    owners: dict[str, int] = {}
    persons = records["record_id"].map(world.links)
    frame = records.assign(person=persons).dropna(subset=["person"])
    for key, group in frame.groupby("customer_key"):
        owners[str(key)] = int(group["person"].astype(int).value_counts().index[0])
    return owners


def key_purity(world: BankWorld, records: pd.DataFrame) -> dict[str, float]:
    """Share of each key's records owned by its majority person."""
    frame = records.assign(person=records["record_id"].map(world.links)).dropna(subset=["person"])
    out = {}
    for key, group in frame.groupby("customer_key"):
        counts = group["person"].value_counts()
        out[str(key)] = float(counts.iloc[0] / counts.sum())
    return out


def delivery_instants(paths: DataPaths, ids: list[str]) -> dict[str, int]:
    """When each decision was delivered (the action log), in microseconds since the epoch."""
    if not ids:
        return {}
    with connect(paths.warehouse, read_only=True) as conn:
        rows = conn.execute(
            "SELECT decision_id, epoch_us(max(logged_at)) FROM activation.action_log "
            "WHERE state = 'delivered' AND decision_id IN (SELECT unnest(?)) GROUP BY 1",
            [ids],
        ).fetchall()
    return {d: int(us) for d, us in rows}


def _address_owners(world: BankWorld) -> dict[str, list[int]]:
    owners: dict[str, list[int]] = {}
    for i in range(world.n):
        for address in (world.email[i], world.old_email[i]):
            if address:
                owners.setdefault(address.lower(), []).append(i)
    return owners


def answer_deliveries(paths: DataPaths, world: BankWorld, t: int) -> AnswerDay:
    """Responses to every delivered, not yet answered email, SMS and push, into world's buffer."""
    folder = truth_dir(paths)
    answered_path = folder / ANSWERED_FILE
    answered = set(json.loads(answered_path.read_text())) if answered_path.exists() else set()
    day = AnswerDay(world.date_of(t).isoformat())
    sent = delivered_messages(paths.root / "outbox", answered)
    if sent.empty:
        return day
    records = key_records(paths, sent["customer_key"].dropna().tolist())
    by_key = key_owners(world, records)
    by_address = _address_owners(world)
    instants = delivery_instants(paths, sent["decision_id"].tolist())
    offers = {o.id: (j, o) for j, o in enumerate(world.offers)}
    rng = world._rng("answers", t)
    fallback = world.window_start_us(t)
    log = []
    for message in sent.itertuples(index=False):
        channel = message.channel
        if channel == "email":
            candidates = by_address.get(str(message.recipient or "").lower(), [])
            owner = by_key.get(message.customer_key)
            person = owner if owner in candidates else (candidates[0] if candidates else None)
        else:
            person = by_key.get(message.customer_key)
        if person is None or message.offer_id not in offers:
            day.unmatched += 1
            answered.add(message.decision_id)
            continue
        o, offer = offers[message.offer_id]
        c = CHANNELS.index(channel)
        delivered = instants.get(message.decision_id, fallback)
        delivered_day = int(np.floor((delivered - world.window_end_us(0)) / DAY))
        p = float(np.nan_to_num(world.probabilities(max(0, delivered_day))[person, o, c]))
        clicked = bool(rng.random() < p)
        outcome = _answer(world, rng, message, person, offer, channel, delivered, p, clicked, day)
        day.answered[channel] += 1
        answered.add(message.decision_id)
        log.append(
            {
                "decision_id": message.decision_id,
                "customer_key": message.customer_key,
                "person_id": world.person_id(person),
                "offer_id": offer.id,
                "channel": channel,
                "delivered_day": world.date_of(delivered_day).isoformat(),
                "probability": p,
                "clicked": clicked,
                **outcome,
            }
        )
    folder.mkdir(parents=True, exist_ok=True)
    answered_path.write_text(json.dumps(sorted(answered)))
    if log:
        frame = pd.DataFrame(log)
        path = folder / ANSWERS_FILE
        if path.exists():
            frame = pd.concat([pd.read_parquet(path), frame], ignore_index=True)
        frame.to_parquet(path, index=False)
    return day


def _answer(
    world: BankWorld,
    rng: np.random.Generator,
    message,
    i: int,
    offer,
    channel: str,
    delivered: int,
    p: float,
    clicked: bool,
    day: AnswerDay,
) -> dict:
    """The providers' events for one message; what happened, for the truth log."""
    product = offer.product
    k = world.products.index(product) if product in world.products else None
    campaign = f"{NBA_CAMPAIGN_PREFIX}{offer.id}"
    t = world.day_of_us(delivered)
    need = world.need(t)[i]
    click_at = None
    outcome = {"bounced": False, "failed": False, "opted_out": False, "applied": False}
    if channel == "email":
        address = str(message.recipient)
        p_open = 0.0 if world.never_opens[i] else float(1 / (1 + np.exp(-world.email_eng[i] - 0.4)))
        dead = not world.address_alive(address.lower(), t)
        before = len(world.buffer["email"])
        click_at = world.email_events(
            rng,
            i,
            t,
            address,
            f"<{message.decision_id}@journey-orchestrator>",
            campaign,
            product,
            delivered + int(rng.integers(1, 30)) * US,
            p_click_open=0.0,
            p_open=p_open,
            forced_click=clicked and not dead,
        )
        outcome["bounced"] = dead
        day.bounces += int(dead)
        day.opens += sum(r["event_type"] == "open" for r in world.buffer["email"][before:])
    else:
        stopped = world.sms_stopped[i] if channel == "sms" else world.push_stopped[i]
        unreachable = (
            bool(world.crm_phone_is_landline[i]) if channel == "sms" else not world.app_user[i]
        )
        slug = PRODUCT_SLUG.get(product, product.replace("_", "-"))
        link = f"https://www.bank.example/{slug}?utm_source={channel}&utm_campaign={campaign}"

        def event(kind: str, at: int, url: str | None = None) -> None:
            world.buffer["messaging"].append(
                {
                    "_ts": at,
                    "event_id": f"msg-{world._next_id('messaging'):010d}",
                    "channel": channel,
                    "event_type": kind,
                    "message_id": message.decision_id,
                    "customer_key": message.customer_key,
                    "product_topic": product,
                    "link_url": url,
                }
            )

        sent = delivered + int(rng.integers(1, 20)) * US
        event("send", sent)
        if stopped or unreachable:
            event("failed", sent + int(rng.integers(1, 120)) * US)
            outcome["failed"] = True
            day.failed += 1
            return outcome
        delay = MINUTE * (10 if channel == "sms" else 30)
        if clicked:
            at = sent + int(np.exp(rng.normal(np.log(delay), 1.2)))
            if channel == "push":
                event("open", at)
                day.opens += 1
            click_at = at + int(rng.integers(3, 90)) * US
            event("click", click_at, link)
        elif channel == "push" and rng.random() < min(0.5, 0.04 + 0.8 * p):  # a tap, no click
            event("open", sent + int(np.exp(rng.normal(np.log(delay), 1.2))))
            day.opens += 1
        if not clicked:
            rate = SMS_OPT_OUT if channel == "sms" else PUSH_OPT_OUT
            c = CHANNELS.index(channel)
            if rng.random() < rate * (1 + max(0.0, -world.affinity[i, c])):
                event("opt_out", sent + int(rng.integers(2, 600)) * MINUTE)
                outcome["opted_out"] = True
                day.opt_outs += 1
                if channel == "sms":
                    world.sms_stopped[i] = True
                else:
                    world.push_stopped[i] = True
    if click_at is not None and clicked:
        day.clicks[channel] += 1
        need_k = float(need[k]) if k is not None else 0.0
        world.session(
            rng, i, click_at + 2 * US, need, app=channel == "push", landing=k, campaign=campaign
        )
        if k is not None and rng.random() < 0.2 + 0.45 * min(1.0, need_k):
            at = click_at + int(rng.integers(4, 40)) * MINUTE
            world.application(rng, i, k, at, "app" if channel == "push" else "web")
            outcome["applied"] = True
            day.applications += 1
    return outcome
