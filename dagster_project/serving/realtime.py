"""Real-time decisions from a snapshot, through the batch's own arbitration.

``Decider`` holds one snapshot. When it is built, every customer is decided in one vectorised
call of ``decide_with_evidence`` (the batch's function, with the batch's population evidence and
each customer's own contact history), so an answer is a lookup. A customer is decided again,
alone and through the same function, when their session adds events (their decision row is
updated as ``session`` describes and rescored with the snapshot's offer champion, as scoring
does), when the day changes, or after the API decided them a contact (it counts against their
caps from the moment it is decided, as if sent). Advisor tasks are left to the batch: an
advisor's daily capacity is shared by all their customers, which one customer cannot see.

The API's clock is the snapshot's decision instant advanced by the wall time since it was
published: a live pipeline's snapshot is minutes old, and a replayed or simulated world decides
on its own calendar.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np
import pandas as pd

from ..decisioning.arbitration import DecisionInputs, decide_with_evidence
from .reason_words import reasons_in_words
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
    ):
        self.snapshot = snapshot
        self._clock = clock
        self._lock = threading.Lock()
        inputs = snapshot.inputs
        self._rows = inputs.customers.set_index("customer_key", drop=False)
        self._offer_scores = inputs.offer_scores.set_index("customer_key", drop=False)
        self._channel_scores = inputs.channel_scores.set_index("customer_key", drop=False)
        self._history = inputs.history
        self._pending: list[dict] = []  # contacts this server decided, counted as sent
        now, day = self.now(), self.day()
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
            self._after_contact = _plan_answers(self._decide(customers, None, now), day)
            self._pending = []
        for key, session in (sessions or {}).items():
            if key in self._rows.index and session.events:
                self.redecide(key, session)

    # The clock -------------------------------------------------------------------------------
    def now(self) -> datetime:
        return self.snapshot.decided_at + (self._clock() - self.snapshot.published_at)

    def day(self) -> str:
        return self.now().date().isoformat()

    # Lookups ---------------------------------------------------------------------------------
    def knows(self, customer_key: str) -> bool:
        return customer_key in self._answers or customer_key in self._rows.index

    def customer_for_device(self, device_id: str) -> str | None:
        return self.snapshot.devices.get(device_id)

    def answer(self, customer_key: str, session: Session | None = None) -> Answer:
        """The customer's plan for today, deciding again when the day has changed."""
        cached = self._answers.get(customer_key)
        if cached is not None and cached.day == self.day():
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
        with self._lock:
            pending = [p for p in self._pending if p["customer_key"] in set(keys)]
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
        seen = set(self._history.get("decision_id", pd.Series(dtype=object)).dropna())
        with self._lock:
            seen |= {p["decision_id"] for p in self._pending}
            for row in contacts:
                if row["decision_id"] in seen:
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

    def carry_pending(self, pending: Iterable[dict]) -> None:
        """Contacts an earlier snapshot's server decided that this snapshot's history lacks."""
        delivered = set(self._history.get("decision_id", pd.Series(dtype=object)).dropna())
        carried = [p for p in pending if p["decision_id"] not in delivered]
        with self._lock:
            self._pending.extend(carried)
        for key in {p["customer_key"] for p in carried}:
            self._answers.pop(key, None)


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
