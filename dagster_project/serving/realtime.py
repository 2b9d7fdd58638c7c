"""Real-time decisions from a snapshot, through the batch's own arbitration.

``Decider`` holds one snapshot and one day. When it is built, every customer is decided in one
vectorised call of ``decide_with_evidence`` (the batch's function, with the batch's population
evidence and each customer's own contact history), so an answer is a lookup, and the JSON a
placement shows is encoded once per answer. A customer is decided again, alone and through the
same function, when their session adds events (their decision row is updated as ``session``
describes and rescored with the snapshot's offer champion, as scoring does), or after the API
decided them a contact (it counts against their caps from the moment it is decided, as if sent;
what follows is decided ahead when the Decider is built). When the API's day changes, the server
builds a new Decider for the new day off the request path (``ServingState.refresh``) and swaps
it in; until then requests are answered from the previous day's plan (``stale``). Advisor tasks
are left to the batch: an advisor's daily capacity is shared by all their customers, which one
customer cannot see.

The API's clock is the snapshot's decision instant advanced by the wall time since it was
published: a live pipeline's snapshot is minutes old, and a replayed or simulated world decides
on its own calendar.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

import numpy as np
import pandas as pd

from ..decisioning.arbitration import DecisionInputs, decide_with_evidence
from ..decisioning.reason_words import reasons_in_words
from .session import Session
from .snapshot import Snapshot

API_ACTIONS = ("contact", "web", "control", "no_action")


def wall_clock() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Answer:
    """A customer's current plan: the rows to log and what the placements show."""

    day: str
    rows: tuple[dict, ...]
    web: dict | None  # the web row (site and app), None when nothing is shown
    reason: str  # why nothing is shown, when nothing is
    # The encoded answer body per placement, filled on first use (an answer never changes).
    bodies: dict[str, bytes] = field(default_factory=dict, compare=False, repr=False)


def _plan_answers(plan: pd.DataFrame, day: str) -> dict[str, Answer]:
    plan = plan[plan["action"].isin(API_ACTIONS)]
    answers = {}
    for key, rows in plan.groupby("customer_key", sort=False):
        records = tuple(rows.to_dict("records"))
        web = next((r for r in records if r["action"] == "web"), None)
        if web is not None:
            reason = ""
        elif any(r["action"] == "control" for r in records):
            reason = "control group: held out from every action"
        else:
            idle = next((r for r in records if r["action"] == "no_action"), None)
            reason = str(idle["explanation"]) if idle else "nothing clears min_priority"
        answers[str(key)] = Answer(day, records, web, reason)
    return answers


class Decider:
    def __init__(
        self,
        snapshot: Snapshot,
        sessions: Mapping[str, Session] | None = None,
        clock: Callable[[], datetime] = wall_clock,
        pending: Iterable[dict] = (),
    ):
        """``pending``: contacts an earlier Decider of this server answered (its
        ``pending_contacts``); those this snapshot's history lacks count against caps here."""
        self.snapshot = snapshot
        self._clock = clock
        self._lock = threading.Lock()
        inputs = snapshot.inputs
        self._rows = inputs.customers.set_index("customer_key", drop=False)
        self._offer_scores = inputs.offer_scores.set_index("customer_key", drop=False)
        self._channel_scores = inputs.channel_scores.set_index("customer_key", drop=False)
        self._history = inputs.history
        self._delivered = frozenset(
            self._history.get("decision_id", pd.Series(dtype=object)).dropna()
        )
        # Contacts this server decided, counted as sent.
        carried = [p for p in pending if p["decision_id"] not in self._delivered]
        self._pending: list[dict] = list(carried)
        now, day = self.now(), self.day()
        self.plan_day = day
        plan = self._decide(inputs.customers, None, now)
        self._answers = _plan_answers(plan, day)
        # What each contact's customer gets once it is answered and counted, decided ahead in one
        # call too, so no request waits for a customer to be decided again.
        self._after_contact: dict[str, Answer] = {}
        contacts = plan[plan["action"] == "contact"]
        if len(contacts):
            self._pending = [self._as_sent(r, now) for r in contacts.to_dict("records")]
            customers = inputs.customers[
                inputs.customers["customer_key"].isin(contacts["customer_key"])
            ]
            self._pending.extend(carried)  # the earlier contacts counted here too
            self._after_contact = _plan_answers(self._decide(customers, None, now), day)
            self._pending = list(carried)
        for key, session in (sessions or {}).items():
            if key in self._rows.index and session.events:
                self.redecide(key, session)

    # The clock -------------------------------------------------------------------------------
    def now(self) -> datetime:
        return self.snapshot.decided_at + (self._clock() - self.snapshot.published_at)

    def day(self) -> str:
        return self.now().date().isoformat()

    def stale(self) -> bool:
        """The API's day is past the day this Decider decided everyone for."""
        return self.day() != self.plan_day

    # Lookups ---------------------------------------------------------------------------------
    def knows(self, customer_key: str) -> bool:
        return customer_key in self._answers or customer_key in self._rows.index

    def customer_for_device(self, device_id: str) -> str | None:
        return self.snapshot.devices.get(device_id)

    def answer(self, customer_key: str, session: Session | None = None) -> Answer:
        """The customer's current plan: a lookup, unless it had to be dropped (then decided
        again). A new day is the server's to decide for everyone, in the background."""
        cached = self._answers.get(customer_key)
        if cached is not None:
            return cached
        return self.redecide(customer_key, session)

    # Deciding --------------------------------------------------------------------------------
    def redecide(self, customer_key: str, session: Session | None = None) -> Answer:
        """Decide one customer again, with what their session adds to their decision row."""
        row = self._rows.loc[customer_key].to_dict()
        scores = (
            self._offer_scores.loc[[customer_key]]
            if customer_key in self._offer_scores.index
            else None
        )
        if session is not None and session.events:
            row, counted = session.applied_to(row)
            if counted and self.snapshot.offer_model is not None:
                scores = self._rescore(row)
        frame = pd.DataFrame([row])
        plan = self._decide(frame, scores, self.now())
        answer = _plan_answers(plan, self.day()).get(customer_key)
        if answer is None:  # arbitration gives everyone a row; keep a lookup total anyway
            answer = Answer(self.day(), (), None, "no decision")
        self._answers[customer_key] = answer
        self._after_contact.pop(customer_key, None)
        return answer

    def _rescore(self, row: dict) -> pd.DataFrame:
        from models.scoring import score_rows

        frame = pd.DataFrame([row])
        scored = score_rows(frame, self.snapshot.offer_model)  # type: ignore[arg-type]
        return scored[["customer_key", "subject", "score", "rank", "reason_codes"]]

    def _decide(
        self, customers: pd.DataFrame, offer_scores: pd.DataFrame | None, now: datetime
    ) -> pd.DataFrame:
        inputs = self.snapshot.inputs
        keys = customers["customer_key"].astype(str).tolist()
        alone = len(keys) < len(self._rows)
        history = self._history
        if alone:
            history = history[history["customer_key"].isin(keys)]
        wanted = set(keys)
        with self._lock:
            pending = [p for p in self._pending if p["customer_key"] in wanted]
        if pending:
            history = pd.concat([history, pd.DataFrame(pending)], ignore_index=True)
            history["sent_at"] = pd.to_datetime(history["sent_at"]).astype("datetime64[us]")
        if offer_scores is None:
            offer_scores = (
                self._offer_scores.loc[self._offer_scores.index.intersection(keys)]
                if alone
                else inputs.offer_scores
            )
        channel_scores = (
            self._channel_scores.loc[self._channel_scores.index.intersection(keys)]
            if alone
            else inputs.channel_scores
        )
        decision = DecisionInputs(
            customers=customers.reset_index(drop=True),
            offer_scores=offer_scores.reset_index(drop=True),
            channel_scores=channel_scores.reset_index(drop=True),
            history=history,
            now=now,
            model_versions=inputs.model_versions,
            evidence=inputs.evidence,
        )
        plan, _ = decide_with_evidence(decision, self.snapshot.config)
        return plan

    def count_contacts(self, rows: Iterable[dict]) -> None:
        """Contacts the API answered with count against the customer's caps from now on."""
        contacts = [r for r in rows if r["action"] == "contact"]
        if not contacts:
            return
        now = pd.Timestamp(self.now()).tz_convert(None)
        with self._lock:
            counted = {p["decision_id"] for p in self._pending}
            for row in contacts:
                if row["decision_id"] in self._delivered or row["decision_id"] in counted:
                    continue
                self._pending.append(self._as_sent(row, now))
                key = row["customer_key"]
                ahead = self._after_contact.pop(key, None)
                if ahead is not None and ahead.day == self.day():
                    self._answers[key] = ahead
                else:
                    self._answers.pop(key, None)

    @staticmethod
    def _as_sent(row: dict, now: datetime | pd.Timestamp) -> dict:
        return {
            "customer_key": row["customer_key"],
            "channel": row["channel"],
            "sent_at": pd.Timestamp(now).tz_convert(None) if pd.Timestamp(now).tzinfo else now,
            "engaged": False,
            "clicked": False,
            "product": row["product"],
            "predicted": np.nan,
            "decision_id": row["decision_id"],
        }

    def pending_contacts(self) -> list[dict]:
        with self._lock:
            return list(self._pending)

    def carry_late(self, pending: Iterable[dict]) -> None:
        """Contacts the previous Decider answered while this one was being built: counted here
        too, and their customers decided again on their next request."""
        with self._lock:
            known = {p["decision_id"] for p in self._pending} | self._delivered
            late = [p for p in pending if p["decision_id"] not in known]
            self._pending.extend(late)
        for key in {p["customer_key"] for p in late}:
            self._answers.pop(key, None)
            self._after_contact.pop(key, None)


def encoded_offer(answer: Answer, snapshot: Snapshot, placement: str) -> bytes:
    """``offer_body`` as the JSON bytes sent, encoded once per answer and placement."""
    body = answer.bodies.get(placement)
    if body is None:
        body = json.dumps(
            offer_body(answer, snapshot, placement),
            ensure_ascii=False,
            allow_nan=False,
            separators=(",", ":"),
        ).encode("utf-8")
        answer.bodies[placement] = body
    return body


def offer_body(answer: Answer, snapshot: Snapshot, placement: str) -> dict:
    """What a placement shows: the offer with its content, and why, with no PII."""
    web = answer.web
    assert web is not None
    content = json.loads(web["content"]) if web.get("content") else {}
    offer = content.get("offer", {})
    score = web.get("offer_score")
    why = (
        f"best eligible offer: {float(score):.1%} likely to apply x value "
        f"{float(web['value']):g} x business weight"
        if score is not None and not pd.isna(score)
        else "best eligible offer"
    )
    if web.get("explanation") and not pd.isna(web["explanation"]):
        why += f"; {web['explanation']}"
    return {
        "decision_id": web["decision_id"],
        "placement": placement,
        "offer": {
            "id": web["offer_id"],
            "product": web["product"],
            "template": content.get("template"),
            "headline": offer.get("headline"),
            "tool": offer.get("tool"),
            "facts": offer,
        },
        "context": {
            "products_considered": content.get("products_considered", []),
            "pages_viewed": content.get("pages_viewed", []),
            "journey_stage": content.get("journey_stage"),
        },
        "models": {"offer": web["offer_model"], "channel": web["channel_model"]},
        "policy_hash": web["policy_hash"],
        "reasons": reasons_in_words(web.get("reason_codes")),
        "why": why,
        "snapshot_id": snapshot.snapshot_id,
        "decided_at": pd.Timestamp(web["decided_at"]).isoformat(),
    }
