"""The minimum gap at the send instant: on a channel that optimises send time, a customer whose
gap since the last contact ends within the horizon is contactable today, no earlier than the gap
allows; a gap ending past the horizon still blocks; channels without send-time optimisation keep
the gap at the decision instant. A property over random histories, zones, quiet hours and
profiles: no chosen instant is inside the gap, in quiet hours or past the horizon."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from dagster_project.decisioning.arbitration import DecisionInputs, decide
from dagster_project.decisioning.config import MarketingConfig, QuietHours, load_marketing_config
from dagster_project.decisioning.contact_history import (
    SCHEDULE_SLACK,
    Reopens,
    available_channels,
    channel_availability,
)
from dagster_project.decisioning.send_time import (
    HOURS_PER_WEEK,
    best_send_times,
    earliest_allowed,
    reopens_in_time,
)
from dagster_project.settings import OUTBOUND_CHANNELS, PRODUCTS, REPO_ROOT
from tests.factories import email_customers, optimising_send_times

CONFIG = optimising_send_times(load_marketing_config(REPO_ROOT / "config"))
NOW = datetime(2026, 3, 3, 17, 0, tzinfo=UTC)  # the daily run
HORIZON = timedelta(hours=CONFIG.policy.send_time_horizon_hours)
EMAIL = OUTBOUND_CHANNELS.index("email")


def _history(rows: list[tuple[str, str, datetime]]) -> pd.DataFrame:
    return pd.DataFrame(
        [(k, c, at, True) for k, c, at in rows],
        columns=["customer_key", "channel", "sent_at", "engaged"],
    ).astype({"sent_at": "datetime64[us]"})


def _reopens(zone: str, config: MarketingConfig = CONFIG) -> Reopens:
    def reopens(channel: str, rows: np.ndarray, earliest: np.ndarray) -> np.ndarray:
        return reopens_in_time(
            earliest,
            np.full(len(rows), zone, dtype=object),
            NOW,
            config.channels.outbound(channel).quiet_hours,
            config.policy.default_time_zone,
            timedelta(hours=config.policy.send_time_horizon_hours),
        )

    return reopens


def _plan(
    customers: pd.DataFrame, history: pd.DataFrame, config: MarketingConfig = CONFIG
) -> pd.DataFrame:
    keys = customers["customer_key"].tolist()
    scores = pd.DataFrame(
        [(k, p, 0.5 if p == "savings" else 0.0) for k in keys for p in PRODUCTS],
        columns=["customer_key", "subject", "score"],
    )
    channel_scores = pd.DataFrame(
        [(k, "email", 0.9) for k in keys], columns=["customer_key", "subject", "score"]
    )
    policy = config.policy.model_copy(
        update={"control_group_share": 0.0, "exploration_share": 0.0, "min_priority": 0.0}
    )
    config = config.model_copy(update={"policy": policy})
    return decide(DecisionInputs(customers, scores, channel_scores, history, NOW), config)


def test_contacted_yesterday_at_21_is_contactable_at_todays_17_run_after_the_gap() -> None:
    assert CONFIG.policy.min_gap_hours == 24
    assert CONFIG.channels.email.optimise_send_time
    last = datetime(2026, 3, 2, 21, 0)  # yesterday 21:00 UTC, sent at the customer's best hour
    history = _history([("ck_evening", "email", last)])
    keys = pd.Index(["ck_evening"])
    # At the decision instant the gap still runs (today's behaviour of available_channels) ...
    open_, blocked = available_channels(history, keys, NOW, CONFIG.channels, CONFIG.policy)
    assert not open_[0].any() and blocked[0] == "minimum gap of 24 hours"
    # ... at the send instant it does not: email is open from 21:00 - slack.
    availability = channel_availability(
        history, keys, NOW, CONFIG.channels, CONFIG.policy, _reopens("UTC")
    )
    assert availability.open[0, EMAIL] and availability.blocked[0] == ""
    earliest = np.datetime64(last + timedelta(hours=24) - SCHEDULE_SLACK, "us")
    assert availability.not_before[0, EMAIL] == earliest
    # The plan contacts them, no earlier than the gap allows, and says why in words.
    plan = _plan(email_customers(["ck_evening"]), history)
    contact = plan[plan["action"] == "contact"]
    assert len(contact) == 1 and contact["channel"].iloc[0] == "email"
    scheduled = contact["scheduled_at"].iloc[0].to_pydatetime()
    assert scheduled >= last + timedelta(hours=24) - SCHEDULE_SLACK
    assert scheduled <= NOW.replace(tzinfo=None) + HORIZON
    assert "minimum gap of 24 hours since the last contact" in contact["explanation"].iloc[0]
    assert contact["explanation"].iloc[0].startswith("sent at 20:00 local")


def test_contacted_two_hours_ago_stays_blocked_when_the_gap_ends_past_the_horizon() -> None:
    # A 48 h gap: a contact two hours ago reopens 45 h from now, past the 23 h horizon.
    policy = CONFIG.policy.model_copy(update={"min_gap_hours": 48})
    config = CONFIG.model_copy(update={"policy": policy})
    history = _history([("ck_recent", "email", datetime(2026, 3, 3, 15, 0))])
    keys = pd.Index(["ck_recent"])
    availability = channel_availability(
        history, keys, NOW, config.channels, config.policy, _reopens("UTC", config)
    )
    assert not availability.open[0].any()
    assert availability.blocked[0] == "minimum gap of 48 hours"
    assert np.isnat(availability.not_before[0]).all()
    plan = _plan(email_customers(["ck_recent"]), history, config)
    assert "contact" not in set(plan["action"])


def test_a_gap_ending_in_quiet_hours_past_the_horizon_stays_blocked() -> None:
    # The default 24 h gap after a contact at 16:30 ends at 15:30 tomorrow; a horizon of 22 h
    # ends at 15:00 tomorrow: blocked. In a zone where 15:30 UTC tomorrow is quiet (Tokyo,
    # 00:30 local), even a 23 h horizon has no allowed instant after the gap.
    history = _history([("ck_a", "email", datetime(2026, 3, 3, 16, 30))])
    keys = pd.Index(["ck_a"])
    for zone, hours in (("UTC", 22), ("Asia/Tokyo", 23)):
        policy = CONFIG.policy.model_copy(update={"send_time_horizon_hours": hours})
        config = CONFIG.model_copy(update={"policy": policy})
        availability = channel_availability(
            history, keys, NOW, config.channels, config.policy, _reopens(zone, config)
        )
        assert not availability.open[0].any(), zone
    # With 23 h in UTC it reopens at 15:30 tomorrow (within the horizon, outside quiet hours).
    availability = channel_availability(
        history, keys, NOW, CONFIG.channels, CONFIG.policy, _reopens("UTC")
    )
    assert availability.open[0, EMAIL]


def test_channels_without_send_time_optimisation_keep_the_gap_at_the_decision() -> None:
    channels = CONFIG.channels.model_copy(
        update={
            c: CONFIG.channels.outbound(c).model_copy(update={"optimise_send_time": False})
            for c in OUTBOUND_CHANNELS
        }
    )
    config = CONFIG.model_copy(update={"channels": channels})
    history = _history([("ck_evening", "email", datetime(2026, 3, 2, 21, 0))])
    keys = pd.Index(["ck_evening"])
    availability = channel_availability(
        history, keys, NOW, config.channels, config.policy, _reopens("UTC", config)
    )
    before = available_channels(history, keys, NOW, config.channels, config.policy)
    assert (availability.open == before[0]).all() and (availability.blocked == before[1]).all()
    assert not availability.open[0].any()
    plan = _plan(email_customers(["ck_evening"]), history, config)
    assert "contact" not in set(plan["action"])


def test_earliest_allowed_is_the_instant_or_the_end_of_its_quiet_hours() -> None:
    window = QuietHours(start=time(21), end=time(8))
    instants = np.array(
        ["2026-03-03T20:00", "2026-03-03T22:15", "2026-03-04T03:00"], dtype="datetime64[us]"
    )
    got = earliest_allowed(instants, np.full(3, "UTC", dtype=object), window, "UTC")
    assert got.tolist() == [
        datetime(2026, 3, 3, 20),
        datetime(2026, 3, 4, 8),
        datetime(2026, 3, 4, 8),
    ]
    # New York, across the spring-forward night (8 March 2026): 08:00 EDT is 12:00 UTC.
    at = np.array(["2026-03-08T05:00"], dtype="datetime64[us]")  # 00:00 EST
    got = earliest_allowed(at, np.array(["America/New_York"], dtype=object), window, "UTC")
    assert got[0] == np.datetime64("2026-03-08T12:00", "us")


ZONES = ["UTC", "America/New_York", "America/Los_Angeles", "Asia/Tokyo", "Pacific/Honolulu"]


def _quiet(at: datetime, zone: str, window: QuietHours) -> bool:
    local = at.replace(tzinfo=UTC).astimezone(ZoneInfo(zone)).time()
    if window.start <= window.end:
        return window.start <= local < window.end
    return local >= window.start or local < window.end


@settings(max_examples=100, deadline=None)
@given(
    n=st.integers(1, 12),
    seed=st.integers(0, 2**31),
    gap=st.sampled_from([6, 24, 36]),
    horizon=st.sampled_from([6, 12, 23]),
    start=st.integers(0, 23),
    end=st.integers(0, 23),
    minute=st.integers(0, 60 * 24 * 7),
)
def test_a_held_send_is_after_the_gap_outside_quiet_hours_within_the_horizon(
    n: int, seed: int, gap: int, horizon: int, start: int, end: int, minute: int
) -> None:
    rng = np.random.default_rng(seed)
    now = datetime(2026, 3, 1, tzinfo=UTC) + timedelta(minutes=minute)
    naive_now = now.replace(tzinfo=None)
    window = QuietHours(start=time(start), end=time(end))
    zones = pd.Series(rng.choice(ZONES, n))
    last = [naive_now - timedelta(minutes=int(m)) for m in rng.integers(1, gap * 60, n)]
    earliest = np.array(
        [t + timedelta(hours=gap) - SCHEDULE_SLACK for t in last], dtype="datetime64[us]"
    )
    ok = reopens_in_time(earliest, zones, now, window, "UTC", timedelta(hours=horizon))
    if not ok.any():
        return
    rows = np.flatnonzero(ok)
    profiles = rng.dirichlet(np.ones(HOURS_PER_WEEK), len(rows))
    times = best_send_times(
        profiles,
        zones.iloc[rows].reset_index(drop=True),
        now,
        window,
        "UTC",
        timedelta(hours=horizon),
        not_before=earliest[rows],
    )
    for i, r in enumerate(rows):
        at = times.scheduled_at[i].astype(datetime)
        assert at >= earliest[r].astype(datetime)
        assert at <= naive_now + timedelta(hours=horizon)
        if start != end:
            assert not _quiet(at, zones.iloc[r], window)
        local = at.replace(tzinfo=UTC).astimezone(ZoneInfo(zones.iloc[r]))
        assert times.local_time[i] == f"{local:%H:%M}"


def test_a_contact_decided_yesterday_and_waiting_for_today_counts_against_todays_run() -> None:
    # Decided at yesterday's late run, scheduled for today's 17:00, not sent yet: the 17:00 run
    # must see it, or the customer gets two emails at the same instant.
    yesterday = datetime(2026, 3, 2, 23, 59)
    waiting = pd.DataFrame(
        {
            "customer_key": ["ck_waiting", "ck_same_run"],
            "channel": ["email", "email"],
            "sent_at": [NOW.replace(tzinfo=None), NOW.replace(tzinfo=None) + timedelta(hours=2)],
            "engaged": [False, False],
            "delivered": [False, False],
            # the second was decided by this very run: deciding it again must not count it
            "decided_at": [yesterday, NOW.replace(tzinfo=None)],
        }
    ).astype({"sent_at": "datetime64[us]", "decided_at": "datetime64[us]"})
    keys = pd.Index(["ck_waiting", "ck_same_run"])
    availability = channel_availability(
        waiting, keys, NOW, CONFIG.channels, CONFIG.policy, _reopens("UTC")
    )
    # counted: the next email may go out no earlier than the gap after the waiting one
    earliest = np.datetime64(NOW.replace(tzinfo=None) + timedelta(hours=24) - SCHEDULE_SLACK)
    assert availability.not_before[0, EMAIL] == earliest
    without = channel_availability(
        waiting.assign(decided_at=pd.NaT, sent_at=waiting["sent_at"] + timedelta(days=1)),
        keys,
        NOW,
        CONFIG.channels,
        CONFIG.policy,
        _reopens("UTC"),
    )
    assert without.open[0, EMAIL] and np.isnat(without.not_before[0, EMAIL])
    # not counted: this run's own plan
    assert availability.open[1, EMAIL] and np.isnat(availability.not_before[1, EMAIL])
