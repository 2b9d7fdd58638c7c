"""A landing folder written by hand, the way a new user's first export looks: a few customers
(two of them share a household's address and phone), their products, a week of web visits with
logins, calls, emails with repeat opens and one application; no advisor notes and no messaging
provider at all. Nothing here comes from the demo world's generator. Also the environment of the
`journey` and Dagster processes the tests run on such a folder."""

from __future__ import annotations

from pathlib import Path

CONSENT = "true,2024-01-02T09:00:00Z"
CUSTOMERS = f"""customer_id,first_name,last_name,email,phone,street,city,state,postcode,country,date_of_birth,gender,time_zone,branch_id,advisor_id,customer_since,consent_email,consent_email_at,consent_sms,consent_sms_at,consent_push,consent_push_at,consent_phone,consent_phone_at,do_not_contact,updated_at
H-001,Ana,Lopez,ana.lopez@mail.test,+1 415 555 0101,12 Oak St,San Francisco,CA,94110,US,1985-03-04,F,America/Los_Angeles,B01,A01,2015-06-01,{CONSENT},{CONSENT},false,,{CONSENT},false,2026-01-05T08:00:00Z
H-002,Luis,Lopez,luis.lopez@mail.test,+1 415 555 0101,12 Oak St,San Francisco,CA,94110,US,1983-11-20,M,America/Los_Angeles,B01,A01,2016-02-11,{CONSENT},false,,false,,false,,false,2026-01-05T08:00:00Z
H-003,Mei,Chen,mei.chen@mail.test,+1 212 555 0199,400 Broadway,New York,NY,10013,US,1990-07-15,F,America/New_York,B02,A02,2020-09-30,{CONSENT},{CONSENT},{CONSENT},{CONSENT},false,2026-01-05T08:00:00Z
H-004,Tom,Baker,tom.baker@mail.test,+1 312 555 0142,9 Lake Ave,Chicago,IL,60601,US,1972-01-30,M,America/Chicago,B03,A03,2009-04-18,false,,false,,false,,{CONSENT},false,2026-01-05T08:00:00Z
H-005,Sara,Kim,sara.kim@mail.test,+1 206 555 0177,77 Pine St,Seattle,WA,98101,US,1995-05-05,F,America/Los_Angeles,B04,A04,2022-12-01,{CONSENT},{CONSENT},{CONSENT},{CONSENT},false,2026-01-05T08:00:00Z
H-006,Omar,Haddad,omar.haddad@mail.test,+1 617 555 0123,5 Beacon St,Boston,MA,02108,US,1968-09-09,M,America/New_York,B05,A05,2001-03-03,{CONSENT},{CONSENT},{CONSENT},{CONSENT},true,2026-01-05T08:00:00Z
"""
PRODUCTS = """holding_id,customer_id,product,opened_at,closed_at,balance,updated_at
P-1,H-001,current_account,2015-06-01,,2400.50,2026-01-05T08:00:00Z
P-2,H-002,current_account,2016-02-11,,830.00,2026-01-05T08:00:00Z
P-3,H-003,savings,2020-09-30,,15000,2026-01-05T08:00:00Z
P-4,H-003,credit_card,2021-01-15,,-420.10,2026-01-05T08:00:00Z
P-5,H-004,current_account,2009-04-18,,120.00,2026-01-05T08:00:00Z
P-6,H-005,current_account,2022-12-01,,3100,2026-01-05T08:00:00Z
P-7,H-006,mortgage,2001-03-03,,-180000,2026-01-05T08:00:00Z
"""
WEB = """{"event_id":"w1","event_ts":"2026-01-06T19:02:00Z","event_type":"login","anonymous_id":"dev-a","session_id":"s1","platform":"web","page_path":"/login","page_category":"account","login_email":"ana.lopez@mail.test"}
{"event_id":"w2","event_ts":"2026-01-06T19:04:00Z","event_type":"page_view","anonymous_id":"dev-a","session_id":"s1","platform":"web","page_path":"/mortgages/rates","page_category":"rates","product_topic":"mortgage"}
{"event_id":"w3","event_ts":"2026-01-07T20:10:00Z","event_type":"page_view","anonymous_id":"dev-a","session_id":"s2","platform":"web","page_path":"/mortgages/rates","page_category":"rates","product_topic":"mortgage"}
{"event_id":"w4","event_ts":"2026-01-07T20:12:00Z","event_type":"calculator_submit","anonymous_id":"dev-a","session_id":"s2","platform":"web","page_path":"/mortgages/calculator","page_category":"calculator","product_topic":"mortgage"}
{"event_id":"w5","event_ts":"2026-01-08T07:30:00Z","event_type":"app_open","anonymous_id":"dev-m","session_id":"s3","platform":"ios","login_customer_id":"H-003"}
{"event_id":"w6","event_ts":"2026-01-08T07:31:00Z","event_type":"page_view","anonymous_id":"dev-m","session_id":"s3","platform":"ios","page_path":"/savings","page_category":"product","product_topic":"savings"}
{"event_id":"w7","event_ts":"2026-01-09T12:00:00Z","event_type":"page_view","anonymous_id":"dev-x","session_id":"s4","platform":"web","page_path":"/","page_category":"home"}
"""
CALLS = """call_id,call_started_at,caller_phone,caller_name,customer_id,reason_code,disposition,duration_seconds,agent_id,note
K-1,2026-01-08T16:00:00Z,(415) 555-0101,ana lopez,,mortgage_preapproval,referred_to_advisor,540,AG1,asked about pre-approval
K-2,2026-01-09T15:20:00Z,+12125550199,Mei Chen,H-003,savings_rates,resolved,200,AG2,
"""
EMAIL = """event_id,event_ts,event_type,message_id,campaign_id,recipient_email,product_topic,link_url
E-1,2026-01-06T10:00:00Z,send,M-1,CAMP-RATES,ana.lopez@mail.test,mortgage,
E-2,2026-01-06T10:05:00Z,open,M-1,CAMP-RATES,ana.lopez@mail.test,mortgage,
E-3,2026-01-06T18:40:00Z,open,M-1,CAMP-RATES,ana.lopez@mail.test,mortgage,
E-4,2026-01-06T18:41:00Z,click,M-1,CAMP-RATES,ana.lopez@mail.test,mortgage,https://bank.test/mortgages/rates
E-5,2026-01-06T10:00:00Z,send,M-2,CAMP-RATES,mei.chen@mail.test,mortgage,
E-6,2026-01-06T10:00:00Z,send,M-3,CAMP-RATES,tom.baker@mail.test,mortgage,
E-7,2026-01-06T10:01:00Z,bounce,M-3,CAMP-RATES,tom.baker@mail.test,mortgage,
"""
APPLICATIONS = """application_id,event_ts,stage,product,channel,customer_id,first_name,last_name,email,phone,date_of_birth,amount
APP-1,2026-01-09T18:00:00Z,started,mortgage,web,,Ana,Lopez,ana.lopez@mail.test,,1985-03-04,350000
"""

FILES = {
    "crm/customers/customers_2026-01-05.csv": CUSTOMERS,
    "crm/products/products_2026-01-05.csv": PRODUCTS,
    "web/events/web_2026-01-09.jsonl": WEB,
    "contact_centre/calls/calls_2026-01-09.csv": CALLS,
    "email/events/esp_export_2026-01-09.csv": EMAIL,
    "outcomes/applications/applications_2026-01-09.csv": APPLICATIONS,
}


def write_landing(landing: Path) -> dict[str, int]:
    """Write the files; the rows each table should load."""
    rows = {}
    for name, text in FILES.items():
        path = landing / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        table = "__".join(name.split("/")[:2])
        rows[table] = len(text.strip().splitlines()) - (0 if name.endswith(".jsonl") else 1)
    return rows


def pipeline_env(root: Path, **settings: str) -> dict[str, str]:
    """The environment of a `journey` or Dagster process on ``root/data`` with its own instance
    (``root/dagster_home``, the shipped instance config) and the embedded MLflow store."""
    import os
    import shutil

    from dagster_project.settings import REPO_ROOT

    home = root / "dagster_home"
    home.mkdir(exist_ok=True)
    shutil.copy(REPO_ROOT / "dagster_instance.yaml", home / "dagster.yaml")
    env = os.environ | {"DAGSTER_HOME": str(home), "JOURNEY_DATA_DIR": str(root / "data")}
    env.pop("MLFLOW_TRACKING_URI", None)
    return env | settings
