"""Which outbound channels each customer may be contacted on now, given what was sent before.

The history is every outbound contact actually sent (any channel), with whether the customer
engaged with it. Caps count it over rolling windows; the minimum gap and the back-off look at the
latest contacts. Both sides are arrays indexed like the customers: the history is looked up by
customer key once and sorted by customer and send time once, then every cap is a bincount and the
gap and the back-off reductions over each customer's run of contacts, so a million customers with
two million contacts cost a couple of seconds.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
import pandas as pd

from ..settings import OUTBOUND_CHANNELS
from ..warehouse import naive_utc
from .config import ChannelsConfig, ContactPolicy

# The contact history's columns and dtypes: who was contacted where and when, whether they
# engaged (opened or clicked) and clicked, the offer's product and what the plan expected.
# Rolling windows (caps, the minimum gap) start this much later than their nominal length: a
# contact sent by yesterday's 17:00 run a few seconds after 17:00 is "a day ago" for today's
# 17:00 run, as the marketer who wrote "24 hours" or "per 7 days" meant it.
SCHEDULE_SLACK = timedelta(hours=1)

HISTORY_COLUMNS = {
    "customer_key": "object",
    "channel": "object",
    "sent_at": "datetime64[us]",
    "engaged": "bool",
    "clicked": "bool",
    "product": "object",
    "decision_id": "object",
    "predicted": "float64",
    "delivered": "bool",  # false: decided, waiting to go out at sent_at
    "decided_at": "datetime64[us]",
}


def _decided_before(history: pd.DataFrame, now: datetime) -> np.ndarray:
    """The contacts that count against a decision at ``now``: every one decided before it,
    wherever its send time falls (one waiting for tomorrow's 08:00 counts at 08:00), and, where
    the decision time is unknown, every one sent before it. A plan decided again at its own
    instant does not count itself."""
    decided = history.get("decided_at", pd.Series(pd.NaT, index=history.index))
    return (decided.fillna(history["sent_at"]) < now).to_numpy(dtype=bool)


# NaT as an int64: the smallest value, so a maximum skips it.
_NAT = np.iinfo(np.int64).min


@dataclass(frozen=True)
class _Contacts:
    """The contacts of the customers in the index as arrays, looked up by key once: sorted by
    customer row, then send time (NaT last, ties in the history's order), so each customer's
    contacts are one run of positions."""

    row: np.ndarray  # the customer's row in the index
    channel: np.ndarray  # position in OUTBOUND_CHANNELS, -1 for any other
    sent_at: np.ndarray  # datetime64[us], naive UTC
    engaged: np.ndarray  # bool
    starts: np.ndarray  # the first position of each customer's run

    @classmethod
    def of(cls, history: pd.DataFrame, customers: pd.Index) -> _Contacts:
        row = customers.get_indexer(history["customer_key"])
        known = row >= 0
        row = row[known]
        sent_at = history["sent_at"].to_numpy(dtype="datetime64[us]")[known]
        ticks = sent_at.view(np.int64)
        nat_last = np.where(np.isnat(sent_at), np.iinfo(np.int64).max, ticks)
        order = np.lexsort((nat_last, row))
        row = row[order]
        return cls(
            row=row,
            channel=pd.Index(OUTBOUND_CHANNELS).get_indexer(history["channel"])[known][order],
            sent_at=sent_at[order],
            engaged=history["engaged"].to_numpy(dtype=bool)[known][order],
            starts=np.flatnonzero(np.r_[True, row[1:] != row[:-1]]) if len(row) else row,
        )

    def counts_since(
        self, customers: int, since: datetime, channel: int | None = None
    ) -> np.ndarray:
        """Per customer, the contacts sent at or after ``since`` (on ``channel``, if given)."""
        recent = self.sent_at >= np.datetime64(since)
        if channel is not None:
            recent &= self.channel == channel
        return np.bincount(self.row[recent], minlength=customers)

    def latest(self, keep: np.ndarray | None = None) -> np.ndarray:
        """Per run, the latest send time of its contacts (those ``keep`` marks); NaT if none."""
        ticks = self.sent_at.view(np.int64)
        if keep is not None:
            ticks = np.where(keep, ticks, _NAT)
        return np.maximum.reduceat(ticks, self.starts).view(self.sent_at.dtype)

    def customers(self) -> np.ndarray:
        """Per run, its customer's row."""
        return self.row[self.starts]

    def sizes(self) -> np.ndarray:
        """Per run, its customer's contacts."""
        return np.diff(np.r_[self.starts, len(self.row)])

    def among_latest(self, count: int) -> np.ndarray:
        """Which contacts are among their customer's ``count`` latest."""
        ends = np.repeat(np.r_[self.starts[1:], len(self.row)], self.sizes())
        return ends - np.arange(len(self.row)) <= count


def _backed_off(
    contacts: _Contacts, customers: int, now: datetime, policy: ContactPolicy
) -> np.ndarray:
    """Customers whose last N contacts all went ignored, the latest within the back-off days."""
    out = np.zeros(customers, dtype=bool)
    rule = policy.back_off
    if rule is None or not len(contacts.row):
        return out
    latest = contacts.among_latest(rule.ignored_contacts)
    enough = contacts.sizes() >= rule.ignored_contacts
    engaged = np.logical_or.reduceat(contacts.engaged & latest, contacts.starts)
    recent = contacts.latest(latest) >= np.datetime64(now - timedelta(days=rule.days))
    out[contacts.customers()[enough & ~engaged & recent]] = True
    return out


def available_channels(
    history: pd.DataFrame,
    customers: pd.Index,
    now: datetime,
    channels: ChannelsConfig,
    policy: ContactPolicy,
) -> tuple[np.ndarray, np.ndarray]:
    """(customers, outbound channels) booleans: may be contacted there now; and why not, per customer.

    The reason array holds the first policy rule that closed every channel ('' when some remain).
    Every rule is evaluated at ``now``; ``channel_availability`` lets the minimum gap be
    evaluated at the send instant on channels that optimise send time.
    """
    availability = channel_availability(history, customers, now, channels, policy)
    return availability.open, availability.blocked


@dataclass(frozen=True)
class Availability:
    open: np.ndarray  # (customers, outbound channels) bool: may be contacted there
    blocked: np.ndarray  # per customer, the rule that closed every channel ('' when some remain)
    # (customers, outbound channels) datetime64[us], naive UTC: the earliest instant a contact
    # there may be sent, where the minimum gap holds it past the decision; NaT: no such hold.
    not_before: np.ndarray


# (channel, customer rows, earliest instants) -> whether the channel has a send instant at or
# after each earliest instant and within its send-time horizon (quiet hours permitting).
Reopens = Callable[[str, np.ndarray, np.ndarray], np.ndarray]


def channel_availability(
    history: pd.DataFrame,
    customers: pd.Index,
    now: datetime,
    channels: ChannelsConfig,
    policy: ContactPolicy,
    reopens: Reopens | None = None,
) -> Availability:
    """Which channels each customer may be contacted on, and from when.

    Caps, the global caps and the back-off are evaluated at ``now``. So is the minimum gap,
    except, when ``reopens`` is given, on channels that optimise send time: there a customer
    closed only by the gap (not by a global cap, the back-off or the channel's own caps) is open
    when the gap ends, at the last contact + gap - ``SCHEDULE_SLACK``, in time for a send within
    the channel's horizon (``reopens`` says which do); ``not_before`` holds that instant. A
    contact sent at 21:00 yesterday no longer skips today's 17:00 run: it waits until 20:00.
    """
    now = naive_utc(now)  # the history's timestamps are naive UTC, as in the warehouse
    contacts = _Contacts.of(history[_decided_before(history, now)], customers)
    n = len(customers)
    open_ = np.ones((n, len(OUTBOUND_CHANNELS)), dtype=bool)
    for c, channel in enumerate(OUTBOUND_CHANNELS):
        for cap in channels.outbound(channel).caps:
            since = now - timedelta(days=cap.days) + SCHEDULE_SLACK
            open_[:, c] &= contacts.counts_since(n, since, c) < cap.max
    blocked = np.full(n, "", dtype=object)
    for cap in policy.global_caps:
        since = now - timedelta(days=cap.days) + SCHEDULE_SLACK
        over = contacts.counts_since(n, since) >= cap.max
        blocked[over & (blocked == "")] = f"global cap {cap.max} per {cap.days} days"
    gap = timedelta(hours=policy.min_gap_hours)
    gap_reason = f"minimum gap of {policy.min_gap_hours:g} hours"
    last = np.full(n, np.datetime64("NaT"), dtype="datetime64[us]")
    if policy.min_gap_hours > 0 and len(contacts.row):
        latest = contacts.latest()
        recent = latest >= np.datetime64(now - gap + SCHEDULE_SLACK)
        last[contacts.customers()[recent]] = latest[recent]
        too_soon = ~np.isnat(last)
        blocked[too_soon & (blocked == "")] = gap_reason
    backed_off = _backed_off(contacts, n, now, policy)
    gap_only = (blocked == gap_reason) & ~backed_off if policy.min_gap_hours > 0 else None
    blocked[backed_off & (blocked == "")] = "back-off after ignored contacts"
    capped_open = open_.copy()
    open_ &= (blocked == "")[:, None]
    not_before = np.full(open_.shape, np.datetime64("NaT"), dtype="datetime64[us]")
    if reopens is not None and gap_only is not None and gap_only.any():
        rows = np.flatnonzero(gap_only)
        earliest = last[rows] + np.timedelta64(gap - SCHEDULE_SLACK)
        for c, channel in enumerate(OUTBOUND_CHANNELS):
            if not channels.outbound(channel).optimise_send_time:
                continue
            candidates = rows[capped_open[rows, c]]
            if not len(candidates):
                continue
            when = earliest[capped_open[rows, c]]
            ok = np.asarray(reopens(channel, candidates, when), dtype=bool)
            open_[candidates[ok], c] = True
            not_before[candidates[ok], c] = when[ok]
        blocked[rows[open_[rows].any(axis=1)]] = ""
    return Availability(open_, blocked, not_before)
