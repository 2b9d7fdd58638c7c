"""Declared contracts for every landing source.

A contract names the landing folder of one source entity, its columns with their types, which are
required, which formats they must follow, and the key that makes a row unique. Ingestion validates
every row against it; rows that break it go to quarantine with the reason. The contracts are data:
the loader turns them into SQL, nothing here is executed.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from ..settings import CONSENT_CHANNELS, HELD_PRODUCTS, OUTBOUND_CHANNELS, PRODUCTS


class FieldType(StrEnum):
    STRING = "VARCHAR"
    INTEGER = "BIGINT"
    DECIMAL = "DOUBLE"
    BOOLEAN = "BOOLEAN"
    DATE = "DATE"
    TIMESTAMP = "TIMESTAMP"  # always UTC; offsets in the file are converted


class Format(StrEnum):
    EMAIL = "email"
    PHONE = "phone"


@dataclass(frozen=True)
class Field:
    name: str
    type: FieldType = FieldType.STRING
    required: bool = False
    format: Format | None = None
    allowed: tuple[str, ...] = ()
    description: str = ""


@dataclass(frozen=True)
class SourceContract:
    source: str
    entity: str
    fields: tuple[Field, ...]
    key: tuple[str, ...]
    description: str = ""

    @property
    def name(self) -> str:
        return f"{self.source}__{self.entity}"

    @property
    def landing_subdir(self) -> str:
        """Folder under ``landing/`` the source delivers into."""
        return f"{self.source}/{self.entity}"

    @property
    def field_names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields)


S, INT, DEC, BOOL, DATE, TS = (
    FieldType.STRING,
    FieldType.INTEGER,
    FieldType.DECIMAL,
    FieldType.BOOLEAN,
    FieldType.DATE,
    FieldType.TIMESTAMP,
)


def _consents() -> tuple[Field, ...]:
    fields: list[Field] = []
    for channel in CONSENT_CHANNELS:
        fields.append(Field(f"consent_{channel}", BOOL, description=f"opted in to {channel}"))
        fields.append(Field(f"consent_{channel}_at", TS, description="when that consent was given"))
    return tuple(fields)


CRM_CUSTOMERS = SourceContract(
    "crm",
    "customers",
    description="CRM customer records: a full snapshot, then daily deltas of changed records.",
    key=("customer_id", "updated_at"),
    fields=(
        Field("customer_id", S, required=True, description="CRM id"),
        Field("first_name", S),
        Field("last_name", S),
        Field("email", S, format=Format.EMAIL),
        Field("phone", S, format=Format.PHONE),
        Field("street", S, description="street number and name"),
        Field("city", S),
        Field("state", S),
        Field("postcode", S),
        Field("country", S),
        Field("date_of_birth", DATE),
        Field("gender", S, allowed=("F", "M", "X")),
        Field("time_zone", S, description="IANA time zone used for quiet hours"),
        Field("branch_id", S),
        Field("advisor_id", S),
        Field("customer_since", DATE),
        *_consents(),
        Field("do_not_contact", BOOL),
        Field("updated_at", TS, required=True, description="when the CRM last changed the record"),
    ),
)

CRM_PRODUCTS = SourceContract(
    "crm",
    "products",
    description="Products each customer holds, with balances.",
    key=("holding_id", "updated_at"),
    fields=(
        Field("holding_id", S, required=True),
        Field("customer_id", S, required=True),
        Field("product", S, required=True, allowed=HELD_PRODUCTS),
        Field("opened_at", DATE, required=True),
        Field("closed_at", DATE),
        Field("balance", DEC),
        Field("updated_at", TS, required=True),
    ),
)

CRM_ADVISOR_NOTES = SourceContract(
    "crm",
    "advisor_notes",
    description="Free-text notes advisors write about conversations with a customer.",
    key=("note_id",),
    fields=(
        Field("note_id", S, required=True),
        Field("customer_id", S, required=True),
        Field("advisor_id", S),
        Field("created_at", TS, required=True),
        Field("note", S),
    ),
)

WEB_EVENTS = SourceContract(
    "web",
    "events",
    description="Web and app clickstream: anonymous devices, sessions, page views, logins.",
    key=("event_id",),
    fields=(
        Field("event_id", S, required=True),
        Field("event_ts", TS, required=True),
        Field(
            "event_type",
            S,
            required=True,
            allowed=("page_view", "login", "app_open", "calculator_submit"),
        ),
        Field("anonymous_id", S, required=True, description="cookie or device id"),
        Field("session_id", S, required=True),
        Field("platform", S, allowed=("web", "ios", "android")),
        Field("page_path", S),
        Field(
            "page_category",
            S,
            allowed=("home", "product", "rates", "calculator", "support", "account", "blog"),
        ),
        Field("product_topic", S, allowed=PRODUCTS),
        Field("login_email", S, format=Format.EMAIL, description="email typed at login"),
        Field("login_customer_id", S, description="CRM id of the logged-in account"),
        Field("referrer", S),
        Field("utm_campaign", S),
    ),
)

CONTACT_CENTRE_CALLS = SourceContract(
    "contact_centre",
    "calls",
    description="Contact-centre calls with the caller as the agent captured them.",
    key=("call_id",),
    fields=(
        Field("call_id", S, required=True),
        Field("call_started_at", TS, required=True),
        Field("caller_phone", S, format=Format.PHONE),
        Field("caller_name", S, description="the name as the agent typed it"),
        Field("customer_id", S, description="CRM id when the agent verified the caller"),
        Field(
            "reason_code",
            S,
            required=True,
            allowed=(
                "mortgage_preapproval",
                "mortgage_rates",
                "card_enquiry",
                "savings_rates",
                "insurance_quote",
                "loan_enquiry",
                "balance_enquiry",
                "complaint",
                "address_change",
                "other",
            ),
        ),
        Field(
            "disposition",
            S,
            allowed=("resolved", "callback_requested", "transferred", "referred_to_advisor"),
        ),
        Field("duration_seconds", INT),
        Field("agent_id", S),
        Field("note", S),
    ),
)

EMAIL_EVENTS = SourceContract(
    "email",
    "events",
    description="Email engagement from the email service provider.",
    key=("event_id",),
    fields=(
        Field("event_id", S, required=True),
        Field("event_ts", TS, required=True),
        Field(
            "event_type",
            S,
            required=True,
            allowed=("send", "open", "click", "unsubscribe", "bounce"),
        ),
        Field("message_id", S, required=True),
        Field("campaign_id", S),
        Field("recipient_email", S, required=True, format=Format.EMAIL),
        Field("product_topic", S, allowed=PRODUCTS),
        Field("link_url", S),
    ),
)

MESSAGING_EVENTS = SourceContract(
    "messaging",
    "events",
    description="Push and SMS engagement from the messaging provider. Messages are addressed by "
    "the platform's customer key and carry the decision id, so events need no identity matching.",
    key=("event_id",),
    fields=(
        Field("event_id", S, required=True),
        Field("event_ts", TS, required=True),
        Field(
            "channel", S, required=True, allowed=tuple(c for c in OUTBOUND_CHANNELS if c != "email")
        ),
        Field(
            "event_type",
            S,
            required=True,
            allowed=("send", "open", "click", "opt_out", "failed"),
            description="open: a push tapped; click: a link followed; opt_out: STOP or push off",
        ),
        Field("message_id", S, required=True, description="the decision id the message carried"),
        Field("customer_key", S, required=True, description="the external user id it was sent to"),
        Field("product_topic", S, allowed=PRODUCTS),
        Field("link_url", S),
    ),
)

OUTCOMES_APPLICATIONS = SourceContract(
    "outcomes",
    "applications",
    description="Product applications and their outcomes, with the applicant as they filled in.",
    key=("application_id", "stage"),
    fields=(
        Field("application_id", S, required=True),
        Field("event_ts", TS, required=True),
        Field(
            "stage",
            S,
            required=True,
            allowed=("started", "submitted", "approved", "declined", "converted"),
        ),
        Field("product", S, required=True, allowed=PRODUCTS),
        Field("channel", S, allowed=("web", "app", "branch", "phone")),
        Field("customer_id", S),
        Field("first_name", S),
        Field("last_name", S),
        Field("email", S, format=Format.EMAIL),
        Field("phone", S, format=Format.PHONE),
        Field("date_of_birth", DATE),
        Field("amount", DEC),
    ),
)

CONTRACTS: tuple[SourceContract, ...] = (
    CRM_CUSTOMERS,
    CRM_PRODUCTS,
    CRM_ADVISOR_NOTES,
    WEB_EVENTS,
    CONTACT_CENTRE_CALLS,
    EMAIL_EVENTS,
    MESSAGING_EVENTS,
    OUTCOMES_APPLICATIONS,
)

CONTRACTS_BY_NAME = {c.name: c for c in CONTRACTS}
