"""Deterministic identity links: CRM ids, exact emails, and devices through their logins.

* A record that names a CRM id (a verified call, an existing customer's application) belongs to
  that CRM customer.
* Records sharing an exact normalised email belong together, with one deliberate exception: an
  email carried by CRM records of clearly different people (different given names and dates of
  birth, a household's shared inbox) links nobody.
* Devices are attached after people are resolved, never used as a bridge between people: a
  device goes to the person with most of its logins; a device whose logins name several people
  is marked shared. So one family tablet cannot merge a household.
"""

from __future__ import annotations

import duckdb
import pandas as pd

DEVICE_PREFIX = "web__events:"

_CRM_ID_EDGES = """
SELECT p.record_id AS left, 'crm__customers:' || p.crm_customer_id AS right
FROM identity.person_records AS p
JOIN identity.person_records AS c ON c.record_id = 'crm__customers:' || p.crm_customer_id
WHERE p.source_table <> 'crm__customers' AND p.crm_customer_id IS NOT NULL
"""

_EMAIL_OWNERS = """
CREATE OR REPLACE TEMP TABLE _email_owners AS
SELECT DISTINCT record_id, email FROM (
    SELECT record_id, email FROM identity.person_records WHERE email IS NOT NULL
    UNION ALL
    SELECT record_id, email FROM identity.crm_email_history)
"""

# An email two CRM people share: their given names and dates of birth both differ.
_SHARED_EMAILS = """
SELECT DISTINCT a.email
FROM _email_owners AS a
JOIN _email_owners AS b ON a.email = b.email AND a.record_id < b.record_id
JOIN identity.person_records AS pa ON pa.record_id = a.record_id
JOIN identity.person_records AS pb ON pb.record_id = b.record_id
WHERE pa.source_table = 'crm__customers' AND pb.source_table = 'crm__customers'
    AND pa.first_name_canonical IS DISTINCT FROM pb.first_name_canonical
    AND pa.dob IS DISTINCT FROM pb.dob
"""


def deterministic_edges(conn: duckdb.DuckDBPyConnection) -> tuple[pd.DataFrame, int]:
    """Edges (``left``, ``right``) from CRM ids and exact emails; and how many emails were
    refused as shared."""
    conn.execute(_EMAIL_OWNERS)
    shared = conn.execute(_SHARED_EMAILS).df()["email"]
    conn.register("_shared_emails", pd.DataFrame({"email": shared}))
    email_edges = conn.execute(
        """
        SELECT record_id AS left, first_value(record_id) OVER (
            PARTITION BY email ORDER BY record_id) AS right
        FROM _email_owners
        WHERE email NOT IN (SELECT email FROM _shared_emails)
        """
    ).df()
    conn.unregister("_shared_emails")
    edges = pd.concat([conn.execute(_CRM_ID_EDGES).df(), email_edges], ignore_index=True)
    return edges[edges["left"] != edges["right"]], len(shared)


def attach_devices(conn: duckdb.DuckDBPyConnection, clusters: pd.DataFrame) -> pd.DataFrame:
    """Clusters for devices: ``record_id``, ``cluster_id``, ``shared_device``.

    A login names a CRM id or an email; it points at the cluster of the record that carries it
    (or, for an email nobody else has, at a new person made of the devices that used it).
    """
    conn.register("_clusters", clusters)
    devices = conn.execute(
        """
        WITH owners AS (
            SELECT 'crm__customers:' || login_customer_id AS record_id, anonymous_id, logins,
                last_login
            FROM identity.device_logins WHERE login_customer_id IS NOT NULL
            UNION ALL
            SELECT coalesce(o.record_id, 'login:' || d.login_email), d.anonymous_id, d.logins,
                d.last_login
            FROM identity.device_logins AS d
            LEFT JOIN (SELECT email, min(record_id) AS record_id FROM _email_owners
                       GROUP BY ALL) AS o ON o.email = d.login_email
            WHERE d.login_email IS NOT NULL
        ),
        votes AS (
            SELECT anonymous_id, coalesce(c.cluster_id, o.record_id) AS cluster_id,
                sum(logins) AS logins, max(last_login) AS last_login
            FROM owners AS o LEFT JOIN _clusters AS c USING (record_id)
            GROUP BY ALL
        )
        SELECT ? || anonymous_id AS record_id,
            arg_max(cluster_id, (logins, last_login, cluster_id)) AS cluster_id,
            count(*) > 1 AS shared_device
        FROM votes GROUP BY anonymous_id
        """,
        [DEVICE_PREFIX],
    ).df()
    conn.unregister("_clusters")
    return devices
