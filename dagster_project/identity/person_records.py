"""Every person-bearing record of every source, as one identity-input table.

Record ids are ``<raw table>:<id in that table>``: a CRM customer, a contact-centre call, an
application, an email recipient, a web/app device. Devices carry no identity fields of their own;
their logins tie them to people and are kept apart in ``identity.device_logins``.
"""

from __future__ import annotations

import duckdb

from .normalise import (
    DEFAULT_PHONE_REGION,
    ROLES,
    distinct_phones,
    normalised_select,
    register_lookups,
)

# The sources carry every identity role but these (their street is one address field).
INPUT_ROLES = tuple(
    role for role in ROLES if role not in {"middle_name", "street_number", "street", "national_id"}
)

# Sources whose records carry enough identity fields for probabilistic linkage.
LINKED_SOURCES = ("crm__customers", "contact_centre__calls", "outcomes__applications")

_PERSON_INPUT = """
CREATE OR REPLACE TABLE identity.person_input AS
WITH crm AS (
    SELECT * FROM raw.crm__customers
    QUALIFY row_number() OVER (
        PARTITION BY customer_id ORDER BY updated_at DESC, _source_file DESC, _row_number DESC) = 1
),
applications AS (
    SELECT * FROM raw.outcomes__applications
    QUALIFY row_number() OVER (
        PARTITION BY application_id ORDER BY event_ts, _source_file, _row_number) = 1
)
SELECT 'crm__customers:' || customer_id AS record_id, 'crm__customers' AS source_table,
    customer_id AS source_id, customer_id AS crm_customer_id,
    first_name, last_name, CAST(NULL AS VARCHAR) AS full_name,
    CAST(date_of_birth AS VARCHAR) AS dob, email, phone, street AS address, city, state,
    postcode, country, gender
FROM crm
UNION ALL BY NAME
SELECT 'contact_centre__calls:' || call_id AS record_id, 'contact_centre__calls' AS source_table,
    call_id AS source_id, customer_id AS crm_customer_id,
    caller_name AS full_name, caller_phone AS phone
FROM raw.contact_centre__calls
UNION ALL BY NAME
SELECT 'outcomes__applications:' || application_id AS record_id,
    'outcomes__applications' AS source_table, application_id AS source_id,
    customer_id AS crm_customer_id, first_name, last_name, CAST(date_of_birth AS VARCHAR) AS dob,
    email, phone
FROM applications
UNION ALL BY NAME
SELECT 'email__events:' || recipient_email AS record_id, 'email__events' AS source_table,
    recipient_email AS source_id, recipient_email AS email
FROM (SELECT DISTINCT recipient_email FROM raw.email__events)
"""

_DEVICE_LOGINS = """
CREATE OR REPLACE TABLE identity.device_logins AS
SELECT anonymous_id, lower(trim(login_email)) AS login_email, login_customer_id,
    count(*) AS logins, max(event_ts) AS last_login
FROM raw.web__events
WHERE event_type = 'login' AND (login_email IS NOT NULL OR login_customer_id IS NOT NULL)
GROUP BY ALL
"""

# Every email a CRM record has carried, so an old address still finds its customer.
_CRM_EMAILS = """
CREATE OR REPLACE TABLE identity.crm_email_history AS
SELECT DISTINCT 'crm__customers:' || customer_id AS record_id, lower(trim(email)) AS email
FROM raw.crm__customers WHERE email IS NOT NULL
"""


def build_person_records(
    conn: duckdb.DuckDBPyConnection, phone_region: str = DEFAULT_PHONE_REGION
) -> int:
    """Create ``identity.person_records`` (normalised) and its side tables; return the count."""
    conn.execute("CREATE SCHEMA IF NOT EXISTS identity")
    conn.execute(_PERSON_INPUT)
    conn.execute(_DEVICE_LOGINS)
    conn.execute(_CRM_EMAILS)
    register_lookups(conn, distinct_phones(conn, "identity.person_input"), phone_region)
    conn.execute(
        "CREATE OR REPLACE TABLE identity.person_records AS "
        "SELECT n.*, i.source_table, i.source_id, i.crm_customer_id FROM ("
        + normalised_select("identity.person_input", INPUT_ROLES)
        + ") AS n JOIN identity.person_input AS i USING (record_id)"
    )
    return conn.execute("SELECT count(*) FROM identity.person_records").fetchone()[0]
