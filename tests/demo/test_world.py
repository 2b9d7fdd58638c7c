"""The demo world: reproducible, contract-true landing files with the noise and truth it promises."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from dagster_project.demo import (
    WorldConfig,
    WorldSummary,
    generate_world,
    load_persons,
    load_propensities,
    load_record_links,
    load_world,
)
from dagster_project.demo.landing_files import CALLS, LANDING_FILES, PRODUCTS, WEB, LandingFile
from dagster_project.demo.landing_files import EMAIL as EMAIL_EVENTS
from dagster_project.demo.vocabulary import NICKNAMES
from dagster_project.ingest.contracts import (
    CONTRACTS,
    MESSAGING_EVENTS,
    FieldType,
    Format,
    SourceContract,
)
from dagster_project.settings import DataPaths

ISO_DATE = r"\d{4}-\d{2}-\d{2}"
ISO_TIMESTAMP = r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z"
EMAIL = r"[^@\s,]+@[^@\s,]+\.[^@\s,]+"
E164 = r"\+1\d{10}"


# ------------------------------------------------------------------------------------ helpers


def make_world(root: Path, **overrides: object) -> tuple[DataPaths, WorldSummary]:
    paths = DataPaths(root)
    return paths, generate_world(paths, WorldConfig(**overrides))


def day_files(paths: DataPaths, spec: LandingFile) -> list[Path]:
    return sorted((paths.landing / spec.contract.landing_subdir).glob(f"*.{spec.extension}"))


def read_day_file(spec: LandingFile, path: Path) -> pd.DataFrame:
    """A landing file as strings, "" for missing, columns in file order."""
    if spec.extension == "parquet":
        table = pq.read_table(path)
        ts = pd.Series(table["event_ts"].to_pandas()).dt.strftime("%Y-%m-%dT%H:%M:%SZ")
        frame = table.drop(["event_ts"]).to_pandas()
        frame.insert(table.column_names.index("event_ts"), "event_ts", ts)
    elif spec.extension == "jsonl":
        frame = pd.read_json(path, lines=True, dtype=False)
        if frame.empty:  # an empty JSON-lines file has no keys to name the columns
            frame = pd.DataFrame(columns=list(spec.contract.field_names))
    else:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    return frame.astype(object).where(frame.notna(), "").astype(str)


def read_all(paths: DataPaths, spec: LandingFile) -> pd.DataFrame:
    frames = [read_day_file(spec, path) for path in day_files(paths, spec)]
    if not frames:  # quiet days write no file
        return pd.DataFrame(columns=list(spec.contract.field_names), dtype=str)
    return pd.concat(frames, ignore_index=True)


def contract_violations(contract: SourceContract, rows: pd.DataFrame) -> pd.Series:
    """Per row: breaks the contract (required, allowed values, types, formats)."""
    bad = pd.Series(False, index=rows.index)
    for field in contract.fields:
        value = rows[field.name]
        present = value != ""
        if field.required:
            bad |= ~present
        if field.allowed:
            bad |= present & ~value.isin(field.allowed)
        if field.type is FieldType.DATE:
            parsed = pd.to_datetime(value, format="%Y-%m-%d", errors="coerce")
            bad |= present & ~(value.str.fullmatch(ISO_DATE) & parsed.notna())
        elif field.type is FieldType.TIMESTAMP:
            parsed = pd.to_datetime(value, format="%Y-%m-%dT%H:%M:%SZ", errors="coerce")
            bad |= present & ~(value.str.fullmatch(ISO_TIMESTAMP) & parsed.notna())
        elif field.type is FieldType.BOOLEAN:
            bad |= present & ~value.isin(["true", "false"])
        elif field.type is FieldType.INTEGER:
            bad |= present & ~value.str.fullmatch(r"-?\d+")
        elif field.type is FieldType.DECIMAL:
            bad |= present & pd.to_numeric(value, errors="coerce").isna()
        if field.format is Format.EMAIL:
            bad |= present & ~value.str.fullmatch(EMAIL)
        elif field.format is Format.PHONE:
            digits = value.str.replace(r"\D", "", regex=True)
            us_number = (digits.str.len() == 10) | (
                (digits.str.len() == 11) & digits.str.startswith("1")
            )
            bad |= present & ~(value.str.fullmatch(r"[+\d().\- ]+") & us_number)
    return bad


def read_valid(paths: DataPaths, spec: LandingFile) -> pd.DataFrame:
    """The rows that keep their contract: what reaches the pipeline past quarantine."""
    rows = read_all(paths, spec)
    return rows[~contract_violations(spec.contract, rows)]


def links_of(paths: DataPaths, table: str) -> pd.Series:
    links = load_record_links(paths)
    return links[links["table"] == table].set_index("record_id")["person_id"]


def near(realised: float, expected: float, trials: int) -> bool:
    """Within four binomial standard deviations (plus a hair for tiny rates)."""
    return abs(realised - expected) <= 4 * math.sqrt(expected * (1 - expected) / trials) + 0.002


# ----------------------------------------------------------------------------------- worlds


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> tuple[DataPaths, WorldSummary]:
    """A default-noise world big enough to measure rates."""
    return make_world(tmp_path_factory.mktemp("world"), customers=5000, days=10, seed=11)


@pytest.fixture(scope="module")
def clean_world(tmp_path_factory: pytest.TempPathFactory) -> tuple[DataPaths, WorldSummary]:
    return make_world(tmp_path_factory.mktemp("clean"), customers=1500, days=8, bad_row_rate=0.0)


@pytest.fixture(scope="module")
def dirty_world(tmp_path_factory: pytest.TempPathFactory) -> tuple[DataPaths, WorldSummary]:
    return make_world(tmp_path_factory.mktemp("dirty"), customers=1500, days=8, bad_row_rate=0.02)


@pytest.fixture(scope="module")
def household_world(tmp_path_factory: pytest.TempPathFactory) -> tuple[DataPaths, WorldSummary]:
    """Many household copies and no other name or birthday noise, so every copy shows."""
    return make_world(
        tmp_path_factory.mktemp("households"),
        customers=3000,
        days=8,
        seed=7,
        household_share=0.6,
        household_copy_rate=0.3,
        dob_error_rate=0.0,
        typo_rate=0.0,
        swapped_name_rate=0.0,
        bad_row_rate=0.0,
    )


@pytest.fixture(scope="module")
def dob_error_world(tmp_path_factory: pytest.TempPathFactory) -> tuple[DataPaths, WorldSummary]:
    """Many mistyped birthdays and no household copies."""
    return make_world(
        tmp_path_factory.mktemp("dob-errors"),
        customers=3000,
        days=8,
        seed=8,
        dob_error_rate=0.3,
        household_copy_rate=0.0,
        bad_row_rate=0.0,
    )


def file_bytes(paths: DataPaths) -> dict[str, bytes]:
    return {
        str(p.relative_to(paths.root)): p.read_bytes()
        for p in sorted(paths.root.rglob("*"))
        if p.is_file()
    }


# ------------------------------------------------------------------------------------- tests


def test_same_seed_writes_byte_identical_files_and_another_seed_does_not(tmp_path: Path) -> None:
    first, summary = make_world(tmp_path / "a", customers=800, days=4, seed=5)
    again, _ = make_world(tmp_path / "b", customers=800, days=4, seed=5)
    other, _ = make_world(tmp_path / "c", customers=800, days=4, seed=6)
    a, b, c = file_bytes(first), file_bytes(again), file_bytes(other)
    assert len(a) == summary.files + 6  # and the truth: five tables and world.json
    assert a == b
    differing = {name for name in a if name not in c or a[name] != c[name]}
    busy = {name for name in a if "web_events_" in name or "customers_2026-01-05" in name}
    assert len(busy) == 5 and busy <= differing
    assert {name for name in a if name.startswith("truth/")} <= differing


def test_every_file_has_exactly_the_contract_columns(world: tuple[DataPaths, WorldSummary]) -> None:
    paths, summary = world
    # Push and SMS exist only once the platform sends them: the closed loop writes those files.
    assert {spec.contract for spec in LANDING_FILES} == set(CONTRACTS) - {MESSAGING_EVENTS}
    every_day = [summary.config.day(i) for i in range(summary.config.days)]
    for spec in LANDING_FILES:
        files = day_files(paths, spec)
        names = [spec.path(paths.landing, day).name for day in every_day]
        # Quiet days write no file; the busy sources never have one.
        assert {f.name for f in files} <= set(names)
        if spec.name in ("web__events", "crm__customers", "contact_centre__calls"):
            assert [f.name for f in files] == names
        for path in files:
            if spec.extension == "parquet":
                schema = pq.read_schema(path)
                assert tuple(schema.names) == spec.contract.field_names
                assert schema.field("event_ts").type == pa.timestamp("us", tz="UTC")
            elif spec.extension == "jsonl":
                first_line = path.read_text().splitlines()[0]
                assert tuple(json.loads(first_line)) == spec.contract.field_names
            else:
                header = path.read_text().splitlines()[0]
                assert tuple(header.split(",")) == spec.contract.field_names


def test_summary_counts_match_the_files(world: tuple[DataPaths, WorldSummary]) -> None:
    paths, summary = world
    for spec in LANDING_FILES:
        assert len(read_all(paths, spec)) == summary.rows[spec.name]
    assert summary.files == sum(len(day_files(paths, spec)) for spec in LANDING_FILES) > 60
    assert load_world(paths)["rows"] == dict(summary.rows)
    assert len(load_persons(paths)) == summary.persons == 5000


def test_volumes_per_person_day_are_in_the_promised_ranges(
    world: tuple[DataPaths, WorldSummary],
) -> None:
    paths, summary = world
    person_days = summary.persons * summary.config.days
    assert 0.4 <= summary.rows["web__events"] / person_days <= 0.6
    # Email counts every open: privacy proxies and re-readers open one message several times.
    assert 0.06 <= summary.rows["email__events"] / person_days <= 0.11
    email = read_all(paths, EMAIL_EVENTS)
    assert 0.035 <= (email["event_type"] == "send").sum() / person_days <= 0.07
    assert 0.003 <= summary.rows["contact_centre__calls"] / person_days <= 0.008
    assert summary.rows["outcomes__applications"] > 0
    assert summary.rows["crm__advisor_notes"] > 0


def test_a_clean_world_keeps_every_contract(clean_world: tuple[DataPaths, WorldSummary]) -> None:
    paths, summary = clean_world
    assert sum(summary.bad_rows.values()) == 0
    for spec in LANDING_FILES:
        rows = read_all(paths, spec)
        assert not contract_violations(spec.contract, rows).any(), spec.name
        keys = rows[list(spec.contract.key)]
        assert not keys.duplicated().any(), f"{spec.name}: duplicate keys"


def test_bad_rows_break_the_contract_once_each_and_keep_their_truth(
    dirty_world: tuple[DataPaths, WorldSummary],
) -> None:
    paths, summary = dirty_world
    assert 0.01 < summary.realised_noise["bad_row_rate"] < 0.03
    for spec in LANDING_FILES:
        rows = read_all(paths, spec)
        violations = contract_violations(spec.contract, rows)
        assert violations.sum() == summary.bad_rows[spec.name], spec.name
        linked = links_of(paths, spec.name)
        ids = rows.loc[violations, spec.record_key]
        assert ids[ids != ""].isin(linked.index).all(), spec.name


def test_every_person_bearing_record_links_to_one_true_person(
    world: tuple[DataPaths, WorldSummary],
) -> None:
    paths, _ = world
    links = load_record_links(paths)
    assert not links.duplicated(["table", "record_id"]).any()
    assert links["person_id"].isin(load_persons(paths)["person_id"]).all()
    for spec in LANDING_FILES:
        ids = read_all(paths, spec)[spec.record_key]
        linked = links_of(paths, spec.name)
        assert ids[ids != ""].isin(linked.index).all(), spec.name
        assert linked.index.isin(ids).all(), f"{spec.name}: links to records never written"


def test_logins_tie_a_device_to_its_owner(world: tuple[DataPaths, WorldSummary]) -> None:
    paths, _ = world
    web = read_valid(paths, LANDING_FILES[3])
    device_owner = links_of(paths, "web__events")
    customer_owner = links_of(paths, "crm__customers")
    persons = load_persons(paths)
    address_owner = pd.concat(
        [
            persons.set_index("email")["person_id"],
            persons.dropna(subset=["previous_email"]).set_index("previous_email")["person_id"],
        ]
    )
    by_id = web[(web["event_type"] == "login") & (web["login_customer_id"] != "")]
    by_email = web[(web["event_type"] == "login") & (web["login_email"] != "")]
    assert len(by_id) > 100 and len(by_email) > 100
    # A customer whose CRM row was one of the deliberately broken ones has no truth link.
    known = by_id["login_customer_id"].map(customer_owner).notna()
    assert known.mean() > 0.99
    assert (
        by_id.loc[known, "anonymous_id"].map(device_owner).values
        == by_id.loc[known, "login_customer_id"].map(customer_owner).values
    ).all()
    owners = by_email["login_email"].map(address_owner)
    assert (by_email["anonymous_id"].map(device_owner).values == owners.values).all()
    assert 0.85 < (web["login_email"] + web["login_customer_id"] == "").mean() < 1.0


def _single_record_customers(paths: DataPaths) -> pd.DataFrame:
    """CRM snapshot rows joined to the truth of their owner, for people with one record."""
    snapshot = read_day_file(LANDING_FILES[0], day_files(paths, LANDING_FILES[0])[0])
    snapshot = snapshot[~contract_violations(LANDING_FILES[0].contract, snapshot)]
    persons = load_persons(paths).set_index("person_id")
    snapshot["person_id"] = snapshot["customer_id"].map(links_of(paths, "crm__customers"))
    rows = snapshot.join(persons, on="person_id", rsuffix="_true")
    return rows[rows["crm_records"] == 1]


def _name_forms(name: str) -> set[str]:
    """A given name and its short forms, lowercased: every way a record may type it."""
    return {name.lower()} | {short.lower() for short in NICKNAMES.get(name, ())}


def _household_others(persons: pd.DataFrame) -> pd.DataFrame:
    """One row per (person, other member of their household) with the other's true details."""
    members = persons.loc[
        persons["household_size"] > 1, ["person_id", "household_id", "first_name", "date_of_birth"]
    ].astype({"date_of_birth": str})
    pairs = members.merge(members, on="household_id", suffixes=("", "_other"))
    return pairs.loc[
        pairs["person_id"] != pairs["person_id_other"],
        ["person_id", "person_id_other", "first_name_other", "date_of_birth_other"],
    ]


def _from_household(rows: pd.DataFrame, persons: pd.DataFrame) -> pd.DataFrame:
    """Per row (``person_id``, ``typed_first``, ``typed_dob``): whether the typed first name or
    date of birth is another household member's and not the person's own."""
    own = persons.set_index("person_id")
    own_forms = rows["person_id"].map(own["first_name"]).map(_name_forms)
    own_dob = rows["person_id"].map(own["date_of_birth"].astype(str))
    typed = rows[["person_id", "typed_first", "typed_dob"]].reset_index(names="row")
    pairs = typed.merge(_household_others(persons), on="person_id")
    other_forms = pairs["first_name_other"].map(_name_forms)
    pairs["first"] = [t in f for t, f in zip(pairs["typed_first"], other_forms, strict=True)]
    pairs["dob"] = pairs["typed_dob"] == pairs["date_of_birth_other"]
    found = pairs.groupby("row")[["first", "dob"]].any().reindex(rows.index, fill_value=False)
    own_first = pd.Series(
        [t in f for t, f in zip(rows["typed_first"], own_forms, strict=True)], index=rows.index
    )
    return pd.DataFrame(
        {"first": found["first"] & ~own_first, "dob": found["dob"] & (rows["typed_dob"] != own_dob)}
    )


def _one_character_differs(typed: pd.Series, true: pd.Series) -> pd.Series:
    """Per row: the two same-length strings differ in exactly one character."""
    differs = [
        len(x) == len(y) and sum(a != b for a, b in zip(x, y, strict=True)) == 1
        for x, y in zip(typed, true, strict=True)
    ]
    return pd.Series(differs, index=typed.index, dtype=bool)


def _dob_error_like(typed: pd.Series, true: pd.Series) -> pd.Series:
    """Typed dates that are a real date, differ from the truth and are wrong the way people get
    dates wrong: day and month swapped, one digit off, or only the year right."""
    parsed = pd.to_datetime(typed, format="%Y-%m-%d", errors="coerce")
    year, month, day = (typed.str.slice(a, b) for a, b in ((0, 4), (5, 7), (8, 10)))
    true_year, true_month, true_day = (true.str.slice(a, b) for a, b in ((0, 4), (5, 7), (8, 10)))
    swapped = (year == true_year) & (month == true_day) & (day == true_month)
    one_digit = _one_character_differs(typed, true)
    real = typed.str.fullmatch(ISO_DATE) & parsed.notna()
    return real & (typed != true) & (swapped | one_digit | (year == true_year))


def _typed_people(paths: DataPaths) -> pd.DataFrame:
    """Every CRM customer record and application typed with a first name and a date of birth,
    with its true owner: columns person_id, typed_first, typed_dob, table."""
    frames = []
    for spec in (LANDING_FILES[0], LANDING_FILES[6]):
        rows = read_valid(paths, spec).drop_duplicates(spec.record_key)
        frames.append(
            pd.DataFrame(
                {
                    "person_id": rows[spec.record_key].map(links_of(paths, spec.name)).values,
                    "typed_first": rows["first_name"].str.lower().values,
                    "typed_dob": rows["date_of_birth"].values,
                    "table": spec.name,
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


def test_realised_noise_rates_are_near_the_configured_ones(
    world: tuple[DataPaths, WorldSummary],
) -> None:
    paths, summary = world
    config = summary.config
    rows = _single_record_customers(paths)
    n = len(rows)
    assert n > 3500
    first, last = rows["first_name"].str.lower(), rows["last_name"].str.lower()
    true_first, true_last = rows["first_name_true"].str.lower(), rows["last_name_true"].str.lower()
    shorts = rows["first_name_true"].map(lambda name: {s.lower() for s in NICKNAMES.get(name, ())})
    swapped = (first == true_last) & (last == true_first) & (true_first != true_last)
    nickname = pd.Series([f in s for f, s in zip(first, shorts, strict=True)], index=rows.index)
    as_typed = ((first == true_first) | nickname) & (last == true_last)
    eligible = shorts.map(bool)

    assert near(swapped.mean(), config.swapped_name_rate, n)
    assert near(nickname[eligible].mean(), config.nickname_rate, int(eligible.sum()))
    # A first name taken from another member of the household is not a typo.
    copied = _from_household(
        rows.assign(typed_first=first, typed_dob=rows["date_of_birth"]), load_persons(paths)
    )
    assert near((~as_typed & ~swapped & ~copied["first"]).mean(), config.typo_rate, n)
    phones = rows.loc[rows["phone"] != "", "phone"]
    assert near((~phones.str.fullmatch(E164)).mean(), config.phone_format_rate, len(phones))
    typed_birthday = rows["date_of_birth"]
    assert near((typed_birthday == "").mean(), config.missing_field_rate, n)
    true_birthday = rows["date_of_birth_true"].astype(str)
    present = typed_birthday != ""
    wrong = present & (typed_birthday != true_birthday) & ~copied["dob"]
    assert _dob_error_like(typed_birthday[wrong], true_birthday[wrong]).all()
    assert near(wrong[present].mean(), config.dob_error_rate, int(present.sum()))
    in_household = rows["household_size"] > 1
    any_copy = (copied["first"] | copied["dob"])[in_household]
    assert near(any_copy.mean(), config.household_copy_rate, int(in_household.sum()))

    persons = load_persons(paths)
    assert near(persons["previous_email"].notna().mean(), config.changed_email_rate, len(persons))
    customers = int(persons["crm_records"].gt(0).sum())
    doubled = int(persons["crm_records"].eq(2).sum())
    assert near(doubled / customers, config.duplicate_customer_rate, customers)
    assert near(persons["is_crm_customer"].mean(), config.crm_customer_share, len(persons))
    for name in (
        "typo_rate",
        "nickname_rate",
        "swapped_name_rate",
        "phone_format_rate",
        "dob_error_rate",
        "household_copy_rate",
    ):
        assert abs(summary.realised_noise[name] - getattr(config, name)) < 0.01, name


def test_duplicate_customer_records_differ_but_belong_to_one_person(
    world: tuple[DataPaths, WorldSummary],
) -> None:
    paths, _ = world
    customers = read_all(paths, LANDING_FILES[0]).drop_duplicates("customer_id")
    customers["person_id"] = customers["customer_id"].map(links_of(paths, "crm__customers"))
    doubled = customers[customers.duplicated("person_id", keep=False)]
    assert doubled["person_id"].nunique() > 50
    identical = doubled.drop(columns=["customer_id", "updated_at"]).duplicated(keep=False)
    assert not identical.any(), "a duplicate record must vary from the original"


def test_households_share_address_and_phone_but_not_names_or_birthdays(
    world: tuple[DataPaths, WorldSummary],
) -> None:
    paths, _ = world
    persons = load_persons(paths)
    shared = persons[persons["household_size"] > 1]
    assert near(len(shared) / len(persons), 0.30, len(persons))
    assert set(shared["household_size"]) == {2, 3, 4}
    by_household = shared.groupby("household_id")
    assert (by_household[["street", "city", "postcode"]].nunique() == 1).all().all()
    assert (by_household["home_phone"].nunique(dropna=False) == 1).all()
    assert shared["home_phone"].notna().mean() > 0.4
    assert (by_household["first_name"].nunique() == by_household.size()).all()
    assert (by_household["date_of_birth"].nunique() == by_household.size()).all()
    assert by_household["last_name"].nunique().eq(1).mean() > 0.5

    # The shared landline reaches the CRM: different people's records carry the same number.
    rows = _single_record_customers(paths)
    number = rows["phone"].str.replace(r"\D", "", regex=True).str[-10:]
    landline = rows["home_phone"].fillna("").str[-10:]
    on_landline = rows[(number == landline) & (landline != "")]
    assert on_landline.groupby("household_id")["person_id"].nunique().max() > 1


def test_a_household_copy_always_takes_a_real_other_members_value(
    household_world: tuple[DataPaths, WorldSummary],
) -> None:
    paths, summary = household_world
    persons = load_persons(paths)
    typed = _typed_people(paths)
    own = persons.set_index("person_id")
    own_forms = typed["person_id"].map(own["first_name"]).map(_name_forms)
    own_first = pd.Series(
        [t in f for t, f in zip(typed["typed_first"], own_forms, strict=True)], index=typed.index
    )
    own_dob = (typed["typed_dob"] == "") | (
        typed["typed_dob"] == typed["person_id"].map(own["date_of_birth"].astype(str))
    )
    copied = _from_household(typed, persons)
    # With typos, swaps and dob errors off, a value that is not the person's own is a copy, and
    # every copy is the value of someone else in the same household.
    assert (own_first | copied["first"]).all()
    assert (own_dob | copied["dob"]).all()
    in_household = typed["person_id"].map(own["household_size"]) > 1
    assert not (copied["first"] | copied["dob"])[~in_household].any()
    assert copied["first"].sum() > 100 and copied["dob"].sum() > 100
    # Both fields are copied about equally; missing birthdays hide a few of the dob copies.
    assert 0.35 < copied["dob"].sum() / (copied["first"] | copied["dob"]).sum() < 0.6
    rate = summary.config.household_copy_rate
    assert near((copied["first"] | copied["dob"])[in_household].mean(), rate, in_household.sum())
    assert abs(summary.realised_noise["household_copy_rate"] - rate) < 0.02

    # Calls: the agent types the name of whoever in the household they think rang.
    calls = read_valid(paths, LANDING_FILES[4])
    calls = calls[calls["caller_name"] != ""]
    name = calls["caller_name"].str.lower()
    first = name.str.split(", ").str[1].where(name.str.contains(", "), name.str.split(" ").str[0])
    call_rows = pd.DataFrame(
        {
            "person_id": calls["call_id"].map(links_of(paths, "contact_centre__calls")).values,
            "typed_first": first.values,
            "typed_dob": "",
        }
    )
    call_forms = call_rows["person_id"].map(own["first_name"]).map(_name_forms)
    call_own = pd.Series(
        [t in f for t, f in zip(call_rows["typed_first"], call_forms, strict=True)], dtype=bool
    )
    call_copied = _from_household(call_rows, persons)["first"]
    assert (call_own | call_copied).all()
    assert call_copied.sum() > 10


def test_a_dob_error_is_a_real_date_wrong_in_one_realistic_way(
    dob_error_world: tuple[DataPaths, WorldSummary],
) -> None:
    paths, summary = dob_error_world
    persons = load_persons(paths).set_index("person_id")
    typed = _typed_people(paths)
    typed = typed[typed["typed_dob"] != ""]
    true = typed["person_id"].map(persons["date_of_birth"].astype(str))
    wrong = typed["typed_dob"] != true
    assert _dob_error_like(typed.loc[wrong, "typed_dob"], true[wrong]).all()
    assert (typed["typed_dob"] < summary.config.start_date.isoformat()).all()
    rate = summary.config.dob_error_rate
    assert near(wrong.mean(), rate, len(typed))
    assert abs(summary.realised_noise["dob_error_rate"] - rate) < 0.02
    # All three kinds occur: swapped day and month, one digit, only the year right.
    mistyped, truth = typed.loc[wrong, "typed_dob"], true[wrong]
    swapped = (mistyped.str[5:7] == truth.str[8:10]) & (mistyped.str[8:10] == truth.str[5:7])
    one_digit = _one_character_differs(mistyped, truth)
    year_only = ~swapped & ~one_digit
    assert (mistyped[year_only].str[:4] == truth[year_only].str[:4]).all()
    for kind in (swapped, one_digit, year_only):
        assert 0.1 < kind.mean() < 0.75


def test_zero_register_noise_rates_give_no_such_records_and_touch_nothing_else(
    tmp_path: Path,
) -> None:
    quiet = {"typo_rate": 0.0, "swapped_name_rate": 0.0, "bad_row_rate": 0.0}
    zero, summary = make_world(
        tmp_path / "zero",
        customers=1500,
        days=5,
        seed=9,
        household_share=0.6,
        dob_error_rate=0.0,
        household_copy_rate=0.0,
        **quiet,
    )
    assert summary.realised_noise["dob_error_rate"] == 0.0
    assert summary.realised_noise["household_copy_rate"] == 0.0
    persons = load_persons(zero)
    typed = _typed_people(zero)
    own = persons.set_index("person_id")
    forms = typed["person_id"].map(own["first_name"]).map(_name_forms)
    assert all(t in f for t, f in zip(typed["typed_first"], forms, strict=True))
    present = typed[typed["typed_dob"] != ""]
    assert (
        present["typed_dob"] == present["person_id"].map(own["date_of_birth"].astype(str))
    ).all()

    # The register noise draws from its own streams: turning it on changes only the records it
    # lands in, never another source or the truth about people.
    noisy, _ = make_world(
        tmp_path / "noisy", customers=1500, days=5, seed=9, household_share=0.6, **quiet
    )
    a, b = file_bytes(zero), file_bytes(noisy)
    assert a.keys() == b.keys()
    differing = {name for name in a if a[name] != b[name]}
    touched = ("crm/customers/", "outcomes/applications/", "contact_centre/calls/")
    assert "truth/world.json" in differing and len(differing) > 1
    assert all(name == "truth/world.json" or any(t in name for t in touched) for name in differing)


def test_intents_drive_browsing_applications_and_propensities(
    world: tuple[DataPaths, WorldSummary],
) -> None:
    paths, summary = world
    intents = pd.read_parquet(paths.truth / "intents.parquet")
    active = intents[(intents["start_day"] < summary.config.days) & (intents["end_day"] >= 0)]

    applications = read_all(paths, LANDING_FILES[6])
    applications["person_id"] = applications["application_id"].map(
        links_of(paths, "outcomes__applications")
    )
    planned = intents.dropna(subset=["application_id"]).set_index("application_id")
    planned = planned.loc[applications["application_id"]]
    assert (applications["person_id"].to_numpy() == planned["person_id"].to_numpy()).all()
    assert (applications["product"].to_numpy() == planned["product"].to_numpy()).all()

    web = read_all(paths, LANDING_FILES[3])
    views = web[web["product_topic"] != ""].copy()
    views["person_id"] = views["anonymous_id"].map(links_of(paths, "web__events"))
    wants = views.merge(active[["person_id", "product"]], on="person_id")
    on_topic = (wants["product_topic"] == wants["product"]).mean()
    assert on_topic > 0.5  # five products: without intent this would be about 0.2

    propensities = load_propensities(paths)
    assert len(propensities) == summary.persons * 5 * 3
    assert propensities["propensity"].between(0, 1).all()
    strong = propensities[propensities["intent_strength"] > 0.5]["propensity"].mean()
    none = propensities[propensities["intent_strength"] == 0]["propensity"].mean()
    assert strong > 3 * none


def _days(timestamps: pd.Series, config: WorldConfig) -> np.ndarray:
    """Day index of ISO dates or timestamps (their date part)."""
    dates = pd.to_datetime(timestamps.str[:10], format="%Y-%m-%d")
    return (dates - pd.Timestamp(config.start_date)).dt.days.to_numpy()


def _aggrieved(paths: DataPaths, person: pd.Series, day: np.ndarray) -> np.ndarray:
    """Per (person, day): the person was in a grievance that day, by the truth."""
    grievances = pd.read_parquet(paths.truth / "grievances.parquet")
    asked = pd.DataFrame({"person_id": person.to_numpy(), "day": day, "row": np.arange(len(day))})
    both = asked.merge(grievances, on="person_id")
    during = both[(both["start_day"] <= both["day"]) & (both["day"] <= both["end_day"])]
    return np.isin(np.arange(len(day)), during["row"])


def test_dissatisfied_customers_complain_stay_away_move_money_and_close_products(
    world: tuple[DataPaths, WorldSummary],
) -> None:
    """Closures follow signals the platform can see: a grievance raises complaints, empties
    deposits, keeps the customer off the site and app, and makes closing a product likely."""
    paths, summary = world
    config = summary.config
    persons = load_persons(paths)
    customers = persons[persons["is_crm_customer"]]["person_id"]
    aggrieved_days = sum(
        _aggrieved(paths, customers, np.full(len(customers), day)).sum()
        for day in range(config.days)
    )
    customer_days = len(customers) * config.days
    assert 0.1 < aggrieved_days / customer_days < 0.35

    products = read_valid(paths, PRODUCTS)
    closed = products[(products["closed_at"] >= config.start_date.isoformat())]
    closed = closed.drop_duplicates("holding_id")
    owner = closed["customer_id"].map(links_of(paths, "crm__customers"))
    assert len(closed) >= 10
    assert _aggrieved(paths, owner, _days(closed["closed_at"], config)).mean() > 0.6

    calls = read_valid(paths, CALLS)
    caller = calls["call_id"].map(links_of(paths, "contact_centre__calls"))
    unhappy = _aggrieved(paths, caller, _days(calls["call_started_at"], config))
    complaint = (calls["reason_code"] == "complaint").to_numpy()
    assert 0.05 < complaint.mean() < 0.2
    assert unhappy[complaint].mean() > 0.6 > 0.35 > unhappy[~complaint].mean()

    web = read_valid(paths, WEB)
    visitor = web["anonymous_id"].map(links_of(paths, "web__events"))
    away = _aggrieved(paths, visitor, _days(web["event_ts"], config))
    by_customer = visitor.isin(customers).to_numpy()
    per_aggrieved_day = (away & by_customer).sum() / aggrieved_days
    per_content_day = (~away & by_customer).sum() / (customer_days - aggrieved_days)
    assert per_aggrieved_day < 0.6 * per_content_day

    # Monthly statements: deposits drift for the content, drain for the dissatisfied.
    deposits = products[products["product"].isin(["current_account", "savings"])].copy()
    deposits["balance"] = pd.to_numeric(deposits["balance"], errors="coerce")
    deposits = deposits.sort_values(["holding_id", "updated_at"])
    deposits["before"] = deposits.groupby("holding_id")["balance"].shift()
    moved = deposits[(deposits["closed_at"] == "") & (deposits["before"] > 0)]
    assert len(moved) > 500
    change = np.log(moved["balance"] / moved["before"]).to_numpy()
    owner = moved["customer_id"].map(links_of(paths, "crm__customers"))
    draining = _aggrieved(paths, owner, _days(moved["updated_at"], config))
    assert change[draining].mean() < change[~draining].mean() - 0.08


def test_opens_repeat_and_privacy_proxies_open_within_minutes_of_the_send(
    world: tuple[DataPaths, WorldSummary],
) -> None:
    """Each open is its own event: readers open a message up to four times, and a privacy proxy
    fetches what it delivers seconds to minutes after the send, whether or not anyone reads it."""
    paths, _ = world
    email = read_valid(paths, EMAIL_EVENTS)
    assert email["event_id"].is_unique
    email["at"] = pd.to_datetime(email["event_ts"], format="%Y-%m-%dT%H:%M:%SZ")
    sent = email[email["event_type"] == "send"].groupby("message_id")["at"].min()
    opens = email[email["event_type"] == "open"]
    per_message = opens.groupby("message_id").size()
    assert per_message.max() == 4
    assert 0.2 < (per_message > 1).mean() < 0.6
    assert 0.3 < len(per_message) / len(sent) < 0.6  # opened messages: proxies lift the rate

    first_open = opens.groupby("message_id")["at"].min()
    delay = (first_open - sent.reindex(first_open.index)).dropna()
    assert (delay >= pd.Timedelta(0)).all()
    assert 0.3 < (delay <= pd.Timedelta(minutes=10)).mean() < 0.9
    # Every open of a message has its own time.
    assert not opens.duplicated(["message_id", "event_ts"]).any()
    clicked = email[email["event_type"] == "click"]["message_id"].nunique()
    assert clicked < 0.2 * len(per_message)


def test_a_one_person_one_day_world_with_no_bad_rows_works(tmp_path: Path) -> None:
    seen: list[tuple[str, float]] = []
    paths = DataPaths(tmp_path)
    config = WorldConfig(customers=1, days=1, bad_row_rate=0.0)
    summary = generate_world(paths, config, progress=lambda stage, done: seen.append((stage, done)))
    assert summary.persons == 1
    assert summary.files == sum(1 for spec in LANDING_FILES if summary.rows[spec.name])
    assert [done for _, done in seen] == sorted(done for _, done in seen)
    assert seen[-1][1] == 1.0
    for spec in LANDING_FILES:
        rows = read_all(paths, spec)
        assert len(rows) == summary.rows[spec.name]
        assert not contract_violations(spec.contract, rows).any()
    assert len(load_persons(paths)) == 1


@pytest.mark.parametrize("rate", [0.0, 1.0])
def test_extreme_rates_still_make_a_world(tmp_path: Path, rate: float) -> None:
    rates = {name: rate for name in WorldConfig().noise_rates}
    shares = {"crm_customer_share": rate, "household_share": rate}
    paths, summary = make_world(tmp_path, customers=60, days=3, **rates, **shares)
    for spec in LANDING_FILES:
        rows = read_all(paths, spec)
        violations = contract_violations(spec.contract, rows)
        assert violations.sum() == (len(rows) if rate else 0), spec.name
    persons = load_persons(paths)
    assert persons["previous_email"].notna().all() == bool(rate)
    assert (persons["household_size"] > 1).all() == bool(rate)
    assert summary.crm_records == int(persons["crm_records"].sum())


def test_a_new_world_replaces_the_previous_one(tmp_path: Path) -> None:
    make_world(tmp_path, customers=300, days=4)
    paths, summary = make_world(tmp_path, customers=300, days=2)
    written = [path for spec in LANDING_FILES for path in day_files(paths, spec)]
    assert len(written) == summary.files
    assert all(summary.config.end_date.isoformat() >= p.stem[-10:] for p in written)


def test_the_package_imports_no_dagster_and_checks_its_config() -> None:
    probe = "import sys, dagster_project.demo; print('dagster' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert result.stdout.strip() == "False", result.stderr
    with pytest.raises(ValueError, match="typo_rate"):
        WorldConfig(typo_rate=1.5)
    with pytest.raises(ValueError, match="dob_error_rate"):
        WorldConfig(dob_error_rate=-0.1)
    with pytest.raises(ValueError, match="household_copy_rate"):
        WorldConfig(household_copy_rate=1.01)
    with pytest.raises(ValueError, match="customers"):
        replace(WorldConfig(), customers=0)
