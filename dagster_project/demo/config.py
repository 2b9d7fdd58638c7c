"""The knobs of a demo world: its size, its seed, and how dirty its records are."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from datetime import date, timedelta
from typing import Any

_RATE_FIELDS = (
    "crm_customer_share",
    "household_share",
    "typo_rate",
    "nickname_rate",
    "swapped_name_rate",
    "changed_email_rate",
    "phone_format_rate",
    "missing_field_rate",
    "dob_error_rate",
    "household_copy_rate",
    "duplicate_customer_rate",
    "bad_row_rate",
)


@dataclass(frozen=True)
class WorldConfig:
    """A demo world. The same config always produces byte-identical files.

    ``customers`` counts people in the world; about ``crm_customer_share`` of them are CRM
    customers at the start, the rest are prospects the bank only sees through web, email, calls and
    applications. Noise rates are per typed record unless said otherwise.
    """

    customers: int = 2000
    days: int = 30
    seed: int = 42
    start_date: date = date(2026, 1, 5)
    crm_customer_share: float = 0.85
    household_share: float = 0.30  # share of people living in households of 2-4
    typo_rate: float = 0.03  # a typed name has one typo in its first or last name
    nickname_rate: float = 0.10  # a typed first name with a known short form uses it
    swapped_name_rate: float = 0.02  # first and last name typed the wrong way round
    changed_email_rate: float = 0.05  # share of people who have moved to a new email address
    phone_format_rate: float = 0.35  # a typed phone is not in E.164 (+15552013344)
    missing_field_rate: float = 0.03  # each optional identity field is left empty
    # A typed date of birth is wrong the way people get dates wrong: day and month swapped, one
    # digit off, or only the year right. Always a real calendar date, never after the world start.
    dob_error_rate: float = 0.01
    # A typed record of someone living with others takes one field from another member of their
    # household: the first name (the clerk picked the wrong family member) or the date of birth.
    household_copy_rate: float = 0.01
    duplicate_customer_rate: float = 0.02  # share of CRM customers with a second CRM record
    bad_row_rate: float = 0.001  # rows deliberately breaking their contract

    def __post_init__(self) -> None:
        if self.customers < 1:
            raise ValueError(f"customers must be at least 1, got {self.customers}")
        if self.days < 1:
            raise ValueError(f"days must be at least 1, got {self.days}")
        if self.seed < 0:
            raise ValueError(f"seed must be non-negative, got {self.seed}")
        for name in _RATE_FIELDS:
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"{name} must be between 0 and 1, got {value}")

    @property
    def end_date(self) -> date:
        """The last simulated day (inclusive)."""
        return self.start_date + timedelta(days=self.days - 1)

    def day(self, index: int) -> date:
        return self.start_date + timedelta(days=index)

    @property
    def noise_rates(self) -> dict[str, float]:
        return {name: getattr(self, name) for name in _RATE_FIELDS if name.endswith("_rate")}

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["start_date"] = self.start_date.isoformat()
        return data


assert set(_RATE_FIELDS) <= {f.name for f in fields(WorldConfig)}
