"""Send-time optimisation: the weekly profile and its shrinkage worked by hand, the chosen instant
inside the allowed window (a property over random profiles, zones and quiet hours), the
population's hour for a customer with no history, and the plan's words for it."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dagster_project.decisioning.arbitration import DecisionInputs, decide
from dagster_project.decisioning.config import QuietHours, load_marketing_config
from dagster_project.decisioning.contact_history import SCHEDULE_SLACK
from dagster_project.decisioning.send_time import (
    DEFAULT_HORIZON,
    HOURS_PER_WEEK,
    SESSION_WEIGHT,
    Evidence,
    best_send_times,
    empty_engagement,
    pooled,
    population_profile,
    profile_at,
    schedule_contacts,
    shrunk_profiles,
    weekly_counts,
)
from dagster_project.settings import PRODUCTS, REPO_ROOT
from tests.factories import email_customers, optimising_send_times

CONFIG = optimising_send_times(load_marketing_config(REPO_ROOT / "config"))
NEW_YORK = "America/New_York"
MONDAY_NOON_NY = datetime(2026, 3, 2, 17, 0, tzinfo=UTC)  # Monday 12:00 EST
UNIFORM = np.full(HOURS_PER_WEEK, 1 / HOURS_PER_WEEK)


def _engagement(rows: list[tuple[str, str, int, float]]) -> pd.DataFrame:
    if not rows:
        return empty_engagement()
    return pd.DataFrame(rows, columns=["customer_key", "channel", "hour_of_week", "evidence"])


def _local(at: np.datetime64, zone: str) -> datetime:
    return pd.Timestamp(at).tz_localize(UTC).astimezone(ZoneInfo(zone))


def test_counts_add_sessions_at_their_weight_and_ignore_other_channels() -> None:
    engagement = _engagement(
        [
            ("a", "email", 19, 1.0),
            ("a", "email", 19, 0.5),
            ("a", "web", 20, 2.0),
            ("a", "push", 3, 1.0),
            ("b", "email", 167, 1.0),
            ("stranger", "email", 5, 1.0),
        ]
    )
    counts = weekly_counts(engagement, pd.Index(["a", "b"]), "email")
    assert counts[0, 19] == 1.5
    assert counts[0, 20] == pytest.approx(2.0 * SESSION_WEIGHT)
    assert counts[0, 3] == 0  # push evidence says nothing about email here
    assert counts[1, 167] == 1.0
    assert counts.sum() == pytest.approx(1.5 + 2.0 * SESSION_WEIGHT + 1.0)


def test_pooling_and_shrinkage_by_hand() -> None:
    """Two answers on Monday at 19:00. Pooling keeps half at Monday 19:00 and spreads half over
    19:00 of all seven days: Monday 19:00 holds 2 * (1/2 + 1/14) = 8/7, every other 19:00 1/7.
    Then half stays and a quarter goes to each neighbour: Monday 19:00 keeps 4/7, Monday 18:00
    and 20:00 get 2/7. Shrunk to a uniform population with strength 8 (8/168 = 1/21 per hour):
    Monday 19:00 = (4/7 + 1/21) / (2 + 8) = 13/210, an hour without evidence 1/210."""
    counts = np.zeros((1, HOURS_PER_WEEK))
    counts[0, 19] = 2.0
    spread = pooled(counts)[0]
    assert spread.sum() == pytest.approx(2.0)
    assert spread[19] == pytest.approx(4 / 7)
    assert spread[18] == spread[20] == pytest.approx(2 / 7)
    assert spread[24 + 19] == pytest.approx(1 / 14)  # Tuesday 19:00
    assert spread[24 + 20] == pytest.approx(1 / 28)
    assert spread[3] == 0
    profile = shrunk_profiles(counts, UNIFORM, strength=8.0)[0]
    assert profile.sum() == pytest.approx(1.0)
    assert profile[19] == pytest.approx(13 / 210)
    assert profile[3] == pytest.approx(1 / 210)
    # With no evidence the profile is the population's, whatever it is.
    peaked = population_profile(counts)
    assert peaked.argmax() == 19 and peaked.sum() == pytest.approx(1.0)
    nothing = shrunk_profiles(np.zeros((1, HOURS_PER_WEEK)), peaked)[0]
    np.testing.assert_allclose(nothing, peaked)
    np.testing.assert_allclose(population_profile(np.zeros(HOURS_PER_WEEK)), UNIFORM)


def test_the_default_horizon_keeps_contacts_before_the_next_daily_run() -> None:
    assert timedelta(hours=24) - SCHEDULE_SLACK == DEFAULT_HORIZON
    assert CONFIG.policy.send_time_horizon_hours * 3600 == DEFAULT_HORIZON.total_seconds()
    assert all(CONFIG.channels.outbound(c).optimise_send_time for c in ("email", "sms", "push"))


def _peaked_at(hour_of_week: int, height: float = 20.0) -> np.ndarray:
    profile = np.ones(HOURS_PER_WEEK)
    profile[hour_of_week] = height
    return (profile / profile.sum())[None, :]


def test_an_evening_reader_is_sent_at_their_hour_and_a_flat_profile_now() -> None:
    window = QuietHours(start=time(21), end=time(8))
    zones = pd.Series([NEW_YORK, NEW_YORK])
    profiles = np.vstack([_peaked_at(19), _peaked_at(19, height=1.1)])  # Monday 19:00
    times = best_send_times(profiles, zones, MONDAY_NOON_NY, window, NEW_YORK)
    assert times.scheduled_at[0] == np.datetime64("2026-03-03T00:00")  # 19:00 EST
    assert times.optimised.tolist() == [True, False]
    assert times.local_time[0] == "19:00"
    assert times.lift[0] > 1
    # A 10% better hour is not worth the wait.
    assert times.scheduled_at[1] == np.datetime64("2026-03-02T17:00")


def test_a_habit_in_quiet_hours_or_past_the_horizon_is_never_chosen() -> None:
    window = QuietHours(start=time(21), end=time(8))
    late = best_send_times(
        _peaked_at(22), pd.Series([NEW_YORK]), MONDAY_NOON_NY, window, NEW_YORK
    )  # Monday 22:00 is quiet
    local = _local(late.scheduled_at[0], NEW_YORK)
    assert not (local.hour >= 21 or local.hour < 8)
    tomorrow = 24 + 14  # Tuesday 14:00, 26 hours away
    far = best_send_times(
        _peaked_at(tomorrow), pd.Series([NEW_YORK]), MONDAY_NOON_NY, window, NEW_YORK
    )
    assert not far.optimised[0]
    assert far.scheduled_at[0] == np.datetime64("2026-03-02T17:00")
    short = best_send_times(
        _peaked_at(19), pd.Series([NEW_YORK]), MONDAY_NOON_NY, window, NEW_YORK, timedelta(hours=6)
    )
    assert not short.optimised[0]  # 19:00 is seven hours away


def _in_quiet(local: datetime, window: QuietHours) -> bool:
    at = local.time().replace(tzinfo=None)
    if window.start <= window.end:
        return window.start <= at < window.end
    return at >= window.start or at < window.end


zones = st.sampled_from([NEW_YORK, "America/Los_Angeles", "Pacific/Honolulu", "Asia/Kolkata", None])
windows = st.none() | st.builds(
    QuietHours,
    start=st.builds(time, st.integers(0, 23), st.sampled_from([0, 30])),
    end=st.builds(time, st.integers(0, 23)),
)


@settings(max_examples=200, deadline=None)
@given(
    st.integers(0, 60 * 24 * 400),
    st.lists(st.tuples(zones, st.integers(0, HOURS_PER_WEEK - 1), st.floats(1, 50)), min_size=1),
    windows,
    st.floats(0.5, 72),
)
def test_the_chosen_instant_is_allowed_and_within_the_horizon(
    minutes: int, contacts: list, window: QuietHours | None, horizon_hours: float
) -> None:
    """Across daylight-saving changes, half-hour zones and quiet hours that wrap midnight."""
    now = datetime(2026, 1, 1, tzinfo=UTC) + timedelta(minutes=minutes)
    horizon = timedelta(hours=horizon_hours)
    profiles = np.vstack([_peaked_at(h, height) for _, h, height in contacts])
    zone_names = pd.Series([z for z, _, _ in contacts], dtype=object)
    times = best_send_times(profiles, zone_names, now, window, "America/Chicago", horizon)
    allowed_now = pd.Timestamp(now).tz_convert(None)
    for i, (zone, _, _) in enumerate(contacts):
        at = pd.Timestamp(times.scheduled_at[i])
        assert at >= allowed_now
        local = at.tz_localize(UTC).astimezone(ZoneInfo(zone or "America/Chicago"))
        if window is not None and window.start != window.end:
            assert not _in_quiet(local, window)
        if times.optimised[i]:
            assert at <= allowed_now + horizon
            assert local.minute == 0 or zone == "Asia/Kolkata"
            assert times.lift[i] >= 0.25
            assert times.local_time[i] == f"{local:%H:%M}"


def _plan(keys: list[str], engagement: pd.DataFrame, config=CONFIG) -> pd.DataFrame:
    scores = pd.DataFrame(
        [(k, p, 0.3 if p == "mortgage" else 0.01) for k in keys for p in PRODUCTS],
        columns=["customer_key", "subject", "score"],
    )
    empty = pd.DataFrame({"customer_key": [], "channel": [], "sent_at": [], "engaged": []}).astype(
        {"sent_at": "datetime64[us]", "engaged": bool}
    )
    config = config.model_copy(
        update={
            "policy": config.policy.model_copy(
                update={"control_group_share": 0.0, "exploration_share": 0.0}
            )
        }
    )
    plan = decide(
        DecisionInputs(
            email_customers(keys, NEW_YORK, {"mortgage": 5}),
            scores,
            pd.DataFrame(columns=["customer_key", "subject", "score"]),
            empty,
            MONDAY_NOON_NY,
            engagement=engagement,
        ),
        config,
    )
    return plan[plan["action"] == "contact"].set_index("customer_key")


def test_the_plan_says_when_and_why_and_a_newcomer_gets_the_populations_hour() -> None:
    """Readers at Monday 20:00 (a crowd) and one at Monday 15:00; a newcomer with no history is
    sent at the population's best hour, and a switched-off channel sends now."""
    crowd = [(f"r{i}", "email", 20, 1.0) for i in range(30)]
    engagement = _engagement([*crowd, *[("own", "email", 15, 1.0)] * 12])
    contacts = _plan(["own", "newcomer", "r0"], engagement)
    assert contacts.loc["own", "scheduled_at"] == pd.Timestamp("2026-03-02 20:00")  # 15:00 EST
    assert contacts.loc["own", "explanation"] == "sent at 15:00 local, when they usually read email"
    assert contacts.loc["newcomer", "scheduled_at"] == pd.Timestamp("2026-03-03 01:00")
    assert (
        contacts.loc["newcomer", "explanation"]
        == "sent at 20:00 local, when most customers read email"
    )
    assert contacts.loc["r0", "explanation"] == "sent at 20:00 local, when they usually read email"

    off = CONFIG.channels.model_copy(
        update={"email": CONFIG.channels.email.model_copy(update={"optimise_send_time": False})}
    )
    unoptimised = _plan(["own"], engagement, CONFIG.model_copy(update={"channels": off}))
    assert unoptimised.loc["own", "scheduled_at"] == pd.Timestamp("2026-03-02 17:00")
    assert pd.isna(unoptimised.loc["own", "explanation"])


def test_schedule_contacts_flags_customers_without_evidence() -> None:
    engagement = _engagement([("a", "email", 20, 3.0), ("b", "web", 20, 3.0)])
    keys = pd.Index(["z", "a", "b", "c"])  # z is not contacted
    times, from_population = schedule_contacts(
        Evidence.of(engagement, keys),
        np.array([1, 2, 3]),
        len(keys),
        "email",
        pd.Series([NEW_YORK] * 3),
        MONDAY_NOON_NY,
        None,
        NEW_YORK,
    )
    assert from_population.tolist() == [False, False, True]  # b's sessions are evidence
    assert len(times.scheduled_at) == 3


def test_scoring_a_few_hours_agrees_with_the_whole_profile() -> None:
    rng = np.random.default_rng(3)
    counts = rng.poisson(0.3, (40, HOURS_PER_WEEK)).astype(float)
    population = population_profile(rng.random(HOURS_PER_WEEK))
    hours = np.array([0, 1, 23, 24, 100, 166, 167])
    np.testing.assert_allclose(
        profile_at(counts, population, hours), shrunk_profiles(counts, population)[:, hours]
    )
