from __future__ import annotations

import datetime as dt

import duckdb
import pandas as pd

from dagster_project.identity.normalise import (
    distinct_phones,
    normalised_select,
    phone_to_e164,
    register_lookups,
)


def normalise(frame: pd.DataFrame, **kwargs) -> pd.DataFrame:
    conn = duckdb.connect()
    conn.register("people", frame)
    roles = [c for c in frame.columns if c != "record_id"]
    phones = distinct_phones(conn, "people") if "phone" in roles else []
    register_lookups(conn, phones, region="US")
    out = conn.execute(normalised_select("people", roles, **kwargs)).df()
    return out.set_index("record_id")


def test_phone_formats_become_one_e164() -> None:
    forms = ["+1 (555) 201-3344", "555.201.3344", "5552013344", "+15552013344", "(555) 201 3344"]
    assert {phone_to_e164(f, "US") for f in forms} == {"+15552013344"}
    assert phone_to_e164("call me", "US") is None
    assert phone_to_e164("12", "US") is None
    assert phone_to_e164("020 7946 0958", "GB") == "+442079460958"


def test_names_emails_dates_and_junk() -> None:
    frame = pd.DataFrame(
        {
            "record_id": ["1", "2", "3", "4"],
            "full_name": ["SMITH, Bill", "José  O'Brien-Núñez", "", "n/a"],
            "email": ["  Bill.Smith@Example.COM ", "not-an-email", "", None],
            "dob": ["1980-02-03", "19800203", "02/03/1980", "1985-02-30"],
            "phone": ["555.201.3344", "junk", "", "0"],
        }
    )
    out = normalise(frame)
    assert out.loc["1", ["first_name", "last_name", "first_name_canonical"]].tolist() == [
        "bill",
        "smith",
        "william",
    ]
    assert out.loc["2", "first_name"] == "jose"
    assert out.loc["2", "last_name"] == "obrien nunez"
    assert out.loc["1", "email"] == "bill.smith@example.com"
    assert pd.isna(out.loc["2", "email"])
    assert {out.loc[r, "dob"] for r in ("1", "2", "3")} == {pd.Timestamp(dt.date(1980, 2, 3))}
    assert pd.isna(out.loc["4", "dob"])  # impossible date
    assert out.loc["1", "phone"] == "+15552013344"
    assert out.loc[["2", "3", "4"], "phone"].isna().all()
    assert out.loc[["3", "4"], ["first_name", "last_name"]].isna().all().all()


def test_given_date_format_and_addresses() -> None:
    frame = pd.DataFrame(
        {
            "record_id": ["1", "2"],
            "dob": ["03.02.1980", "31.12.1999"],
            "street_number": ["12", None],
            "street": ["Wallaby Street North", None],
            "address": [None, "7 Hoseason  Road"],
            "postcode": ["sw1a 1aa", "2119"],
        }
    )
    out = normalise(frame, date_formats=["%d.%m.%Y"])
    assert out.loc["1", "dob"] == pd.Timestamp(1980, 2, 3)
    assert out.loc["1", "address"] == "12 wallaby st n"
    assert out.loc["2", "address"] == "7 hoseason rd"
    assert out.loc["1", "postcode"] == "SW1A1AA"
