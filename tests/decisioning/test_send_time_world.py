"""The demo world's reading habits are discoverable: the engagement SQL and the shrunk profiles,
run on a small world's own email and web events, find each person's true email hour for clearly
more people than chance, and more than the population's best hour would."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest

from dagster_project.decisioning.inputs import load_engagement
from dagster_project.decisioning.send_time import (
    population_profile,
    shrunk_profiles,
    weekly_counts,
)
from dagster_project.demo import WorldConfig, generate_world
from dagster_project.demo.habits import hour_distance
from dagster_project.demo.landing_files import EMAIL, WEB
from dagster_project.demo.truth_files import load_persons, load_record_links
from dagster_project.settings import data_paths


def build_timeline(
    root: Path, config: WorldConfig
) -> tuple[duckdb.DuckDBPyConnection, pd.DataFrame, datetime]:
    """A world's email and web events as the profile would see them, keyed by the true person
    (identity is another stage's test), in the two marts the engagement SQL reads."""
    paths = data_paths(root)
    generate_world(paths, config)
    persons = load_persons(paths)
    links = load_record_links(paths)
    owner = links.drop_duplicates(["table", "record_id"]).set_index(["table", "record_id"])[
        "person_id"
    ]
    conn = duckdb.connect()
    conn.execute("CREATE SCHEMA marts")
    email = conn.execute(
        f"SELECT recipient_email, event_type, event_ts FROM read_json_auto("
        f"'{paths.landing / EMAIL.contract.landing_subdir}/*.jsonl')"
    ).df()
    web = conn.execute(
        f"SELECT anonymous_id, platform, event_type, event_ts FROM read_parquet("
        f"'{paths.landing / WEB.contract.landing_subdir}/*.parquet')"
    ).df()
    events = pd.concat(
        [
            pd.DataFrame(
                {
                    "customer_key": owner.loc["email__events"]
                    .reindex(email["recipient_email"])
                    .to_numpy(),
                    "channel": "email",
                    "interaction_type": "email_" + email["event_type"],
                    "occurred_at": pd.to_datetime(email["event_ts"], utc=True),
                }
            ),
            pd.DataFrame(
                {
                    "customer_key": owner.loc["web__events"]
                    .reindex(web["anonymous_id"])
                    .to_numpy(),
                    "channel": np.where(web["platform"] == "web", "web", "app"),
                    "interaction_type": web["event_type"],
                    "occurred_at": pd.to_datetime(web["event_ts"], utc=True),
                }
            ),
        ]
    ).dropna(subset=["customer_key"])
    events["occurred_at"] = events["occurred_at"].dt.tz_localize(None)
    conn.register("events", events)
    conn.execute("CREATE TABLE marts.fct_interactions AS SELECT * FROM events")
    conn.register("people", persons[["person_id", "time_zone"]])
    conn.execute(
        "CREATE TABLE marts.customer_contactability AS "
        "SELECT person_id AS customer_key, time_zone FROM people"
    )
    end = datetime.combine(config.end_date + timedelta(days=1), datetime.min.time(), UTC)
    return conn, persons.set_index("person_id"), end


@pytest.fixture(scope="module")
def timeline(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[duckdb.DuckDBPyConnection, pd.DataFrame, datetime]:
    config = WorldConfig(customers=2500, days=56, seed=5, bad_row_rate=0.0)
    return build_timeline(tmp_path_factory.mktemp("habits"), config)


def test_the_learned_email_hour_is_the_true_habit_for_clearly_more_than_chance(
    timeline: tuple[duckdb.DuckDBPyConnection, pd.DataFrame, datetime],
) -> None:
    conn, persons, end = timeline
    engagement = load_engagement(conn, end, "America/New_York")
    assert set(engagement["channel"]) == {"email", "web"}
    assert (engagement["evidence"] > 0).all()
    answers = engagement[engagement["channel"] == "email"].groupby("customer_key")["evidence"].sum()
    keys = pd.Index(answers.index[answers >= 1.0])  # people their email says something about
    assert len(keys) >= 150
    counts = weekly_counts(engagement, keys, "email")
    population = population_profile(weekly_counts(engagement, pd.Index(persons.index), "email"))
    profiles = shrunk_profiles(counts, population)
    learned = profiles.reshape(len(keys), 7, 24).sum(axis=1).argmax(axis=1) + 0.5
    truth = persons.loc[keys, "read_hour_email"].to_numpy()
    hit = hour_distance(learned, truth) <= 1.5  # the true hour or either neighbour
    everyone = population.reshape(7, 24).sum(axis=0).argmax() + 0.5
    baseline = hour_distance(np.full(len(keys), everyone), truth) <= 1.5
    # Chance is 3 hours in 24 (12.5%); the best single hour for all is the stronger baseline.
    assert hit.mean() > 0.3, (hit.mean(), baseline.mean(), len(keys))
    assert hit.mean() > 1.5 * baseline.mean(), (hit.mean(), baseline.mean())
