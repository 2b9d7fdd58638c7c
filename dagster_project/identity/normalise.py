"""Normalise identity fields of any person file into one schema the resolver compares.

The input is a DuckDB relation with ``record_id`` and any subset of the roles below (all text).
Names lose case, accents and punctuation and gain a canonical given name (Bill -> william);
emails are trimmed and lower-cased; phones become E.164 through ``phonenumbers``; dates of birth
are parsed from ISO, YYYYMMDD, MM/DD/YYYY or a given format and impossible ones become NULL;
addresses and postcodes are simplified. Junk ("n/a", "unknown", "") becomes NULL, so a bad value
can neither crash the run nor make two strangers agree.
"""

from __future__ import annotations

from collections.abc import Iterable

import duckdb
import phonenumbers
import pyarrow as pa

from ..warehouse import quote_identifier, quote_literal
from .nicknames import nickname_table

ROLES = (
    "first_name",
    "middle_name",
    "last_name",
    "full_name",
    "dob",
    "email",
    "phone",
    "street_number",
    "street",
    "address",
    "city",
    "state",
    "postcode",
    "country",
    "national_id",
    "gender",
)

# The columns every normalised identity table has, whatever roles the input had.
NORMALISED_COLUMNS = (
    "record_id",
    "first_name",
    "middle_name",
    "last_name",
    "first_name_canonical",
    "dob",
    "email",
    "phone",
    "address",
    "city",
    "state",
    "postcode",
    "country",
    "national_id",
    "gender",
)

DEFAULT_DATE_FORMATS = ("%Y-%m-%d", "%Y%m%d", "%m/%d/%Y")
DEFAULT_PHONE_REGION = "US"  # for phones written without +country
JUNK_VALUES = ("", "n/a", "na", "none", "null", "unknown", "-", "?", "x", "xx", "test")

_ADDRESS_WORDS = {
    "street": "st",
    "road": "rd",
    "avenue": "ave",
    "drive": "dr",
    "lane": "ln",
    "court": "ct",
    "place": "pl",
    "boulevard": "blvd",
    "crescent": "cres",
    "terrace": "tce",
    "highway": "hwy",
    "parkway": "pkwy",
    "circle": "cir",
    "north": "n",
    "south": "s",
    "east": "e",
    "west": "w",
    "apartment": "apt",
}


def phone_to_e164(raw: str | None, region: str) -> str | None:
    """E.164 for a phone written any usual way, or None when it cannot be a real number."""
    if not raw:
        return None
    try:
        number = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def register_lookups(conn: duckdb.DuckDBPyConnection, phones: Iterable[str], region: str) -> None:
    """Temp tables the normalising SQL joins: nicknames, and E.164 of each distinct phone."""
    pairs = nickname_table()
    nicknames = pa.table({"name": [n for n, _ in pairs], "canonical": [c for _, c in pairs]})
    raw = list(phones)
    # Arrow tables load in one step; executemany inserts row by row, far too slow at 1M phones.
    mapped = pa.table(
        {
            "raw": pa.array(raw, type=pa.string()),
            "e164": pa.array([phone_to_e164(p, region) for p in raw], type=pa.string()),
        }
    )
    for name, table in (("_nicknames", nicknames), ("_phones", mapped)):
        conn.register("_arrow_lookup", table)
        conn.execute(f"CREATE OR REPLACE TEMP TABLE {name} AS SELECT * FROM _arrow_lookup")
        conn.unregister("_arrow_lookup")


def _clean(expr: str) -> str:
    """Trimmed text, NULL for empty or junk placeholders."""
    junk = ", ".join(quote_literal(v) for v in JUNK_VALUES)
    return f"CASE WHEN lower(trim({expr})) IN ({junk}) THEN NULL ELSE trim({expr}) END"


def _name(expr: str) -> str:
    """lower case, no accents, apostrophes dropped, other punctuation to spaces, single spaces."""
    letters = (
        f"regexp_replace(replace(lower(strip_accents({_clean(expr)})), '''', ''), "
        "'[^a-z]+', ' ', 'g')"
    )
    return f"NULLIF(trim({letters}), '')"


def _address(expr: str) -> str:
    text = f"regexp_replace(lower(strip_accents({_clean(expr)})), '[^a-z0-9]+', ' ', 'g')"
    for word, short in _ADDRESS_WORDS.items():
        text = f"regexp_replace({text}, '\\b{word}\\b', '{short}', 'g')"
    return f"NULLIF(trim(regexp_replace({text}, ' +', ' ', 'g')), '')"


def _dob(expr: str, formats: Iterable[str], earliest: str = "1900-01-01") -> str:
    parsed = ", ".join(
        f"try_strptime({_clean(expr)}, {quote_literal(fmt)})::DATE" for fmt in formats
    )
    value = f"coalesce({parsed})"
    return (
        f"CASE WHEN {value} BETWEEN DATE {quote_literal(earliest)} AND current_date "
        f"THEN {value} END"
    )


def normalised_select(
    relation: str,
    roles: Iterable[str],
    date_formats: Iterable[str] = DEFAULT_DATE_FORMATS,
) -> str:
    """SELECT over ``relation`` (with ``record_id`` and the given role columns) giving
    ``NORMALISED_COLUMNS``. Call ``register_lookups`` on the same connection first."""
    present = set(roles)
    unknown = present - set(ROLES)
    if unknown:
        raise ValueError(f"unknown identity roles: {sorted(unknown)}; known: {', '.join(ROLES)}")

    def col(role: str) -> str:
        return f"CAST({quote_identifier(role)} AS VARCHAR)" if role in present else "NULL"

    # A full name fills the parts that are missing: "SMITH, John" or "John A Smith". It is split
    # on spaces before cleaning, so "O'Brien-Nunez" stays one surname.
    raw_full = _clean(col("full_name"))
    comma = f"strpos({raw_full}, ',') > 0"
    after_comma = f"trim(split_part({raw_full}, ',', 2))"
    tokens = f"string_split(regexp_replace({raw_full}, '\\s+', ' ', 'g'), ' ')"
    first_from_full = (
        f"CASE WHEN {comma} THEN {_name(f'split_part({after_comma}, chr(32), 1)')} "
        f"ELSE {_name(f'{tokens}[1]')} END"
    )
    last_from_full = (
        f"CASE WHEN {comma} THEN {_name(f'split_part({raw_full}, chr(44), 1)')} "
        f"WHEN len({tokens}) > 1 THEN {_name(f'{tokens}[len({tokens})]')} END"
    )
    middle_from_full = (
        f"CASE WHEN NOT {comma} AND len({tokens}) > 2 "
        f"THEN {_name(f'array_to_string({tokens}[2:len({tokens}) - 1], chr(32))')} END"
    )
    first = f"coalesce({_name(col('first_name'))}, {first_from_full})"
    last = f"coalesce({_name(col('last_name'))}, {last_from_full})"
    middle = f"coalesce({_name(col('middle_name'))}, {middle_from_full})"

    street = (
        f"concat_ws(' ', {_clean(col('street_number'))}, {_clean(col('street'))})"
        if {"street_number", "street"} & present
        else "NULL"
    )
    address = f"coalesce({_address(col('address'))}, {_address(street)})"
    email = _clean(col("email"))
    email_ok = f"regexp_full_match(lower({email}), '[^@\\s]+@[^@\\s]+\\.[a-z]{{2,}}')"
    postcode = f"NULLIF(regexp_replace(upper({_clean(col('postcode'))}), '[^A-Z0-9]', '', 'g'), '')"
    national_id = (
        f"NULLIF(regexp_replace({_clean(col('national_id'))}, '[^A-Za-z0-9]', '', 'g'), '')"
    )
    return f"""
        SELECT
            CAST(record_id AS VARCHAR) AS record_id,
            n.first_name,
            n.middle_name,
            n.last_name,
            coalesce(nick.canonical, n.first_name) AS first_name_canonical,
            n.dob, n.email, phones.e164 AS phone, n.address, n.city, n.state, n.postcode, n.country,
            n.national_id, n.gender
        FROM (
            SELECT
                record_id,
                {first} AS first_name,
                {middle} AS middle_name,
                {last} AS last_name,
                {_dob(col("dob"), date_formats)} AS dob,
                CASE WHEN {email_ok} THEN lower({email}) END AS email,
                {_clean(col("phone"))} AS phone_raw,
                {address} AS address,
                {_name(col("city"))} AS city,
                {_name(col("state"))} AS state,
                {postcode} AS postcode,
                {_name(col("country"))} AS country,
                {national_id} AS national_id,
                lower(left({_clean(col("gender"))}, 1)) AS gender
            FROM {relation}
        ) AS n
        LEFT JOIN _nicknames AS nick ON nick.name = n.first_name
        LEFT JOIN _phones AS phones ON phones.raw = n.phone_raw
    """


def distinct_phones(conn: duckdb.DuckDBPyConnection, relation: str) -> list[str]:
    rows = conn.execute(
        f"SELECT DISTINCT trim(CAST(phone AS VARCHAR)) FROM {relation} WHERE phone IS NOT NULL"
    ).fetchall()
    return [r[0] for r in rows]
