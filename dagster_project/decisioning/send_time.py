"""Send-time optimisation: each customer's best hour per channel, used inside the allowed window.

**The evidence** (``engagement``, loaded by ``inputs.ENGAGEMENT_SQL``): per customer, channel and
hour of the week in the customer's *local* time (0 = Monday 00:00-00:59), a weight of evidence
that they engage then. Two kinds:

- *answers*: the first open or click of each message on that channel, counted by the hour it
  **happened**, not the hour it was sent, and weighted by how long after the send it came,
  ``1 - exp(-delay / READ_DELAY_SCALE_HOURS)``. The send time confounds the open time: messages
  are opened mostly just after they arrive (and privacy proxies fetch every message within
  seconds), so an open minutes after a send says when the bank sent, not when the person reads;
  an open hours later says the person chose that hour. An answer with no send on record counts
  fully.
- *sessions* (channel ``web``): each local hour in which the customer was on the site or the app,
  once per hour, worth ``SESSION_WEIGHT`` of an answer on every outbound channel: self-initiated
  activity says when they look at a screen, with no send to confound it, but it is not reading
  the bank's messages.

**The profile** of a customer on a channel is a distribution over the 168 hours of the week:
their evidence, pooled (``SAME_HOUR_POOLING`` of each piece spread evenly over the same hour on
the other days of the week, since a reading habit is mostly a daily one, and ``NEIGHBOUR_SHARE``
to each adjacent hour, since a habit at 19:00 shows at 18:50 and at 19:10), then shrunk towards
the population's profile of that channel (everyone's evidence, pooled the same way) with the
weight of ``PROFILE_STRENGTH`` pieces of evidence, Dirichlet style: ``(counts + a * population) /
(total + a)``. No history: the population's profile.

**The send instant** of a contact: the candidates are the first instant the channel's quiet hours
allow (``now`` unless it is quiet hours) and the top of every later local hour up to
``now + horizon``, never inside quiet hours; the profile at each candidate's hour of the week
scores it, and the best wins only if it beats the first candidate by ``min_lift`` (relative),
else the contact goes out as soon as it may. Everything is arrays: per time zone (a handful) the
candidates are the same for all its customers, so a contact costs one row of a matrix.

**The minimum gap at the send instant**: a customer contacted yesterday at 21:00 is inside a 24 h
gap at today's 17:00 run, yet not at 20:00. On these channels the gap is evaluated when the
contact goes out (``contact_history.channel_availability``): a customer closed only by it is open
when the gap ends (last contact + gap - ``SCHEDULE_SLACK``) in time for a send, outside quiet
hours, within the horizon (``reopens_in_time``). Their first allowed instant is then that one (or
the end of the quiet hours it falls in), the later candidates are those after it, and the decision
row says the gap held the contact (``explain_gap``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

from ..settings import OUTBOUND_CHANNELS
from ..warehouse import naive_utc
from .config import QuietHours
from .contact_history import SCHEDULE_SLACK
from .quiet_hours import _in_window, next_send_time

HOURS_PER_WEEK = 168
# Pieces of evidence the population's profile is worth in a customer's: a customer's best hour
# needs a few answers at it before it beats the population's (one open is a coincidence, a
# handful a habit), yet a regular reader's own hours win within a few weeks.
PROFILE_STRENGTH = 8.0
# Share of each piece spread over the same local hour on every day of the week: most reading
# habits are daily (the evening commute), and a weekly profile of a few dozen answers would
# otherwise be empty at most hours.
SAME_HOUR_POOLING = 0.5
NEIGHBOUR_SHARE = 0.25  # of each piece, to each adjacent hour (habits do not keep the clock)
# An answer this long after its send is about two-thirds its own evidence (see the docstring).
READ_DELAY_SCALE_HOURS = 1.0
SESSION_WEIGHT = 0.3  # an hour on the site or app, against one answer to a message
SESSIONS = "web"  # the engagement rows' channel for site and app sessions
EVIDENCE_CHANNELS = (*OUTBOUND_CHANNELS, SESSIONS)
ENGAGEMENT_LOOKBACK_DAYS = 56  # recent habits; eight weeks give every hour of the week 8 chances
# The platform decides daily, 24 h apart: a contact must go out before the next run sees the
# history, and caps and the minimum gap look back their nominal length minus the slack.
DEFAULT_HORIZON = timedelta(hours=24) - SCHEDULE_SLACK
# A later hour must score this much better than sending as soon as allowed to be worth waiting.
MIN_LIFT = 0.25

ENGAGEMENT_COLUMNS = {
    "customer_key": "object",
    "channel": "object",
    "hour_of_week": "int64",
    "evidence": "float64",
}

# What an explanation says the customer does at their best hour, per channel.
HABITS = {"email": "read email", "sms": "read texts", "push": "look at app notifications"}


def empty_engagement() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=t) for c, t in ENGAGEMENT_COLUMNS.items()})


def hour_of_week(local: datetime) -> int:
    """0 for Monday 00:00-00:59 local, 167 for Sunday 23:00-23:59."""
    return local.weekday() * 24 + local.hour


@dataclass(frozen=True)
class Evidence:
    """The engagement rows as arrays over one run's customers, grouped by channel: a million
    customers' evidence is looked up by key once, then every channel's profiles are a few
    bincounts over its own rows and the session rows."""

    row: np.ndarray  # the customer's row in the run's keys, -1 for someone not in it
    hour: np.ndarray  # local hour of the week, 0..167
    weight: np.ndarray
    bounds: np.ndarray  # rows of EVIDENCE_CHANNELS[c] are bounds[c]:bounds[c + 1]

    @classmethod
    def of(cls, engagement: pd.DataFrame, keys: pd.Index) -> Evidence:
        channel = pd.Index(EVIDENCE_CHANNELS).get_indexer(engagement["channel"])
        order = np.argsort(channel, kind="stable")
        channel = channel[order]
        known = channel >= 0
        order = order[known]
        return cls(
            row=keys.get_indexer(engagement["customer_key"].to_numpy()[order]),
            hour=engagement["hour_of_week"].to_numpy(dtype=np.int64)[order] % HOURS_PER_WEEK,
            weight=engagement["evidence"].to_numpy(dtype=float)[order],
            bounds=np.searchsorted(channel[known], np.arange(len(EVIDENCE_CHANNELS) + 1)),
        )

    def _parts(self, channel: str) -> list[tuple[slice, float]]:
        """The rows that count for ``channel``: its own answers in full, sessions at their weight."""
        out = []
        for name, scale in ((channel, 1.0), (SESSIONS, SESSION_WEIGHT)):
            c = EVIDENCE_CHANNELS.index(name)
            out.append((slice(self.bounds[c], self.bounds[c + 1]), scale))
        return out

    def population(self, channel: str) -> np.ndarray:
        """(168,) everyone's evidence for ``channel``."""
        total = np.zeros(HOURS_PER_WEEK)
        for part, scale in self._parts(channel):
            total += scale * np.bincount(
                self.hour[part], weights=self.weight[part], minlength=HOURS_PER_WEEK
            )
        return total

    def counts(self, rows: np.ndarray, channel: str, customers: int) -> np.ndarray:
        """(len(rows), 168) evidence for ``channel`` of the customers at ``rows`` (distinct) of
        the ``customers`` the keys held."""
        position = np.full(customers + 1, -1, dtype=np.int64)  # the last slot: row -1
        position[rows] = np.arange(len(rows))
        flat = np.zeros(len(rows) * HOURS_PER_WEEK)
        for part, scale in self._parts(channel):
            where = position[self.row[part]]
            keep = where >= 0
            flat += scale * np.bincount(
                where[keep] * HOURS_PER_WEEK + self.hour[part][keep],
                weights=self.weight[part][keep],
                minlength=len(rows) * HOURS_PER_WEEK,
            )
        return flat.reshape(len(rows), HOURS_PER_WEEK)


def weekly_counts(engagement: pd.DataFrame, keys: pd.Index, channel: str) -> np.ndarray:
    """(customers, 168) evidence on ``channel`` plus ``SESSION_WEIGHT`` x their session hours."""
    return Evidence.of(engagement, keys).counts(np.arange(len(keys)), channel, len(keys))


def pooled(counts: np.ndarray) -> np.ndarray:
    """The evidence spread over the same hour on other days and the adjacent hours (the total
    is kept)."""
    days = counts.reshape(-1, 7, 24)
    daily = np.broadcast_to(days.mean(axis=1, keepdims=True), days.shape).reshape(counts.shape)
    spread = (1 - SAME_HOUR_POOLING) * counts + SAME_HOUR_POOLING * daily
    return (1 - 2 * NEIGHBOUR_SHARE) * spread + NEIGHBOUR_SHARE * (
        np.roll(spread, 1, axis=-1) + np.roll(spread, -1, axis=-1)
    )


def population_counts(engagement: pd.DataFrame, channel: str) -> np.ndarray:
    """(168,) everyone's evidence on ``channel`` (with sessions), as ``weekly_counts`` sums it."""
    return Evidence.of(engagement, pd.Index([])).population(channel)


def population_profile(counts: np.ndarray) -> np.ndarray:
    """(168,) the pooled evidence of (customers, 168) or (168,) counts as a distribution;
    uniform when there is none."""
    total = pooled(np.atleast_2d(counts).sum(axis=0, keepdims=True))[0]
    if total.sum() <= 0:
        return np.full(HOURS_PER_WEEK, 1.0 / HOURS_PER_WEEK)
    return total / total.sum()


def shrunk_profiles(
    counts: np.ndarray, population: np.ndarray, strength: float = PROFILE_STRENGTH
) -> np.ndarray:
    """(customers, 168) distributions: (pooled counts + strength x population) over (their
    total + strength)."""
    evidence = pooled(counts)
    total = evidence.sum(axis=1, keepdims=True)
    return (evidence + strength * population[None, :]) / (total + strength)


def profile_at(
    counts: np.ndarray,
    population: np.ndarray,
    hours: np.ndarray,
    strength: float = PROFILE_STRENGTH,
) -> np.ndarray:
    """``shrunk_profiles(counts, population)[:, hours]`` without the other hours: scoring a few
    candidate hours of many contacts touches only their columns and the daily means."""
    daily = counts.reshape(-1, 7, 24).mean(axis=1)
    total = counts.sum(axis=1, keepdims=True)

    def spread(h: np.ndarray) -> np.ndarray:
        return (1 - SAME_HOUR_POOLING) * counts[:, h] + SAME_HOUR_POOLING * daily[:, h % 24]

    evidence = (1 - 2 * NEIGHBOUR_SHARE) * spread(hours) + NEIGHBOUR_SHARE * (
        spread((hours - 1) % HOURS_PER_WEEK) + spread((hours + 1) % HOURS_PER_WEEK)
    )
    return (evidence + strength * population[hours][None, :]) / (total + strength)


@dataclass(frozen=True)
class SendTimes:
    scheduled_at: np.ndarray  # datetime64[us], naive UTC, per contact
    optimised: np.ndarray  # bool: moved to a better hour than the first one allowed
    local_time: np.ndarray  # "HH:MM" local of the chosen instant
    lift: np.ndarray  # the chosen instant's score over the first allowed one's, minus 1
    # bool: the first allowed instant is later than quiet hours alone allow, because the
    # contact's ``not_before`` (the minimum gap since the last contact) held it
    held: np.ndarray


def _candidates(
    now: datetime, zone: str, window: QuietHours | None, horizon: timedelta
) -> list[datetime]:
    """UTC instants: the first allowed, then each later top of a local hour up to the horizon
    outside quiet hours."""
    tz = ZoneInfo(zone)
    first = next_send_time(now, zone, window)
    local_now = now.astimezone(tz)
    top = local_now.replace(minute=0, second=0, microsecond=0)
    out = [first]
    k = 1
    while True:
        # Local tops of the hour stepped in UTC, so a daylight-saving change skips or repeats
        # no real instant.
        at = (top.astimezone(UTC) + timedelta(hours=k)).astimezone(now.tzinfo)
        k += 1
        if at > now + horizon:
            return out
        if at <= first:
            continue
        local = at.astimezone(tz)
        if window is not None and _in_window(local.time(), window):
            continue
        out.append(at)


_CLOCK = np.array([f"{m // 60:02d}:{m % 60:02d}" for m in range(24 * 60)], dtype=object)


def _seconds(t: time) -> float:
    return t.hour * 3600 + t.minute * 60 + t.second + t.microsecond / 1e6


def _local(instants: np.ndarray, zone: str) -> pd.DatetimeIndex:
    return pd.DatetimeIndex(instants).tz_localize("UTC").tz_convert(zone)


def earliest_allowed(
    instants: np.ndarray,
    time_zones: pd.Series | np.ndarray,
    window: QuietHours | None,
    default_zone: str,
) -> np.ndarray:
    """Per instant (datetime64, naive UTC), itself if it is outside quiet hours in the
    customer's zone, else the end of those quiet hours: ``next_send_time`` over arrays, one
    vectorised conversion per distinct zone."""
    instants = np.asarray(instants, dtype="datetime64[us]")
    out = instants.copy()
    if window is None or not len(instants):
        return out
    zones = pd.Series(np.asarray(time_zones, dtype=object)).fillna(default_zone).to_numpy()
    start, end = _seconds(window.start), _seconds(window.end)
    for zone in pd.unique(zones):
        rows = np.flatnonzero(zones == zone)
        local = _local(instants[rows], zone)
        wall = local.tz_localize(None)
        seconds = (wall - wall.normalize()).total_seconds().to_numpy()
        if start <= end:
            quiet = (seconds >= start) & (seconds < end)
        else:  # wraps midnight
            quiet = (seconds >= start) | (seconds < end)
        if not quiet.any():
            continue
        ends = wall.normalize() + pd.Timedelta(seconds=end)
        ends = ends.where(ends > wall, ends + pd.Timedelta(days=1))
        ends = ends[quiet].tz_localize(
            zone, ambiguous=np.ones(int(quiet.sum()), dtype=bool), nonexistent="shift_forward"
        )
        out[rows[quiet]] = ends.tz_convert("UTC").tz_localize(None).to_numpy("datetime64[us]")
    return out


def reopens_in_time(
    not_before: np.ndarray,
    time_zones: pd.Series | np.ndarray,
    now: datetime,
    window: QuietHours | None,
    default_zone: str,
    horizon: timedelta = DEFAULT_HORIZON,
) -> np.ndarray:
    """Per earliest instant: whether a send at or after it (and not before now), outside quiet
    hours, still falls within ``now + horizon``."""
    now = naive_utc(now)
    at_now = np.datetime64(now, "us")
    instants = np.asarray(not_before, dtype="datetime64[us]")
    # A gap that ended in the past opens now, which may itself be in quiet hours.
    instants = np.where(np.isnat(instants) | (instants < at_now), at_now, instants)
    first = earliest_allowed(instants, time_zones, window, default_zone)
    return first <= np.datetime64(now + horizon, "us")


def best_send_times(
    profiles: np.ndarray | Callable[[np.ndarray, np.ndarray], np.ndarray],
    time_zones: pd.Series,
    now: datetime,
    window: QuietHours | None,
    default_zone: str,
    horizon: timedelta = DEFAULT_HORIZON,
    min_lift: float = MIN_LIFT,
    not_before: np.ndarray | None = None,
) -> SendTimes:
    """Per contact, the instant to send (see the module docstring). ``profiles``: a row per
    contact, or a function of (contact rows, hours of the week) giving their profile there.
    ``not_before`` (datetime64, naive UTC; NaT: none): per contact, the earliest instant it may
    go out (the minimum gap since the last contact); its first allowed instant is then that one,
    or the end of quiet hours it falls in, and the later candidates are those after it."""
    if now.tzinfo is None:
        now = now.replace(tzinfo=UTC)
    n = len(time_zones)
    if isinstance(profiles, np.ndarray):
        matrix = profiles

        def score(rows: np.ndarray, hours: np.ndarray) -> np.ndarray:
            return matrix[rows][:, hours]
    else:
        score = profiles
    zones = time_zones.fillna(default_zone).to_numpy(dtype=object)
    if not_before is None:
        not_before = np.full(n, np.datetime64("NaT"), dtype="datetime64[us]")
    not_before = np.asarray(not_before, dtype="datetime64[us]")
    scheduled = np.empty(n, dtype="datetime64[us]")
    optimised = np.zeros(n, dtype=bool)
    held = np.zeros(n, dtype=bool)
    local_time = np.empty(n, dtype=object)
    lift = np.zeros(n)
    for zone in pd.unique(zones):
        rows = np.flatnonzero(zones == zone)
        candidates = _candidates(now, zone, window, horizon)
        tz = ZoneInfo(zone)
        locals_ = [c.astimezone(tz) for c in candidates]
        hours = np.array([hour_of_week(t) for t in locals_])
        instants = np.array(
            [c.astimezone(UTC).replace(tzinfo=None) for c in candidates], dtype="datetime64[us]"
        )
        labels = np.array([f"{t:%H:%M}" for t in locals_], dtype=object)
        scores = np.array(score(rows, hours), dtype=float)
        first = np.full(len(rows), instants[0])
        first_label = np.full(len(rows), labels[0], dtype=object)
        limit = np.datetime64(now.astimezone(UTC).replace(tzinfo=None) + horizon, "us")
        wait = not_before[rows]
        pushed = ~np.isnat(wait) & (wait > instants[0])
        if pushed.any():
            # Held by the gap: the first allowed instant is the contact's own; the zone's
            # candidates before it are out of reach.
            p = np.flatnonzero(pushed)
            own = earliest_allowed(wait[p], np.full(len(p), zone, dtype=object), window, zone)
            local = _local(own, zone)
            own_hours = (local.dayofweek * 24 + local.hour).to_numpy(dtype=np.int64)
            unique, inverse = np.unique(own_hours, return_inverse=True)
            scores[p, 0] = np.array(score(rows[p], unique), dtype=float)[np.arange(len(p)), inverse]
            first[p] = own
            first_label[p] = _CLOCK[(local.hour * 60 + local.minute).to_numpy()]
            reachable = (instants[None, 1:] > own[:, None]) & (instants[None, 1:] <= limit)
            scores[p, 1:] = np.where(reachable, scores[p, 1:], -np.inf)
        best = scores.argmax(axis=1)
        gain = scores[np.arange(len(rows)), best] / np.maximum(scores[:, 0], 1e-300) - 1
        chosen = np.where(gain >= min_lift, best, 0)
        scheduled[rows] = np.where(chosen > 0, instants[chosen], first)
        optimised[rows] = chosen > 0
        held[rows] = pushed
        local_time[rows] = np.where(chosen > 0, labels[chosen], first_label)
        lift[rows] = np.where(chosen > 0, gain, 0.0)
    return SendTimes(scheduled, optimised, local_time, lift, held)


def schedule_contacts(
    evidence: Evidence,
    rows: np.ndarray,
    customers: int,
    channel: str,
    time_zones: pd.Series,
    now: datetime,
    window: QuietHours | None,
    default_zone: str,
    horizon: timedelta = DEFAULT_HORIZON,
    not_before: np.ndarray | None = None,
) -> tuple[SendTimes, np.ndarray]:
    """The send instants of contacts on ``channel`` to the customers at ``rows`` (of the
    ``customers`` the evidence was built over; one contact each), and which of them had no
    evidence of their own (their profile is the population's). ``not_before``: per contact, the
    earliest instant it may go out (``best_send_times``)."""
    population = population_profile(evidence.population(channel))
    counts = evidence.counts(rows, channel, customers)

    def score(contacts: np.ndarray, hours: np.ndarray) -> np.ndarray:
        return profile_at(counts[contacts], population, hours)

    times = best_send_times(
        score, time_zones, now, window, default_zone, horizon, not_before=not_before
    )
    return times, counts.sum(axis=1) <= 0


def explain(channel: str, local_time: str, from_population: bool) -> str:
    """The decision row's words for a contact moved to its best hour."""
    habit = HABITS.get(channel, f"answer {channel}")
    who = "most customers" if from_population else "they usually"
    return f"sent at {local_time} local, when {who} {habit}"


def explain_gap(min_gap_hours: float, local_time: str, best_hour: str | None = None) -> str:
    """The decision row's words for a contact the minimum gap held past the decision: at the
    gap's end (``local_time``), or at its best hour after it (``best_hour``: ``explain``'s
    words)."""
    gap = f"the minimum gap of {min_gap_hours:g} hours since the last contact"
    if best_hour is None:
        return f"sent at {local_time} local, once {gap} has passed"
    return f"{best_hour}, after {gap}"
