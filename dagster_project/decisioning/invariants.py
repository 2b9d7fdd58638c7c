"""What today's plan must never hold, asked of the warehouse: contacts on a channel the customer
has not consented to, and contacts to the global control group.

"Today's plan" is every decision of the latest decision date (a later micro-batch adds to it).
Consent is read from ``marts.customer_contactability`` (``can_<channel>``: consent, not
suppressed, reachable); a customer missing there has no consent. The control group is the
``control`` flag each row carries, and a customer holding a ``control`` row that day.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb

from ..settings import OUTBOUND_CHANNELS
from ..warehouse import table_exists
from .store import ACTIONS_TABLE

CONTACTABILITY_TABLE = "marts.customer_contactability"

_TODAY = f"""
    SELECT * FROM {ACTIONS_TABLE}
    WHERE decision_date = (SELECT max(decision_date) FROM {ACTIONS_TABLE})
"""

_CONSENTED = " OR ".join(
    f"(d.channel = '{c}' AND coalesce(c.can_{c}, false))" for c in OUTBOUND_CHANNELS
)

WITHOUT_CONSENT_SQL = f"""
SELECT d.decision_id, d.channel
FROM ({_TODAY}) AS d
LEFT JOIN {CONTACTABILITY_TABLE} AS c USING (customer_key)
WHERE d.action = 'contact' AND NOT ({_CONSENTED})
ORDER BY d.decision_id
"""

TO_CONTROL_GROUP_SQL = f"""
WITH today AS ({_TODAY})
SELECT d.decision_id, d.channel
FROM today AS d
WHERE d.action = 'contact'
    AND (d.control OR d.customer_key IN (SELECT customer_key FROM today WHERE action = 'control'))
ORDER BY d.decision_id
"""


@dataclass(frozen=True)
class Violations:
    contacts_checked: int
    decision_ids: list[str]
    by_channel: dict[str, int]

    @property
    def count(self) -> int:
        return len(self.decision_ids)


def _violations(conn: duckdb.DuckDBPyConnection, sql: str) -> Violations:
    if not table_exists(conn, ACTIONS_TABLE):
        return Violations(0, [], {})
    (checked,) = conn.execute(
        f"SELECT count(*) FROM ({_TODAY}) WHERE action = 'contact'"
    ).fetchone()
    rows = conn.execute(sql).fetchall()
    by_channel: dict[str, int] = {}
    for _, channel in rows:
        by_channel[str(channel)] = by_channel.get(str(channel), 0) + 1
    return Violations(int(checked), [r[0] for r in rows], by_channel)


def contacts_without_consent(conn: duckdb.DuckDBPyConnection) -> Violations:
    """Today's contacts on a channel the customer may not be contacted on."""
    return _violations(conn, WITHOUT_CONSENT_SQL)


def contacts_to_control_group(conn: duckdb.DuckDBPyConnection) -> Violations:
    """Today's contacts of customers in the global control group."""
    return _violations(conn, TO_CONTROL_GROUP_SQL)
