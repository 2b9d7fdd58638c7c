"""Who is being forgotten: their customer keys and every identifier the warehouse holds for them.

The keys lead to the person's source records (``identity.customer_keys``); the raw rows of those
records give their emails, phones, device ids and row ids, as delivered and normalised. Those
strings are the terms every store is searched for.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import duckdb

from ..ingest.contracts import CONTRACTS, CONTRACTS_BY_NAME, Format
from ..warehouse import quote_identifier, quote_literal, table_exists
from .tombstones import PHONE_DIGITS, normalise

KEYS_TABLE = "identity.customer_keys"
# The source id of each kind of identity record, as an identifier kind.
SOURCE_ID_KIND = {
    "crm__customers": "customer_id",
    "web__events": "device",
    "email__events": "email",
}


class UnknownPerson(LookupError):
    """No customer key, email or phone matched anything the warehouse holds."""


@dataclass
class Person:
    customer_keys: set[str]
    identifiers: set[tuple[str, str]] = field(default_factory=set)  # (kind, value) to tombstone
    terms: set[str] = field(default_factory=set)  # every string to search the stores for
    # Raw rows that carry one of their emails or phones but belong to someone else (a household
    # member on the shared home phone): per raw table, the values of its first key column.
    spared: dict[str, set[str]] = field(default_factory=dict)
    # Emails and phones that other customers' records carry too: neither searched nor tombstoned.
    shared: set[tuple[str, str]] = field(default_factory=set)

    def _alternatives(self) -> str:
        """Every term, escaped, longest first (so a longer id wins over its prefix)."""
        return "|".join(re.escape(t) for t in sorted(self.terms, key=len, reverse=True))

    def pattern(self) -> re.Pattern[str]:
        """One regex matching any term as a whole token (not inside a longer id)."""
        alternatives = self._alternatives()
        return re.compile(rf"(?<![A-Za-z0-9_])(?:{alternatives})(?![A-Za-z0-9_])")

    def sql_pattern(self) -> str:
        """The same for DuckDB's RE2 (no look-behind): the term between non-word characters."""
        alternatives = self._alternatives()
        return rf"(^|[^A-Za-z0-9_])({alternatives})($|[^A-Za-z0-9_])"


def keys_for(
    conn: duckdb.DuckDBPyConnection, email: str | None = None, phone: str | None = None
) -> set[str]:
    """Customer keys whose raw records carry this email or phone (normalised)."""
    wanted = {
        ("email", normalise("email", email or "")),
        ("phone", normalise("phone", phone or "")),
    }
    wanted = {(k, v) for k, v in wanted if v}
    keys: set[str] = set()
    for contract in CONTRACTS:
        if not table_exists(conn, f"raw.{contract.name}"):
            continue
        for kind, value in wanted:
            columns = [f.name for f in contract.fields if f.format == Format(kind)]
            for column in columns:
                rows = _records_where(conn, contract.name, column, kind, value)
                keys |= _keys_of_rows(conn, contract.name, rows)
    return keys


def _normalised_sql(column: str, kind: str) -> str:
    c = quote_identifier(column)
    if kind == "email":
        return f"lower(trim({c}))"
    return f"right(regexp_replace({c}, '[^0-9]', '', 'g'), {PHONE_DIGITS})"


def _records_where(
    conn: duckdb.DuckDBPyConnection, table: str, column: str, kind: str, value: str
) -> list[dict]:
    frame = conn.execute(
        f"SELECT * FROM raw.{table} WHERE {_normalised_sql(column, kind)} = ?", [value]
    ).df()
    return frame.to_dict("records")


def _keys_of_rows(conn: duckdb.DuckDBPyConnection, table: str, rows: list[dict]) -> set[str]:
    """The customer keys of raw rows, through the identity record each row belongs to."""
    if not rows or not table_exists(conn, KEYS_TABLE):
        return set()
    candidates = set()
    for row in rows:
        for column in ("customer_id", "login_customer_id"):
            if row.get(column):
                candidates.add(f"crm__customers:{row[column]}")
        for column in ("call_id", "application_id"):
            if row.get(column):
                candidates.add(f"{table}:{row[column]}")
        for column in ("email", "recipient_email", "login_email"):
            if row.get(column):
                candidates.add(f"email__events:{row[column]}")
        if row.get("anonymous_id"):
            candidates.add(f"web__events:{row['anonymous_id']}")
    found = conn.execute(
        f"SELECT DISTINCT customer_key FROM {KEYS_TABLE} WHERE list_contains(?, record_id)",
        [sorted(candidates)],
    ).fetchall()
    return {k for (k,) in found}


def gather(conn: duckdb.DuckDBPyConnection, customer_keys: set[str]) -> Person:
    """Everything identifying the people behind ``customer_keys``; raises UnknownPerson."""
    person = Person(set(customer_keys))
    records = []
    if table_exists(conn, KEYS_TABLE):
        records = conn.execute(
            f"SELECT record_id, source_table, source_id FROM {KEYS_TABLE} "
            "WHERE list_contains(?, customer_key)",
            [sorted(customer_keys)],
        ).fetchall()
    if not records:
        raise UnknownPerson(
            f"no identity records for {', '.join(sorted(customer_keys)) or 'that person'}"
        )
    for key in customer_keys:
        person.identifiers.add(("customer_key", key))
    for record_id, source_table, source_id in records:
        person.terms.add(record_id)
        kind = SOURCE_ID_KIND.get(source_table)
        if kind:
            person.identifiers.add((kind, source_id))
        else:
            person.identifiers.add(("record", f"{source_table}:{source_id}"))
    _add_raw_rows(conn, person)
    _set_aside_shared(conn, person)
    person.terms |= _decision_ids(conn, customer_keys)
    person.terms |= {v for _, v in person.identifiers}
    person.terms |= {normalise(k, v) or v for k, v in person.identifiers if k == "email"}
    person.terms = {t for t in person.terms if t and len(t) >= 6}
    return person


def _set_aside_shared(conn: duckdb.DuckDBPyConnection, person: Person) -> None:
    """An email or phone that another customer's records also carry is theirs too: it finds no
    rows, is not searched for and gets no tombstone (their rows stay, and so does the value)."""
    for kind, value in list(person.identifiers):
        if kind not in ("email", "phone"):
            continue
        owners = keys_for(conn, **{kind: value})
        if owners - person.customer_keys:
            person.shared.add((kind, value))
    shared_values = {v for _, v in person.shared}
    shared_values |= {normalise(k, v) or v for k, v in person.shared}
    person.identifiers -= person.shared
    person.terms -= shared_values


def _decision_ids(conn: duckdb.DuckDBPyConnection, customer_keys: set[str]) -> set[str]:
    """The person's decision ids: the action log and the channel sinks know them by these."""
    tables = conn.execute(
        "SELECT schema_name || '.' || table_name FROM duckdb_columns() "
        "WHERE database_name = current_database() AND column_name IN "
        "('decision_id', 'customer_key') GROUP BY ALL HAVING count(*) = 2"
    ).fetchall()
    ids: set[str] = set()
    for (table,) in tables:
        rows = conn.execute(
            f"SELECT DISTINCT decision_id FROM {table} WHERE list_contains(?, customer_key)",
            [sorted(customer_keys)],
        ).fetchall()
        ids |= {str(d) for (d,) in rows if d}
    return ids


def raw_row_filter(contract_name: str, person: Person) -> str | None:
    """SQL predicate for the raw rows of ``person`` in one raw table (None: no column to ask)."""
    contract = CONTRACTS_BY_NAME[contract_name]
    ids = {kind: sorted({v for k, v in person.identifiers if k == kind}) for kind in _KINDS}
    ids["email"] = sorted({normalise("email", v) or "" for v in ids["email"]})
    ids["phone"] = sorted({normalise("phone", v) or "" for v in ids["phone"]})
    records = sorted(
        v.split(":", 1)[1].split("|")[0]
        for k, v in person.identifiers
        if k == "record" and v.startswith(contract_name + ":")
    )
    clauses = []
    for f in contract.fields:
        kind = (
            f.format.value
            if f.format
            else {"customer_id": "customer_id", "login_customer_id": "customer_id"}.get(f.name)
            or {"anonymous_id": "device", "customer_key": "customer_key"}.get(f.name)
        )
        if kind and ids.get(kind):
            expr = (
                _normalised_sql(f.name, kind)
                if kind in ("email", "phone")
                else quote_identifier(f.name)
            )
            values = ", ".join(quote_literal(v) for v in ids[kind])
            clauses.append(f"{expr} IN ({values})")
    if records:
        values = ", ".join(quote_literal(v) for v in records)
        clauses.append(f"{quote_identifier(contract.key[0])} IN ({values})")
    if not clauses:
        return None
    matches = " OR ".join(f"({c})" for c in clauses)
    spared = person.spared.get(contract_name)
    if not spared:
        return matches
    values = ", ".join(quote_literal(v) for v in sorted(spared))
    key = f"CAST({quote_identifier(contract.key[0])} AS VARCHAR)"
    return f"({matches}) AND {key} NOT IN ({values})"


_KINDS = ("email", "phone", "customer_id", "device", "customer_key")
_ROW_IDS = ("event_id", "holding_id", "note_id", "call_id", "application_id", "message_id")


def _add_raw_rows(conn: duckdb.DuckDBPyConnection, person: Person) -> None:
    """Two passes over the raw tables: the records' rows give emails and phones, which find the
    rows that only those carry (a call from their phone, an application with their email)."""
    for _ in range(2):
        for contract in CONTRACTS:
            table = f"raw.{contract.name}"
            where = raw_row_filter(contract.name, person)
            if where is None or not table_exists(conn, table):
                continue
            for row in conn.execute(f"SELECT * FROM {table} WHERE {where}").df().to_dict("records"):
                owners = _keys_of_rows(conn, contract.name, [row])
                if owners and owners.isdisjoint(person.customer_keys):
                    person.spared.setdefault(contract.name, set()).add(str(row[contract.key[0]]))
                    continue
                _harvest(contract.name, row, person)


def _harvest(table: str, row: dict, person: Person) -> None:
    contract = CONTRACTS_BY_NAME[table]
    for f in contract.fields:
        value = row.get(f.name)
        if value is None or value != value:  # None or NaN
            continue
        text = str(value)
        if f.format is Format.EMAIL:
            person.identifiers.add(("email", text))
        elif f.format is Format.PHONE:
            person.identifiers.add(("phone", text))
            person.terms.add(text)
        elif f.name in ("customer_id", "login_customer_id"):
            person.identifiers.add(("customer_id", text))
        elif f.name == "anonymous_id":
            person.identifiers.add(("device", text))
        elif f.name in _ROW_IDS:
            person.terms.add(text)
    key = "|".join(str(row.get(k)) for k in contract.key)
    person.identifiers.add(("record", f"{table}:{key}"))
