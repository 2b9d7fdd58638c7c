"""Arbitration as properties over random policies and histories: no planned contact ever breaks
consent, suppression, a cap, the minimum gap, the back-off, quiet hours or the control group."""

from __future__ import annotations

import json
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dagster_project.decisioning.arbitration import DecisionInputs, control_group, decide
from dagster_project.decisioning.config import (
    OUTBOUND_CHANNELS,
    BackOff,
    ChannelsConfig,
    ContactPolicy,
    MarketingConfig,
    OutboundChannel,
    QuietHours,
    RollingCap,
    load_marketing_config,
)
from dagster_project.decisioning.contact_history import SCHEDULE_SLACK, available_channels
from dagster_project.decisioning.eligibility import eligible
from dagster_project.decisioning.quiet_hours import next_send_time
from dagster_project.settings import PRODUCTS, REPO_ROOT

ZONES = ["America/New_York", "America/Los_Angeles", "Pacific/Honolulu", None]
DEFAULT_ZONE = "America/Chicago"
BASE = load_marketing_config(REPO_ROOT / "config")

caps = st.lists(st.builds(RollingCap, max=st.integers(0, 3), days=st.integers(1, 30)), max_size=2)
quiet = st.none() | st.builds(
    QuietHours, start=st.builds(time, st.integers(0, 23)), end=st.builds(time, st.integers(0, 23))
)
outbound = st.builds(
    OutboundChannel,
    adapter=st.just("local_sink"),
    caps=caps,
    quiet_hours=quiet,
    prior_response=st.floats(0.01, 1.0),
    optimise_send_time=st.booleans(),
)
policies = st.builds(
    ContactPolicy,
    global_caps=caps,
    min_gap_hours=st.sampled_from([0, 6, 24, 72]),
    back_off=st.none()
    | st.builds(BackOff, ignored_contacts=st.integers(1, 3), days=st.integers(1, 30)),
    control_group_share=st.floats(0, 0.5),
    min_priority=st.floats(0, 5),
    exploration_share=st.sampled_from([0.0, 0.2]),
    min_share_of_capped_best=st.sampled_from([0.0, 0.5]),
    default_time_zone=st.just(DEFAULT_ZONE),
    send_time_horizon_hours=st.sampled_from([6.0, 23.0]),
)


@st.composite
def worlds(draw: st.DrawFn) -> tuple[DecisionInputs, MarketingConfig]:
    n = draw(st.integers(1, 25))
    keys = [f"ck_{i:04d}" for i in range(n)]
    flag = st.lists(st.booleans(), min_size=n, max_size=n)
    count = st.lists(st.integers(0, 3), min_size=n, max_size=n)
    customers = pd.DataFrame(
        {
            "customer_key": keys,
            "do_not_contact": draw(flag),
            **{f"can_{c}": draw(flag) for c in OUTBOUND_CHANNELS},
            "time_zone": draw(st.lists(st.sampled_from(ZONES), min_size=n, max_size=n)),
            "advisor_id": draw(
                st.lists(st.sampled_from([None, "A1", "A2"]), min_size=n, max_size=n)
            ),
            "complaint_calls_90d": draw(count),
            **{f"holds_{p}": np.array(draw(flag), dtype=int) for p in PRODUCTS},
            **{f"{p}_intent_30d": draw(count) for p in PRODUCTS},
        }
    )
    score = st.floats(0, 1)
    offer_scores = pd.DataFrame(
        [(k, p, draw(score)) for k in keys for p in PRODUCTS],
        columns=["customer_key", "subject", "score"],
    )
    scored_channels = draw(st.lists(st.sampled_from(OUTBOUND_CHANNELS), unique=True))
    channel_scores = pd.DataFrame(
        [(k, c, draw(score)) for k in keys for c in scored_channels],
        columns=["customer_key", "subject", "score"],
    )
    now = datetime(2026, 3, 1, tzinfo=UTC) + timedelta(minutes=draw(st.integers(0, 60 * 24 * 30)))
    contacts = draw(
        st.lists(
            st.tuples(
                st.sampled_from(keys),
                st.sampled_from(OUTBOUND_CHANNELS),
                st.integers(1, 60 * 24 * 40),
                st.booleans(),
            ),
            max_size=60,
        )
    )
    history = pd.DataFrame(
        [(k, c, (now - timedelta(minutes=m)).replace(tzinfo=None), e) for k, c, m, e in contacts],
        columns=["customer_key", "channel", "sent_at", "engaged"],
    ).astype({"sent_at": "datetime64[us]", "engaged": bool})
    channels = ChannelsConfig(email=draw(outbound), sms=draw(outbound), push=draw(outbound))
    config = MarketingConfig(offers=BASE.offers, channels=channels, policy=draw(policies))
    return DecisionInputs(customers, offer_scores, channel_scores, history, now), config


def _count(history: pd.DataFrame, key: str, since: datetime, channel: str | None = None) -> int:
    rows = history[
        (history["customer_key"] == key) & (history["sent_at"] >= since.replace(tzinfo=None))
    ]
    if channel:
        rows = rows[rows["channel"] == channel]
    return len(rows)


def _in_quiet(at: datetime, zone: str, window: QuietHours) -> bool:
    local = at.replace(tzinfo=UTC).astimezone(ZoneInfo(zone)).time().replace(tzinfo=None)
    if window.start <= window.end:
        return window.start <= local < window.end
    return local >= window.start or local < window.end


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(worlds())
def test_no_planned_contact_breaks_a_rule(world: tuple[DecisionInputs, MarketingConfig]) -> None:
    inputs, config = world
    plan = decide(inputs, config)
    customers = inputs.customers.set_index("customer_key")
    history, now, policy = inputs.history, inputs.now, config.policy
    offers = {o.id: (i, o) for i, o in enumerate(config.offers.offers)}
    control = dict(
        zip(
            customers.index,
            control_group(customers.index.to_numpy(dtype=str), policy.control_group_share),
            strict=True,
        )
    )

    assert plan["decision_id"].is_unique
    assert set(plan["customer_key"]) == set(customers.index)  # everyone gets a plan or a reason
    assert (
        plan.groupby("customer_key")["action"].apply(lambda a: (a == "contact").sum()) <= 1
    ).all()
    assert plan["policy_hash"].eq(config.policy_hash).all()

    for _, row in plan.iterrows():
        key, person = row["customer_key"], customers.loc[row["customer_key"]]
        if control[key]:
            assert row["action"] in ("control", "no_action") and row["control"]
            continue
        if person["do_not_contact"]:
            assert row["action"] == "no_action"
            continue
        if row["action"] != "contact":
            continue
        channel = row["channel"]
        index, offer = offers[row["offer_id"]]
        assert person[f"can_{channel}"], "consent"
        assert channel in offer.channels
        assert eligible(inputs.customers[inputs.customers["customer_key"] == key], offer, index)[0]
        # Windows as marketers mean them: a send in the window's first hour (yesterday's run a
        # few seconds late) is outside a "24 hours" or "7 days" window of today's run.
        for cap in config.channels.outbound(channel).caps:
            since = now - timedelta(days=cap.days) + SCHEDULE_SLACK
            assert _count(history, key, since, channel) < cap.max
        for cap in policy.global_caps:
            since = now - timedelta(days=cap.days) + SCHEDULE_SLACK
            assert _count(history, key, since) < cap.max
        scheduled = row["scheduled_at"].to_pydatetime()
        if policy.min_gap_hours:
            gap = timedelta(hours=policy.min_gap_hours)
            if config.channels.outbound(channel).optimise_send_time:
                # At the send instant (a contact may wait for the gap to end, within the
                # horizon): at least the gap less the slack after every earlier contact; the
                # earliest instant allowed is exactly last contact + gap - slack.
                mine = history[history["customer_key"] == key]["sent_at"]
                before = mine[mine < now.replace(tzinfo=None)]
                assert (scheduled - before >= gap - SCHEDULE_SLACK).all(), "minimum gap"
            else:  # at the decision, as always
                since = now - gap + SCHEDULE_SLACK
                assert _count(history, key, since) == 0, "minimum gap"
        if config.channels.outbound(channel).optimise_send_time:
            # Within the horizon, or at the first instant quiet hours allow (deferred, as on
            # every channel, never dropped): a wait for the best hour or the gap stays inside it.
            horizon = timedelta(hours=policy.send_time_horizon_hours)
            zone = person["time_zone"] or DEFAULT_ZONE
            window = config.channels.outbound(channel).quiet_hours
            first = next_send_time(now, zone, window).astimezone(UTC).replace(tzinfo=None)
            assert scheduled <= max(now.replace(tzinfo=None) + horizon, first), "horizon"
        if policy.back_off:
            mine = history[
                (history["customer_key"] == key) & (history["sent_at"] < now.replace(tzinfo=None))
            ]
            last = mine.sort_values("sent_at").tail(policy.back_off.ignored_contacts)
            assert not (
                len(last) >= policy.back_off.ignored_contacts
                and not last["engaged"].any()
                and last["sent_at"].max()
                >= (now - timedelta(days=policy.back_off.days)).replace(tzinfo=None)
            ), "back-off"
        window = config.channels.outbound(channel).quiet_hours
        assert scheduled >= now.replace(tzinfo=None)
        if window and window.start != window.end:
            assert not _in_quiet(scheduled, person["time_zone"] or DEFAULT_ZONE, window), (
                "quiet hours"
            )
        # the best guess clears the floor; an exploring contact may try a pair below it
        assert row["priority"] >= policy.min_priority or row["explored"]


@settings(max_examples=20, deadline=None)
@given(worlds())
def test_deciding_twice_gives_the_same_plan_and_ids(
    world: tuple[DecisionInputs, MarketingConfig],
) -> None:
    first, again = decide(*world), decide(*world)
    pd.testing.assert_frame_equal(first, again)


def test_control_group_is_stable_and_about_the_share() -> None:
    keys = np.array([f"ck_{i}" for i in range(20_000)])
    chosen = control_group(keys, 0.1)
    assert np.array_equal(chosen, control_group(keys, 0.1))
    assert 0.09 < chosen.mean() < 0.11
    assert not control_group(keys, 0.0).any()


def test_the_mortgage_example_gets_one_coordinated_plan() -> None:
    """Researching mortgages late at night in New York: a push deferred to 08:00 local, the site
    featuring the same offer, a task for the advisor; and nothing for a do-not-contact twin."""
    customers = pd.DataFrame(
        {
            "customer_key": ["ck_keen", "ck_dnc"],
            "do_not_contact": [False, True],
            "can_email": [False, True],
            "can_sms": [False, True],
            "can_push": [True, True],
            "time_zone": ["America/New_York", "America/New_York"],
            "advisor_id": ["A7", "A7"],
            "complaint_calls_90d": [0, 0],
            **{f"holds_{p}": [0, 0] for p in PRODUCTS},
            **{f"{p}_intent_30d": [5 if p == "mortgage" else 0] * 2 for p in PRODUCTS},
        }
    )
    scores = pd.DataFrame(
        [(k, p, 0.3 if p == "mortgage" else 0.01) for k in ("ck_keen", "ck_dnc") for p in PRODUCTS],
        columns=["customer_key", "subject", "score"],
    )
    now = datetime(2026, 3, 2, 3, 0, tzinfo=UTC)  # 22:00 in New York
    empty = pd.DataFrame({"customer_key": [], "channel": [], "sent_at": [], "engaged": []}).astype(
        {"sent_at": "datetime64[us]", "engaged": bool}
    )
    config = BASE.model_copy(
        update={"policy": BASE.policy.model_copy(update={"control_group_share": 0.0})}
    )
    plan = decide(
        DecisionInputs(
            customers,
            scores,
            pd.DataFrame(columns=["customer_key", "subject", "score"]),
            empty,
            now,
        ),
        config,
    )
    keen = plan[plan["customer_key"] == "ck_keen"].set_index("action")
    assert set(keen.index) == {"contact", "web", "advisor_task"}
    assert (keen["offer_id"] == "mortgage_rates").all()
    assert keen.loc["contact", "channel"] == "push"
    # It logged every pair the rules permitted: each offer that goes by push, not only its own.
    offered_by_push = {o.id for o in BASE.offers.offers if "push" in o.channels}
    assert set(keen.loc["contact", "options"]) == {f"{o}/push" for o in offered_by_push}
    assert keen.loc["contact", "scheduled_at"] == pd.Timestamp("2026-03-02 13:00")  # 08:00 EST
    assert keen.loc["contact", "explanation"] == "deferred past quiet hours"
    assert "mortgage" in keen.loc["web", "content"]
    # Each content text is exactly what json.dumps (keys sorted) gives for what it holds.
    contents = plan["content"].dropna()
    assert len(contents) and all(json.dumps(json.loads(t), sort_keys=True) == t for t in contents)
    dnc = plan[plan["customer_key"] == "ck_dnc"]
    assert (
        dnc["action"].tolist() == ["no_action"] and dnc["explanation"].iloc[0] == "do not contact"
    )


def test_yesterdays_run_a_few_seconds_late_does_not_block_todays() -> None:
    config = load_marketing_config(REPO_ROOT / "config")
    now = datetime(2026, 3, 2, 17, 0, tzinfo=UTC)
    history = pd.DataFrame(
        {
            "customer_key": ["ck_yesterday", "ck_this_morning"],
            "channel": ["email", "email"],
            "sent_at": [datetime(2026, 3, 1, 17, 0, 5), datetime(2026, 3, 2, 9, 0)],
            "engaged": [False, False],
        }
    )
    keys = pd.Index(["ck_yesterday", "ck_this_morning"])
    assert config.policy.min_gap_hours == 24
    open_, blocked = available_channels(history, keys, now, config.channels, config.policy)
    assert open_[0].any() and blocked[0] == ""
    assert not open_[1].any() and blocked[1] == "minimum gap of 24 hours"


def test_a_poor_channel_does_not_stand_in_for_a_capped_good_one() -> None:
    """Email answers ten times better than SMS for ck_email and only a little better for
    ck_close; both had two emails this week (email's cap). ck_email waits for email; ck_close
    takes SMS, worth more than half of what email would be."""
    keys = ["ck_email", "ck_close"]
    customers = pd.DataFrame(
        {
            "customer_key": keys,
            "do_not_contact": [False, False],
            "can_email": [True, True],
            "can_sms": [True, True],
            "can_push": [False, False],
            "time_zone": ["UTC", "UTC"],
            "advisor_id": [None, None],
            "complaint_calls_90d": [0, 0],
            **{f"holds_{p}": [0, 0] for p in PRODUCTS},
            **{f"{p}_intent_30d": [0, 0] for p in PRODUCTS},
        }
    )
    scores = pd.DataFrame(
        [(k, p, 0.3 if p == "savings" else 0.0) for k in keys for p in PRODUCTS],
        columns=["customer_key", "subject", "score"],
    )
    channel_scores = pd.DataFrame(
        [
            ("ck_email", "email", 0.9),
            ("ck_email", "sms", 0.09),
            ("ck_close", "email", 0.9),
            ("ck_close", "sms", 0.8),
        ],
        columns=["customer_key", "subject", "score"],
    )
    now = datetime(2026, 3, 6, 12, 0, tzinfo=UTC)
    history = pd.DataFrame(
        {
            "customer_key": [k for k in keys for _ in range(2)],
            "channel": "email",
            "sent_at": [datetime(2026, 3, 2, 12), datetime(2026, 3, 4, 12)] * 2,
            "engaged": True,
        }
    ).astype({"sent_at": "datetime64[us]"})
    policy = BASE.policy.model_copy(
        update={
            "control_group_share": 0.0,
            "exploration_share": 0.0,
            "min_priority": 0.0,
            "min_share_of_capped_best": 0.5,
        }
    )
    config = BASE.model_copy(update={"policy": policy})
    plan = decide(DecisionInputs(customers, scores, channel_scores, history, now), config)
    by_key = plan.set_index(["customer_key", "action"])
    assert ("ck_email", "contact") not in by_key.index
    reason = by_key.loc[("ck_email", "web"), "explanation"]  # the site still shows the offer
    assert reason == "no contact: waiting for a better channel's cap to reopen"
    assert by_key.loc[("ck_close", "contact"), "channel"] == "sms"
    # Without the rule both take SMS.
    off = config.model_copy(
        update={"policy": policy.model_copy(update={"min_share_of_capped_best": 0.0})}
    )
    plan = decide(DecisionInputs(customers, scores, channel_scores, history, now), off)
    contacts = plan[plan["action"] == "contact"].set_index("customer_key")["channel"]
    assert contacts.to_dict() == {"ck_email": "sms", "ck_close": "sms"}
