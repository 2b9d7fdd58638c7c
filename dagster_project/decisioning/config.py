"""Marketing-owned config (``config/*.yaml``) as validated data.

Three files: ``offers.yaml`` (what can be offered, to whom, where, when), ``channels.yaml`` (how
each channel delivers, its caps and quiet hours) and ``contact_policy.yaml`` (caps across
channels, spacing, back-off, the control group), read by ``config_yaml`` (no repeated keys, no
base-60 numbers). Every error names the file, the line, the key path and the value; dates are real
ISO dates, times quoted "HH:MM", endpoints what their adapter may use (``channel_endpoints``).
Eligibility rules are data (field, operator, value): nothing in the YAML is executed.
The policy hash is a digest of the validated config, recorded on every decision.
"""

from __future__ import annotations

import hashlib
import json
import re
from datetime import date, datetime, time
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    StrictBool,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from ..settings import OUTBOUND_CHANNELS, PRODUCTS
from .channel_endpoints import smtp_endpoint, webhook_url
from .config_yaml import YamlFileError, key_path_text, load_yaml

OFFERS_FILE = "offers.yaml"
CHANNELS_FILE = "channels.yaml"
POLICY_FILE = "contact_policy.yaml"


class ConfigError(ValueError):
    """Invalid marketing config; the message names the file, the key and the value."""


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


_ISO_DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
_HH_MM = re.compile(r"^(?:[01][0-9]|2[0-3]):[0-5][0-9]$")


def _iso_date(value: object) -> date:
    """A real calendar date: YAML's own (2026-03-31) or the same quoted; nothing else."""
    if isinstance(value, datetime):
        raise ValueError("a date must be YYYY-MM-DD, without a time of day")
    if isinstance(value, date):
        return value
    if isinstance(value, str) and _ISO_DATE.match(value):
        try:
            return date.fromisoformat(value)
        except ValueError:
            raise ValueError(f"{value} is not a real date") from None
    raise ValueError("a date must be a real date written YYYY-MM-DD, e.g. 2026-03-31")


def _clock_time(value: object) -> time:
    """A local wall-clock time, hours and minutes: a quoted "HH:MM" in the YAML."""
    if isinstance(value, time):
        if value.tzinfo is not None or value.second or value.microsecond:
            raise ValueError("a time must be a local hour and minute, without seconds or zone")
        return value
    if isinstance(value, str) and _HH_MM.match(value):
        return time.fromisoformat(value)
    if isinstance(value, int | float) and not isinstance(value, bool):
        hint = '"21:00"'
        if isinstance(value, int) and 0 <= value <= 2359 and value % 100 < 60:
            hint = f'"{value // 100:02d}:{value % 100:02d}"'
        raise ValueError(
            f'a time must be a quoted "HH:MM" string; YAML reads the unquoted {value} as a '
            f"number, so quote it: {hint}"
        )
    raise ValueError('a time must be a quoted "HH:MM" string from "00:00" to "23:59"')


IsoDate = Annotated[date, BeforeValidator(_iso_date)]
ClockTime = Annotated[
    time,
    BeforeValidator(_clock_time),
    PlainSerializer(lambda t: t.strftime("%H:%M"), return_type=str, when_used="json"),
]


Operator = Literal["eq", "ne", "lt", "lte", "gt", "gte", "in", "not_in", "is_null", "not_null"]


class Condition(Strict):
    """One test of one column of the customer's decision row, e.g. holds_mortgage eq 0."""

    field: str = Field(min_length=1)
    op: Operator
    value: Any = None

    @model_validator(mode="after")
    def _value_fits_operator(self) -> Condition:
        if self.op in ("is_null", "not_null"):
            if self.value is not None:
                raise ValueError(f"{self.op} takes no value")
        elif self.op in ("in", "not_in"):
            if not isinstance(self.value, list) or not self.value:
                raise ValueError(f"{self.op} needs a non-empty list as value")
        elif self.value is None or isinstance(self.value, (list, dict)):
            raise ValueError(f"{self.op} needs a single value")
        return self


class Eligibility(Strict):
    """Every condition in ``all`` holds, and at least one in ``any`` (when given) does."""

    all: list[Condition] = []
    any: list[Condition] = []


class Offer(Strict):
    id: str = Field(pattern=r"^[a-z0-9_]+$")
    product: Literal[PRODUCTS]  # type: ignore[valid-type]
    value: float = Field(gt=0, description="value of one conversion, in the reporting currency")
    business_weight: float = Field(default=1.0, gt=0)
    channels: list[Literal[OUTBOUND_CHANNELS]] = Field(min_length=1)  # type: ignore[valid-type]
    template: str = Field(min_length=1)
    starts: IsoDate
    ends: IsoDate
    eligibility: Eligibility = Eligibility()
    advisor_task: bool = False  # also flag the customer's advisor when this offer is chosen
    content: dict[str, str] = {}  # offer facts for the template (current rates, say)

    @model_validator(mode="after")
    def _dates_in_order(self) -> Offer:
        if self.ends < self.starts:
            raise ValueError(f"ends {self.ends} is before starts {self.starts}")
        return self


class OffersConfig(Strict):
    offers: list[Offer] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique_ids(self) -> OffersConfig:
        ids = [o.id for o in self.offers]
        repeated = sorted({i for i in ids if ids.count(i) > 1})
        if repeated:
            raise ValueError(f"offer ids must be unique; repeated: {repeated}")
        return self


class RollingCap(Strict):
    max: int = Field(ge=0)
    days: int = Field(ge=1)


class QuietHours(Strict):
    """Local time window in which nothing is sent; may wrap midnight (21:00 to 08:00)."""

    start: ClockTime
    end: ClockTime


AdapterType = Literal["local_sink", "smtp", "webhook"]


class ChannelDelivery(Strict):
    """How a channel's messages leave: the adapter and its endpoint, checked for that adapter
    (the rules are channel_endpoints'; a local sink's folder is checked against the data
    directory when the adapters are built)."""

    adapter: AdapterType = "local_sink"
    # A webhook may use plain http:// to a host other than loopback (message and Authorization
    # header unencrypted on the network) only when this is set, for this channel.
    allow_insecure_http: StrictBool = False
    # SMTP host:port or webhook URL; local_sink: a folder under <data dir>/outbox/.
    endpoint: str | None = Field(default=None, validate_default=True)
    auth_env: str | None = Field(  # environment variable holding the webhook's auth header
        default=None, pattern=r"^[A-Za-z_][A-Za-z0-9_]*$"
    )

    @field_validator("endpoint")
    @classmethod
    def _endpoint_fits_adapter(cls, endpoint: str | None, info: ValidationInfo) -> str | None:
        adapter = info.data.get("adapter")
        if adapter in ("smtp", "webhook") and not endpoint:
            raise ValueError(f"adapter {adapter} needs an endpoint")
        if adapter == "smtp":
            smtp_endpoint(endpoint)
        elif adapter == "webhook":
            webhook_url(endpoint, info.data.get("allow_insecure_http", False))
        return endpoint


class OutboundChannel(ChannelDelivery):
    adapter: AdapterType
    caps: list[RollingCap] = []
    quiet_hours: QuietHours | None = None
    # email From address: one address, no spaces or line breaks (it becomes a mail header)
    # An address, or a display name and an address ("Bank <offers@bank.example>"); no line
    # breaks, which would add mail headers.
    sender: str | None = Field(
        default=None,
        pattern=r"^(?:[^\r\n<>@]*<[^\s@<>]+@[^\s@<>]+>|[^\s@<>]+@[^\s@<>]+)$",
    )
    # Response rate assumed where the channel-response model has no score for this channel yet
    # (it learns a channel only once contacts on it and their responses reach the timeline).
    prior_response: float = Field(default=0.1, gt=0, le=1)
    # Send each contact at the customer's best hour for this channel (their engagement history's
    # weekly profile, shrunk to the population's) within the policy's send-time horizon, outside
    # quiet hours; off: as soon as quiet hours allow.
    optimise_send_time: bool = False


class AdvisorChannel(ChannelDelivery):
    tasks_per_advisor_per_day: int = Field(default=5, ge=0)
    min_offer_value: float = Field(default=0.0, ge=0)  # only offers worth a human's time...
    min_priority: float = Field(default=0.0, ge=0)  # ...for customers this likely to respond


class ChannelsConfig(Strict):
    email: OutboundChannel
    sms: OutboundChannel
    push: OutboundChannel
    web: Annotated[dict[str, Any], Field(default_factory=dict)]  # personalisation needs no setup
    advisor: AdvisorChannel = AdvisorChannel()

    def outbound(self, channel: str) -> OutboundChannel:
        return getattr(self, channel)


class BackOff(Strict):
    """After ``ignored_contacts`` contacts in a row with no response, wait ``days``."""

    ignored_contacts: int = Field(ge=1)
    days: int = Field(ge=1)


class ContactPolicy(Strict):
    global_caps: list[RollingCap] = []
    min_gap_hours: float = Field(default=0, ge=0)
    back_off: BackOff | None = None
    control_group_share: float = Field(ge=0, lt=1)
    min_priority: float = Field(default=0.0, ge=0)  # "no action" wins below this expected value
    # Share of contacts that try another permitted offer and channel worth sending, so every
    # channel keeps being learned; each decision logs the probability of its choice.
    exploration_share: float = Field(default=0.0, ge=0, lt=1)
    # When a customer's best contact waits on a channel's own cap, another channel's contact must
    # be worth at least this share of it, else "no action" waits for the better channel (a
    # contact spends the customer's global caps, so a poor one now costs a good one later).
    min_share_of_capped_best: float = Field(default=0.0, ge=0, le=1)
    default_time_zone: str = "America/New_York"  # for quiet hours when a customer's is unknown
    # How far past the decision a send-time-optimised contact may wait: the daily runs are 24 h
    # apart and caps look back their length minus an hour's slack (contact_history), so 23 h
    # keeps every contact delivered, and counted, before the next run decides.
    send_time_horizon_hours: float = Field(default=23.0, gt=0, le=168)

    @model_validator(mode="after")
    def _known_time_zone(self) -> ContactPolicy:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(self.default_time_zone)
        except (ZoneInfoNotFoundError, ValueError) as error:
            raise ValueError(f"unknown time zone {self.default_time_zone!r}") from error
        return self


class MarketingConfig(Strict):
    offers: OffersConfig
    channels: ChannelsConfig
    policy: ContactPolicy

    @property
    def policy_hash(self) -> str:
        """sha256 of the validated config, key order and formatting aside."""
        canonical = json.dumps(self.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode()).hexdigest()[:16]


def _load(path: Path, model: type[Strict]) -> Strict:
    try:
        document = load_yaml(path)
    except FileNotFoundError as error:
        raise ConfigError(f"{path}: file not found") from error
    except UnicodeDecodeError as error:
        raise ConfigError(f"{path}: not UTF-8 text: {error}") from error
    except YamlFileError as error:
        raise ConfigError(str(error)) from error
    try:
        return model.model_validate(document.data if document.data is not None else {})
    except ValidationError as error:
        problems = []
        for e in error.errors(include_url=False):
            line = document.line_of(e["loc"])
            where = f"{path}:{line}" if line else str(path)
            value = e.get("input")
            message = e["msg"].removeprefix("Value error, ")
            problems.append(f"{where}: {key_path_text(e['loc'])}: {message} (value: {value!r})")
        raise ConfigError("\n".join(problems)) from error


def load_marketing_config(config_dir: Path) -> MarketingConfig:
    """Load and validate the three files; a ConfigError lists every problem in all three."""
    parts: dict[str, Strict] = {}
    problems: list[str] = []
    for name, file, model in (
        ("offers", OFFERS_FILE, OffersConfig),
        ("channels", CHANNELS_FILE, ChannelsConfig),
        ("policy", POLICY_FILE, ContactPolicy),
    ):
        try:
            parts[name] = _load(config_dir / file, model)
        except ConfigError as error:
            problems.append(str(error))
    if problems:
        raise ConfigError("\n".join(problems))
    return MarketingConfig(**parts)
