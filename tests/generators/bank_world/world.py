"""The bank world: people, their life events and needs, and every source's landing files.

A person is a household member with an address, a mobile (some give the CRM a household
landline), usually an email address (some changed it, and the bank's newsletter tool may still
hold the old one), an app on their phone or not, and a CRM record or two (branch staff create
duplicates; typed names carry typos and nicknames). Life events (moving house, a new job,
graduating, a baby, retiring, buying a car, a wedding) open needs for products; a need ramps up
over days, holds for weeks and fades, or ends when the person converts. Needs show through noise:
product pages and calculators on the site and in the app, calls to the contact centre, clicks in
the newsletter, applications, advisor notes.

Time: day ``t`` is the 24 hours up to 17:00 UTC of ``start_date + t`` (the decision instant), so a
run deciding at 17:00 sees everything of its day and nothing later. Every generated row waits in a
buffer with its own timestamp and is written in the day file of the window it falls in (an email
opened after 17:00 lands in the next day's file).

Truth (``<data dir>/truth_bank_world/``, never read by the platform): the persons, which record
belongs to whom, the life events, and per day the true probability that a person clicks a contact
for each offer on each of the offer's channels:
``logit = base(product) + NEED_WEIGHT * need + responsiveness + affinity(channel) + held +
product-channel fit``; a channel the person cannot physically receive has probability 0.
"""

from __future__ import annotations

import json
import os
import pickle
import zlib
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from dagster_project.decisioning.config import load_marketing_config
from dagster_project.ingest.contracts import (
    CONTACT_CENTRE_CALLS,
    CRM_ADVISOR_NOTES,
    CRM_CUSTOMERS,
    CRM_PRODUCTS,
    EMAIL_EVENTS,
    MESSAGING_EVENTS,
    OUTCOMES_APPLICATIONS,
    WEB_EVENTS,
    SourceContract,
)
from dagster_project.settings import OUTBOUND_CHANNELS, PRODUCTS, DataPaths, config_dir

TRUTH_FOLDER = "truth_bank_world"
DECISION_HOUR_UTC = 17
US = 1_000_000
MINUTE = 60 * US
HOUR = 60 * MINUTE
DAY = 24 * HOUR
CHANNELS = tuple(OUTBOUND_CHANNELS)  # email, sms, push
NEVER = 10**9  # a day index that never comes

# ---------------------------------------------------------------------------------------------
# Vocabulary (this world's own)
# ---------------------------------------------------------------------------------------------


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


FIRST_F = _words(
    "Mary Patricia Jennifer Linda Elizabeth Barbara Susan Jessica Sarah Karen Nancy Margaret "
    "Lisa Betty Sandra Ashley Kimberly Emily Donna Michelle Carol Amanda Melissa Deborah "
    "Stephanie Rebecca Laura Sharon Cynthia Kathleen Amy Angela Anna Brenda Pamela Nicole "
    "Emma Samantha Katherine Christine Rachel Catherine Heather Victoria Olivia Sophia "
    "Isabella Mia Chloe Grace Hannah Priya Aisha Mei Lucia Fatima Camila Zoe Nora Leah Ava"
)
FIRST_M = _words(
    "James Robert John Michael David William Richard Joseph Thomas Christopher Charles "
    "Daniel Matthew Anthony Mark Donald Steven Andrew Paul Joshua Kenneth Kevin Brian George "
    "Timothy Ronald Edward Jason Jeffrey Ryan Jacob Gary Nicholas Eric Jonathan Stephen "
    "Larry Justin Scott Brandon Benjamin Samuel Gregory Alexander Patrick Frank Raymond Jack "
    "Dennis Jerry Tyler Aaron Jose Adam Nathan Henry Noah Liam Ethan Lucas Omar Wei Carlos "
    "Luis Arjun Mateo"
)
LAST = _words(
    "Smith Johnson Williams Brown Jones Garcia Miller Davis Rodriguez Martinez Hernandez "
    "Lopez Gonzalez Wilson Anderson Thomas Taylor Moore Jackson Martin Lee Perez Thompson "
    "White Harris Sanchez Clark Ramirez Lewis Robinson Walker Young Allen King Wright Scott "
    "Torres Nguyen Hill Flores Green Adams Nelson Baker Hall Rivera Campbell Mitchell Carter "
    "Roberts Gomez Phillips Evans Turner Diaz Parker Cruz Edwards Collins Reyes Stewart "
    "Morris Morales Murphy Cook Rogers Gutierrez Ortiz Morgan Cooper Peterson Bailey Reed "
    "Kelly Howard Ramos Kim Cox Ward Richardson Watson Brooks Chavez Wood James Bennett Gray "
    "Mendoza Ruiz Hughes Price Alvarez Castillo Sanders Patel Myers Long Ross Foster Jimenez "
    "O'Brien McCarthy Van-Dyke"
)
NICKNAMES = {
    "William": "Bill",
    "Robert": "Bob",
    "Elizabeth": "Liz",
    "Katherine": "Kate",
    "Michael": "Mike",
    "Jennifer": "Jen",
    "Christopher": "Chris",
    "Margaret": "Peggy",
    "Richard": "Rick",
    "Daniel": "Dan",
    "Joseph": "Joe",
    "Thomas": "Tom",
    "Patricia": "Trish",
    "Susan": "Sue",
    "James": "Jim",
    "Anthony": "Tony",
    "Alexander": "Alex",
    "Samantha": "Sam",
    "Jonathan": "Jon",
    "Rebecca": "Becky",
    "Nicholas": "Nick",
    "Matthew": "Matt",
    "Stephanie": "Steph",
    "Deborah": "Deb",
    "Benjamin": "Ben",
    "Victoria": "Tori",
    "Timothy": "Tim",
    "Edward": "Ed",
    "Kimberly": "Kim",
    "Andrew": "Drew",
    "Catherine": "Cathy",
    "Kenneth": "Ken",
    "Gregory": "Greg",
    "Samuel": "Sam",
    "Pamela": "Pam",
    "Raymond": "Ray",
}
# city, state, IANA zone, area codes, ZIP prefix, weight
CITIES = (
    ("New York", "NY", "America/New_York", ("212", "718", "917"), "100", 12),
    ("Boston", "MA", "America/New_York", ("617", "857"), "021", 5),
    ("Philadelphia", "PA", "America/New_York", ("215", "267"), "191", 5),
    ("Atlanta", "GA", "America/New_York", ("404", "678"), "303", 5),
    ("Miami", "FL", "America/New_York", ("305", "786"), "331", 5),
    ("Chicago", "IL", "America/Chicago", ("312", "773"), "606", 8),
    ("Dallas", "TX", "America/Chicago", ("214", "469"), "752", 6),
    ("Houston", "TX", "America/Chicago", ("713", "832"), "770", 6),
    ("Minneapolis", "MN", "America/Chicago", ("612",), "554", 3),
    ("Denver", "CO", "America/Denver", ("303", "720"), "802", 4),
    ("Phoenix", "AZ", "America/Phoenix", ("602", "480"), "850", 4),
    ("Seattle", "WA", "America/Los_Angeles", ("206", "425"), "981", 5),
    ("Portland", "OR", "America/Los_Angeles", ("503", "971"), "972", 3),
    ("San Diego", "CA", "America/Los_Angeles", ("619", "858"), "921", 4),
    ("Los Angeles", "CA", "America/Los_Angeles", ("213", "310", "323"), "900", 8),
    ("Anchorage", "AK", "America/Anchorage", ("907",), "995", 1),
    ("Honolulu", "HI", "Pacific/Honolulu", ("808",), "968", 1),
)
STREET_NAMES = _words(
    "Oak Maple Cedar Pine Elm Washington Lake Hill Park Main Sunset River Church Mill Spring "
    "Ridge Highland Meadow Forest Willow Lincoln Jefferson Franklin Madison Chestnut Walnut "
    "Cherry Birch Harbor Valley"
)
STREET_SUFFIXES = {
    "Street": "St",
    "Avenue": "Ave",
    "Road": "Rd",
    "Drive": "Dr",
    "Lane": "Ln",
    "Court": "Ct",
    "Boulevard": "Blvd",
    "Place": "Pl",
    "Terrace": "Ter",
}
EMAIL_DOMAINS = (
    ("inbox.example", 0.30),
    ("mymail.example", 0.20),
    ("icloud.example", 0.20),
    ("webpost.example", 0.15),
    ("fastmail.example", 0.10),
    ("corp.example", 0.05),
)
PRODUCT_SLUG = {
    "mortgage": "mortgages",
    "credit_card": "credit-cards",
    "savings": "savings",
    "insurance": "home-insurance",
    "personal_loan": "personal-loans",
}
CALL_REASONS = {
    "mortgage": ("mortgage_preapproval", "mortgage_rates"),
    "credit_card": ("card_enquiry",),
    "savings": ("savings_rates",),
    "insurance": ("insurance_quote",),
    "personal_loan": ("loan_enquiry",),
}
GENERAL_CALLS = (
    ("balance_enquiry", 0.45),
    ("other", 0.25),
    ("address_change", 0.08),
    ("complaint", 0.10),
    ("card_enquiry", 0.12),
)
AMOUNTS = {  # low, high, step
    "mortgage": (120_000, 750_000, 5_000),
    "credit_card": (1_000, 15_000, 500),
    "savings": (500, 40_000, 500),
    "insurance": (300, 2_400, 50),
    "personal_loan": (2_000, 35_000, 500),
}
# Life events: ages they happen at, expected count over the simulated span for someone that
# age, and the needs they open (product: weight). Products the platform does not offer are
# skipped, so the world follows settings.PRODUCTS.
LIFE_EVENTS = {
    "moving_house": ((24, 58), 0.35, {"mortgage": 1.0, "insurance": 0.6}),
    "new_job": ((21, 60), 0.28, {"credit_card": 0.8, "personal_loan": 0.35}),
    "graduation": ((20, 27), 0.45, {"credit_card": 0.9, "savings": 0.35}),
    "new_baby": ((24, 43), 0.30, {"savings": 0.9, "insurance": 0.7}),
    "retirement": ((58, 71), 0.40, {"savings": 1.0, "insurance": 0.35}),
    "car_purchase": ((19, 75), 0.22, {"personal_loan": 1.0, "insurance": 0.45}),
    "wedding": ((23, 40), 0.18, {"personal_loan": 0.55, "savings": 0.5}),
}
NOTE_TEXT = {
    "moving_house": "Client is looking at homes in {city}; asked how much they could borrow.",
    "new_job": "Started a new role; asked about building credit and card limits.",
    "graduation": "Recently graduated; wants a first credit card and to start saving.",
    "new_baby": "Expecting a baby in the summer; discussed a savings plan and cover.",
    "retirement": "Retiring this year; wants somewhere safe for the lump sum.",
    "car_purchase": "Buying a car next month; compared loan terms with the dealer's.",
    "wedding": "Wedding planned for the autumn; asked about a loan and a joint savings pot.",
}

# ---------------------------------------------------------------------------------------------
# The true response model
# ---------------------------------------------------------------------------------------------

OFFER_BASE = {
    "mortgage": -4.7,
    "credit_card": -3.8,
    "savings": -3.5,
    "insurance": -4.2,
    "personal_loan": -4.2,
}
DEFAULT_BASE = -4.2
NEED_WEIGHT = 3.3
HELD_PENALTY = {"savings": -0.8}
DEFAULT_HELD_PENALTY = -2.2
PRODUCT_CHANNEL_FIT = {
    ("mortgage", "sms"): -0.4,
    ("mortgage", "push"): -0.1,
    ("savings", "push"): 0.2,
    ("credit_card", "push"): 0.25,
    ("personal_loan", "sms"): 0.2,
}
HOLDING_NEED_FACTOR = {"savings": 0.6}
DEFAULT_HOLDING_NEED_FACTOR = 0.3
# Applications per day at need 1 (need ** 1.5 scales it), and what happens to them.
APPLY_RATE = {
    "mortgage": 0.012,
    "credit_card": 0.02,
    "savings": 0.022,
    "insurance": 0.016,
    "personal_loan": 0.016,
}
APPROVAL = {
    "mortgage": 0.6,
    "credit_card": 0.75,
    "savings": 0.97,
    "insurance": 0.9,
    "personal_loan": 0.7,
}


@dataclass(frozen=True)
class WorldConfig:
    persons: int = 3000
    history_days: int = 90
    seed: int = 0
    start_date: date = date(2026, 2, 2)
    plan_days_after: int = 60  # life events are planned this far past the history

    def day(self, t: int) -> date:
        return self.start_date + timedelta(days=int(t))


@dataclass(frozen=True)
class OfferSpec:
    id: str
    product: str
    value: float
    channels: tuple[str, ...]


def load_offers() -> list[OfferSpec]:
    """The platform's offers, as marketing configured them."""
    config = load_marketing_config(config_dir())
    return [
        OfferSpec(o.id, o.product, float(o.value), tuple(o.channels)) for o in config.offers.offers
    ]


def truth_dir(paths: DataPaths) -> Path:
    return paths.root / TRUTH_FOLDER


# ---------------------------------------------------------------------------------------------
# Landing files
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Source:
    contract: SourceContract
    stem: str
    ext: str
    time_field: str
    time_style: str  # how the source system writes its timestamps


SOURCES = {
    "crm_customers": Source(CRM_CUSTOMERS, "customers", "csv", "updated_at", "space"),
    "crm_products": Source(CRM_PRODUCTS, "holdings", "csv", "updated_at", "space"),
    "notes": Source(CRM_ADVISOR_NOTES, "advisor_notes", "csv", "created_at", "zulu"),
    "web": Source(WEB_EVENTS, "clickstream", "parquet", "event_ts", "native"),
    "calls": Source(CONTACT_CENTRE_CALLS, "calls", "csv", "call_started_at", "local"),
    "email": Source(EMAIL_EVENTS, "esp_events", "jsonl", "event_ts", "zulu_ms"),
    "messaging": Source(MESSAGING_EVENTS, "messaging_events", "jsonl", "event_ts", "offset"),
    "applications": Source(OUTCOMES_APPLICATIONS, "applications", "csv", "event_ts", "zulu"),
}


def _allowed(contract: SourceContract, name: str) -> tuple[str, ...]:
    return next(f.allowed for f in contract.fields if f.name == name)


_REASONS_ALLOWED = set(_allowed(CONTACT_CENTRE_CALLS, "reason_code"))
CALL_REASONS = {p: tuple(r for r in rs if r in _REASONS_ALLOWED) for p, rs in CALL_REASONS.items()}
GENERAL_CALLS = tuple((r, w) for r, w in GENERAL_CALLS if r in _REASONS_ALLOWED)


def us_to_datetime(ts: int) -> datetime:
    return datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=int(ts))


def datetime_to_us(at: datetime) -> int:
    if at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    return int((at - datetime(1970, 1, 1, tzinfo=UTC)) / timedelta(microseconds=1))


def format_ts(ts: int, style: str, zone: str | None = None) -> str:
    at = us_to_datetime(ts)
    if style == "space":
        return at.strftime("%Y-%m-%d %H:%M:%S")
    if style == "zulu":
        return at.strftime("%Y-%m-%dT%H:%M:%SZ")
    if style == "zulu_ms":
        return at.strftime("%Y-%m-%dT%H:%M:%S.") + f"{at.microsecond // 1000:03d}Z"
    if style == "offset":
        return at.isoformat(timespec="seconds")
    if style == "local":
        return at.astimezone(ZoneInfo(zone or "America/New_York")).isoformat(timespec="seconds")
    raise ValueError(style)


def write_landing(paths: DataPaths, source_key: str, day: date, rows: list[dict]) -> Path | None:
    """One day file of one source, in that source's format, appearing atomically."""
    if not rows:
        return None
    source = SOURCES[source_key]
    names = source.contract.field_names
    folder = paths.landing / source.contract.landing_subdir
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{source.stem}_{day.isoformat()}.{source.ext}"
    temporary = folder / f".{path.name}.tmp"
    rows = sorted(rows, key=lambda r: r["_ts"])
    if source.ext == "parquet":
        columns: dict[str, pa.Array] = {}
        for name in names:
            if name == source.time_field:
                columns[name] = pa.array([r["_ts"] for r in rows], pa.timestamp("us", tz="UTC"))
            else:
                columns[name] = pa.array([r.get(name) for r in rows], pa.string())
        pq.write_table(pa.table(columns), temporary)
    elif source.ext == "jsonl":
        with temporary.open("w", encoding="utf-8") as handle:
            for r in rows:
                record = {n: r.get(n) for n in names if n != source.time_field}
                record[source.time_field] = format_ts(r["_ts"], source.time_style)
                # The provider leaves out what it does not know.
                handle.write(json.dumps({k: v for k, v in record.items() if v is not None}))
                handle.write("\n")
    else:
        frame = pd.DataFrame(
            [
                {
                    **{n: r.get(n) for n in names},
                    source.time_field: format_ts(r["_ts"], source.time_style, r.get("_zone")),
                }
                for r in rows
            ],
            columns=list(names),
        )
        frame.to_csv(temporary, index=False)
    os.replace(temporary, path)
    return path


# ---------------------------------------------------------------------------------------------
# Small typing helpers
# ---------------------------------------------------------------------------------------------


def _typo(text: str, rng: np.random.Generator) -> str:
    if len(text) < 4:
        return text
    i = int(rng.integers(1, len(text) - 1))
    kind = rng.integers(4)
    if kind == 0:  # swap two letters
        return text[:i] + text[i + 1] + text[i] + text[i + 2 :]
    if kind == 1:  # drop a letter
        return text[:i] + text[i + 1 :]
    if kind == 2:  # double a letter
        return text[:i] + text[i] + text[i:]
    return text[:i] + "aeiou"[int(rng.integers(5))] + text[i + 1 :]


def format_phone(digits: str, rng: np.random.Generator) -> str:
    a, b, c = digits[:3], digits[3:6], digits[6:]
    style = rng.choice(6, p=[0.45, 0.2, 0.15, 0.08, 0.07, 0.05])
    return (
        f"+1{digits}",
        f"({a}) {b}-{c}",
        f"{a}-{b}-{c}",
        f"{a}.{b}.{c}",
        f"+1 {a} {b} {c}",
        f"1-{a}-{b}-{c}",
    )[style]


def _phone_digits(area: str, rng: np.random.Generator) -> str:
    return f"{area}{int(rng.integers(2, 10))}{int(rng.integers(0, 100)):02d}{int(rng.integers(0, 10000)):04d}"


def _typed_first(first: str, rng: np.random.Generator, nickname: float, typo: float) -> str:
    if first in NICKNAMES and rng.random() < nickname:
        return NICKNAMES[first]
    return _typo(first, rng) if rng.random() < typo else first


def _email_for(first: str, last: str, rng: np.random.Generator) -> tuple[str, str]:
    domains = [d for d, _ in EMAIL_DOMAINS]
    weights = np.array([w for _, w in EMAIL_DOMAINS])
    domain = domains[rng.choice(len(domains), p=weights / weights.sum())]
    f, la = first.lower(), last.lower().replace("'", "").replace("-", "")
    n = int(rng.integers(1, 99))
    local = (
        f"{f}.{la}",
        f"{f}{la}{n}",
        f"{f[0]}.{la}",
        f"{f}_{la}",
        f"{f}.{la[0]}{n}",
        f"{la}.{f}{n}",
    )[int(rng.choice(6, p=[0.3, 0.2, 0.15, 0.1, 0.15, 0.1]))]
    return f"{local}@{domain}", domain


def _sigmoid(x: np.ndarray | float) -> np.ndarray | float:
    return 1.0 / (1.0 + np.exp(-x))


# ---------------------------------------------------------------------------------------------
# The world
# ---------------------------------------------------------------------------------------------


class BankWorld:
    """The population, its state as days pass, and the buffer of rows waiting for their day."""

    def __init__(self, config: WorldConfig, offers: list[OfferSpec] | None = None) -> None:
        self.config = config
        self.offers = offers if offers is not None else load_offers()
        self.products = tuple(PRODUCTS)
        self.n = config.persons
        self.buffer: dict[str, list[dict]] = defaultdict(list)
        self.links: dict[str, int] = {}  # record id -> person index
        self.counters: dict[str, int] = defaultdict(int)
        self.prob_cache: dict[int, np.ndarray] = {}
        self.files_written: dict[str, int] = defaultdict(int)
        self.rows_written: dict[str, int] = defaultdict(int)
        self.answered: set[str] = set()
        self.loop_log: list[dict] = []  # one row per answered message
        rng = self._rng("population")
        self._build_population(rng)
        self._build_crm(self._rng("crm"))
        self._plan_life_events(self._rng("life-events"))
        self._plan_changes(self._rng("changes"))

    # -- randomness and time ------------------------------------------------------------------

    def _rng(self, name: str, t: int = 0) -> np.random.Generator:
        return np.random.default_rng([self.config.seed, zlib.crc32(name.encode()), t + 1000])

    def _next_id(self, kind: str) -> int:
        self.counters[kind] += 1
        return self.counters[kind]

    def date_of(self, t: int) -> date:
        return self.config.day(t)

    def window_end_us(self, t: int) -> int:
        d = self.date_of(t)
        return datetime_to_us(datetime(d.year, d.month, d.day, DECISION_HOUR_UTC, tzinfo=UTC))

    def window_start_us(self, t: int) -> int:
        return self.window_end_us(t) - DAY

    def day_of_us(self, ts: int) -> int:
        """The day index whose window holds this instant."""
        return int(np.floor((ts - self.window_start_us(0)) / DAY))

    def _offsets(self, t: int) -> np.ndarray:
        """Each person's UTC offset in hours on day t."""
        d = self.date_of(t)
        noon = datetime(d.year, d.month, d.day, 12, tzinfo=UTC)
        by_zone = {
            z: noon.astimezone(ZoneInfo(z)).utcoffset().total_seconds() / 3600 for z in set(self.tz)
        }
        return np.array([by_zone[z] for z in self.tz])

    def _times(
        self, rng: np.random.Generator, t: int, persons: np.ndarray, profile: np.ndarray
    ) -> np.ndarray:
        """Instants in day t's window, weighted by each person's local hour of the day."""
        persons = np.asarray(persons, dtype=int)
        out = np.zeros(len(persons), dtype=np.int64)
        if not len(persons):
            return out
        offsets = self._offsets(t)[persons]
        start = self.window_start_us(t)
        for off in np.unique(offsets):
            mask = offsets == off
            local = ((DECISION_HOUR_UTC + np.arange(24) + off) % 24).astype(int)
            w = profile[local]
            slot = rng.choice(24, size=int(mask.sum()), p=w / w.sum())
            out[mask] = start + slot * HOUR + rng.integers(0, HOUR, int(mask.sum()))
        return out

    # -- population -----------------------------------------------------------------------------

    def _build_population(self, rng: np.random.Generator) -> None:
        n = self.n
        cfg = self.config
        city_w = np.array([c[5] for c in CITIES], dtype=float)
        sizes = []
        while sum(sizes) < n:
            sizes.append(int(rng.choice([1, 2, 3, 4], p=[0.55, 0.28, 0.10, 0.07])))
        household = np.repeat(np.arange(len(sizes)), sizes)[:n]
        member = np.concatenate([np.arange(s) for s in sizes])[:n]
        age = np.zeros(n, dtype=int)
        first, last, gender = [], [], []
        hh_city = rng.choice(len(CITIES), size=len(sizes), p=city_w / city_w.sum())
        hh_last = rng.choice(LAST, size=len(sizes))
        hh_street = [
            f"{int(rng.integers(1, 9800))} {rng.choice(STREET_NAMES)} "
            f"{rng.choice(list(STREET_SUFFIXES))}"
            for _ in sizes
        ]
        hh_zip = [f"{CITIES[c][4]}{int(rng.integers(0, 100)):02d}" for c in hh_city]
        hh_landline = [
            _phone_digits(str(rng.choice(CITIES[c][3])), rng)
            if s > 1 and rng.random() < 0.3
            else None
            for c, s in zip(hh_city, sizes, strict=True)
        ]
        hh_shared_inbox = [s > 1 and rng.random() < 0.08 for s in sizes]
        hh_tablet = [s > 1 and rng.random() < 0.2 for s in sizes]
        ages_single = np.arange(18, 90)
        single_w = np.where(ages_single < 30, 1.2, np.where(ages_single < 65, 1.0, 0.55))
        head_age: dict[int, int] = {}
        for i in range(n):
            h, m = household[i], member[i]
            if m == 0:
                a = int(rng.choice(ages_single, p=single_w / single_w.sum()))
                if sizes[h] > 2:
                    a = int(rng.integers(38, 62))
                head_age[h] = a
            elif m == 1:
                a = int(np.clip(head_age[h] + rng.integers(-6, 7), 18, 92))
            else:
                a = int(rng.integers(18, 26))
            age[i] = a
            g = rng.choice(["F", "M", "X"], p=[0.5, 0.485, 0.015])
            gender.append(g)
            pool = FIRST_F if g == "F" else FIRST_M if g == "M" else FIRST_F + FIRST_M
            first.append(str(rng.choice(pool)))
            last.append(str(hh_last[h]) if m != 1 or rng.random() < 0.8 else str(rng.choice(LAST)))
        dob = [cfg.start_date - timedelta(days=int(a * 365.25 + rng.integers(0, 365))) for a in age]
        self.household = household
        self.first, self.last, self.gender = first, last, gender
        self.age, self.dob = age, dob
        self.city_idx = hh_city[household]
        self.tz = [CITIES[c][2] for c in self.city_idx]
        self.street = [hh_street[h] for h in household]
        self.postcode = [hh_zip[h] for h in household]
        self.mobile = [_phone_digits(str(rng.choice(CITIES[c][3])), rng) for c in self.city_idx]
        self.landline = [hh_landline[h] for h in household]
        # Some give the CRM the household landline: no SMS reaches them.
        self.crm_phone_is_landline = np.array(
            [ll is not None and rng.random() < 0.5 for ll in self.landline]
        )
        self.crm_phone_missing = rng.random(n) < 0.03
        # Email: most have one; some changed it (the CRM learns the new one, the newsletter tool
        # may keep the old one, which bounces once the old mailbox is closed).
        emails, domains = [], []
        for i in range(n):
            e, d = _email_for(first[i], last[i], rng)
            emails.append(e)
            domains.append(d)
        for h in np.flatnonzero(hh_shared_inbox):
            members = np.flatnonzero(household == h)[:2]
            shared = f"the{hh_last[h].lower().replace(chr(39), '').replace('-', '')}s{int(rng.integers(1, 99))}@inbox.example"
            for i in members:
                emails[i], domains[i] = shared, "inbox.example"
        self.shared_inbox = np.array([hh_shared_inbox[h] for h in household])
        has_email = rng.random(n) < 0.96
        self.email: list[str | None] = [
            e if ok else None for e, ok in zip(emails, has_email, strict=True)
        ]
        self.domain = domains
        changed = has_email & ~self.shared_inbox & (rng.random(n) < 0.08)
        self.old_email: list[str | None] = [None] * n
        self.email_change_day = np.full(n, -NEVER)
        self.esp_updates_day = np.full(n, -NEVER)  # when the newsletter tool learns the new address
        self.dead_from: dict[str, int] = {}  # address -> first day it bounces
        for i in np.flatnonzero(changed):
            old, _ = _email_for(first[i], last[i], rng)
            old = old.split("@")[0] + str(int(rng.integers(100, 999))) + "@oldisp.example"
            self.old_email[i] = old
            change = (
                int(rng.integers(-200, 0))
                if rng.random() < 0.6
                else int(rng.integers(5, cfg.history_days))
            )
            self.email_change_day[i] = change
            self.dead_from[old] = change + int(rng.integers(-10, 25))
            self.esp_updates_day[i] = (
                change + int(rng.integers(0, 4)) if rng.random() < 0.5 else NEVER
            )
        # Devices and habits.
        youth = np.clip((42 - age) / 18, -1, 1.3)
        self.youth = youth
        self.app_user = rng.random(n) < _sigmoid(0.6 + 1.3 * youth)
        self.app_platform = np.where(rng.random(n) < 0.55, "ios", "android")
        self.app_rate = np.where(
            self.app_user, np.clip(np.exp(rng.normal(np.log(0.22), 0.9, n)), 0.01, 3.0), 0.0
        )
        self.web_rate = np.clip(np.exp(rng.normal(np.log(0.07), 0.7, n)), 0.005, 1.0)
        proxy_p = np.where(
            np.array(domains) == "icloud.example",
            0.85,
            np.where(self.app_user & (self.app_platform == "ios"), 0.4, 0.12),
        )
        self.mail_proxy = rng.random(n) < proxy_p
        self.never_opens = rng.random(n) < 0.25
        self.email_eng = rng.normal(-0.7, 0.9, n)  # logit of really opening a newsletter
        # The hidden truth of how each person answers each channel.
        z_eng = (self.email_eng - self.email_eng.mean()) / self.email_eng.std()
        log_app = np.log(np.maximum(self.app_rate, 1e-3))
        z_app = np.where(
            self.app_user,
            (log_app - log_app[self.app_user].mean()) / log_app[self.app_user].std(),
            0,
        )
        self.responsiveness = rng.normal(0, 0.4, n)
        aff = np.zeros((n, len(CHANNELS)))
        for c, channel in enumerate(CHANNELS):
            if channel == "email":
                aff[:, c] = np.where(self.never_opens, -1.9, 0.1 + 0.55 * z_eng) + rng.normal(
                    0, 0.5, n
                )
            elif channel == "sms":
                aff[:, c] = -1.0 + 0.6 * youth + rng.normal(0, 0.85, n)
            elif channel == "push":
                aff[:, c] = -0.75 + 0.7 * z_app + rng.normal(0, 0.8, n)
            else:  # a channel this world does not know answers like a weak email
                aff[:, c] = -1.0 + rng.normal(0, 0.5, n)
        self.affinity = aff
        self.app_device = [
            f"dev-{self.app_platform[i][:1]}{zlib.crc32(f'{cfg.seed}-app-{i}'.encode()):08x}"
            if self.app_user[i]
            else None
            for i in range(n)
        ]
        for i, device in enumerate(self.app_device):
            if device:
                self.links[f"web__events:{device}"] = i
        self.cookie = [self._new_cookie(i) for i in range(n)]
        self.tablet: list[str | None] = [None] * n
        for h in np.flatnonzero(hh_tablet):
            members = np.flatnonzero(household == h)
            device = f"tab-{zlib.crc32(f'{cfg.seed}-tablet-{h}'.encode()):08x}"
            self.links[f"web__events:{device}"] = int(members[0])
            for i in members:
                self.tablet[i] = device
        # Opt-outs and unsubscribes the world has seen (truth: a stopped channel never answers).
        self.sms_stopped = np.zeros(n, dtype=bool)
        self.push_stopped = np.zeros(n, dtype=bool)
        self.unsubscribed = np.zeros(n, dtype=bool)
        self.is_customer = np.zeros(n, dtype=bool)
        self.newsletter_prospect = np.zeros(n, dtype=bool)

    def _new_cookie(self, i: int) -> str:
        cookie = f"ck-{self._next_id('cookie'):07d}-{zlib.crc32(f'{self.config.seed}-{i}'.encode()) % 9973:04d}"
        self.links[f"web__events:{cookie}"] = i
        return cookie

    # -- CRM --------------------------------------------------------------------------------------

    def _crm_record(
        self, i: int, rng: np.random.Generator, since: date, stamp: int, second: bool = False
    ) -> dict:
        """A CRM customer record as a clerk typed it."""
        first = _typed_first(self.first[i], rng, 0.35 if second else 0.05, 0.12 if second else 0.03)
        last = (
            _typo(self.last[i], rng) if rng.random() < (0.08 if second else 0.02) else self.last[i]
        )
        email = self.email[i]
        if email and self.email_change_day[i] > self.day_of_us(stamp) and self.old_email[i]:
            email = self.old_email[i]
        if second:
            email = (
                self.old_email[i]
                if self.old_email[i] and rng.random() < 0.5
                else None
                if rng.random() < 0.3
                else email
            )
        if email and rng.random() < 0.03:
            local, _, dom = email.partition("@")
            email = f"{local.title()}@{dom}"
        phone_digits = self.landline[i] if self.crm_phone_is_landline[i] else self.mobile[i]
        phone = (
            None
            if (self.crm_phone_missing[i] or (second and rng.random() < 0.3))
            else format_phone(phone_digits, rng)
        )
        dob = self.dob[i]
        if second and rng.random() < 0.1 and dob.day <= 12:
            dob = date(dob.year, dob.day, dob.month)
        dob_text = None if rng.random() < 0.02 else dob.isoformat()
        street = self.street[i]
        number, _, rest = street.partition(" ")
        name, _, suffix = rest.rpartition(" ")
        if rng.random() < 0.5:
            suffix = STREET_SUFFIXES.get(suffix, suffix)
        street = f"{number} {name} {suffix}"
        if rng.random() < 0.1:
            street += f" Apt {int(rng.integers(1, 30))}{'ABCD'[int(rng.integers(4))]}"
        city, state, zone, _, _, _ = CITIES[self.city_idx[i]]
        youth = self.youth[i]
        since_us = datetime_to_us(datetime(since.year, since.month, since.day, 10, tzinfo=UTC))

        def consent(p: float) -> tuple[str | None, str | None]:
            if rng.random() < 0.03:
                return None, None
            value = rng.random() < p
            at = since_us + int(rng.integers(0, max(1, stamp - since_us)))
            return ("Y" if value else "N"), format_ts(at, "space")

        consents = {
            "email": consent(0.82 if self.email[i] else 0.1),
            "sms": consent(float(np.clip(0.5 + 0.2 * youth, 0.2, 0.8))),
            "push": consent(0.72 if self.app_user[i] else 0.05),
            "phone": consent(0.6),
        }
        customer_id = f"{self._next_id('crm') * 7 + 10_000_000 + int(rng.integers(0, 7))}"
        record = {
            "customer_id": customer_id,
            "first_name": first,
            "last_name": last,
            "email": email,
            "phone": phone,
            "street": street,
            "city": city,
            "state": state,
            "postcode": self.postcode[i],
            "country": "US" if rng.random() < 0.9 else "USA",
            "date_of_birth": dob_text,
            "gender": self.gender[i] if rng.random() < 0.95 else None,
            "time_zone": zone if rng.random() < 0.93 else None,
            "branch_id": f"BR{int(self.city_idx[i]) * 3 + int(rng.integers(0, 3)):03d}",
            "advisor_id": f"ADV{int(self.city_idx[i]) * 4 + int(rng.integers(0, 4)):03d}",
            "customer_since": since.isoformat(),
            "do_not_contact": "Y" if rng.random() < 0.015 else "N",
            "_ts": stamp,
            "_person": i,
        }
        for channel, (value, at) in consents.items():
            record[f"consent_{channel}"] = value
            record[f"consent_{channel}_at"] = at
        self.links[f"crm__customers:{customer_id}"] = i
        return record

    def _emit_crm(self, record: dict) -> None:
        self.crm[record["customer_id"]] = record
        self.buffer["crm_customers"].append(dict(record))

    def _holding(
        self,
        i: int,
        customer_id: str,
        product: str,
        opened: date,
        stamp: int,
        rng: np.random.Generator,
    ) -> dict:
        balance = {
            "current_account": np.exp(rng.normal(np.log(2500), 0.9)),
            "savings": np.exp(rng.normal(np.log(9000), 1.1)),
            "mortgage": -np.exp(rng.normal(np.log(260_000), 0.5)),
            "credit_card": -np.exp(rng.normal(np.log(900), 1.0)),
            "personal_loan": -np.exp(rng.normal(np.log(9000), 0.6)),
        }.get(product)
        row = {
            "holding_id": f"H{self._next_id('holding'):08d}",
            "customer_id": customer_id,
            "product": product,
            "opened_at": opened.isoformat(),
            "closed_at": None,
            "balance": None if balance is None else f"{balance:.2f}",
            "_ts": stamp,
            "_person": i,
        }
        self.holdings[row["holding_id"]] = row
        self.buffer["crm_products"].append(dict(row))
        return row

    def holds(self, i: int, product: str) -> bool:
        return any(
            h["_person"] == i and h["product"] == product and h["closed_at"] is None
            for h in self.holdings_of.get(i, [])
        )

    def _build_crm(self, rng: np.random.Generator) -> None:
        cfg = self.config
        n = self.n
        self.crm: dict[str, dict] = {}
        self.holdings: dict[str, dict] = {}
        self.holdings_of: dict[int, list[dict]] = defaultdict(list)
        self.primary_id: list[str | None] = [None] * n
        self.second_id: list[str | None] = [None] * n
        self.held = np.zeros((n, len(self.products)), dtype=bool)
        snapshot = self.window_start_us(0) - 6 * HOUR
        customers = rng.random(n) < 0.88
        for i in range(n):
            if not customers[i]:
                self.newsletter_prospect[i] = bool(self.email[i]) and rng.random() < 0.4
                continue
            years = float(np.clip(np.exp(rng.normal(np.log(6), 0.9)), 0.1, self.age[i] - 17))
            since = cfg.start_date - timedelta(days=int(years * 365))
            stamp = snapshot - int(rng.integers(0, int(min(years, 3) * 365 * DAY / US))) * US
            record = self._crm_record(i, rng, since, stamp)
            change = self.email_change_day[i]
            if -NEVER < change < 0 and record["email"] and self.old_email[i]:
                # Changed before the history starts: the snapshot holds the new address.
                record["email"] = self.email[i]
                record["_ts"] = max(record["_ts"], self.window_start_us(change) + 10 * HOUR)
            self._emit_crm(record)
            self.primary_id[i] = record["customer_id"]
            self.is_customer[i] = True
            a = self.age[i]
            chances = {
                "current_account": 0.93,
                "credit_card": 0.25 + (0.2 if 25 <= a <= 60 else 0),
                "savings": 0.35 + (0.2 if a > 50 else 0),
                "mortgage": 0.38 if 28 <= a <= 66 else 0.04,
                "insurance": 0.22,
                "personal_loan": 0.08,
            }
            for product, p in chances.items():
                if rng.random() < p:
                    opened = since + timedelta(days=int(rng.integers(0, max(1, int(years * 365)))))
                    h = self._holding(i, record["customer_id"], product, opened, stamp, rng)
                    self.holdings_of[i].append(h)
                    if product in self.products:
                        self.held[i, self.products.index(product)] = True
        # Duplicates: a branch opens a second record instead of finding the first.
        self.duplicate_day = np.full(n, NEVER)
        for i in np.flatnonzero(customers & (rng.random(n) < 0.05)):
            self.duplicate_day[i] = (
                -1 if rng.random() < 0.7 else int(rng.integers(3, cfg.history_days))
            )
            if self.duplicate_day[i] < 0:
                since = cfg.start_date - timedelta(days=int(rng.integers(30, 900)))
                record = self._crm_record(
                    i, rng, since, snapshot - int(rng.integers(1, 400)) * DAY, second=True
                )
                self._emit_crm(record)
                self.second_id[i] = record["customer_id"]

    # -- life events and needs ------------------------------------------------------------------

    def _plan_life_events(self, rng: np.random.Generator) -> None:
        cfg = self.config
        lo, hi = -45, cfg.history_days + cfg.plan_days_after
        events, rows = [], []
        for i in range(self.n):
            intensity = float(np.exp(rng.normal(0, 0.3)))
            for kind, ((a0, a1), rate, needs) in LIFE_EVENTS.items():
                if not a0 <= self.age[i] <= a1:
                    continue
                for _ in range(int(rng.poisson(1.3 * rate * (hi - lo) / 150))):
                    t0 = float(rng.uniform(lo, hi))
                    events.append((i, kind, t0))
                    for product, weight in needs.items():
                        if product not in self.products:
                            continue
                        rows.append(
                            (
                                len(events) - 1,
                                i,
                                self.products.index(product),
                                t0,
                                weight * intensity * float(rng.uniform(0.7, 1.2)),
                                float(rng.uniform(2, 8)),
                                float(rng.uniform(6, 28)),
                                float(rng.uniform(4, 12)),
                            )
                        )
        self.events = pd.DataFrame(events, columns=["person", "kind", "t0"])
        ep = np.array(rows, dtype=float).reshape(-1, 8)
        self.ep_event = ep[:, 0].astype(int)
        self.ep_person = ep[:, 1].astype(int)
        self.ep_product = ep[:, 2].astype(int)
        self.ep_t0, self.ep_peak, self.ep_rise, self.ep_hold, self.ep_hl = ep[:, 3:].T
        self.satisfied = np.full((self.n, len(self.products)), float(NEVER))
        self.applying_until = np.full((self.n, len(self.products)), -1)

    def need(self, t: int) -> np.ndarray:
        """Need strength per person and product on day t (0 none, about 1 strong)."""
        dt = t + 0.5 - self.ep_t0
        ramp = np.clip(dt / self.ep_rise, 0, 1)
        after = dt - self.ep_rise - self.ep_hold
        fade = np.where(after > 0, 0.5 ** (np.maximum(after, 0) / self.ep_hl), 1.0)
        s = np.where(dt >= 0, self.ep_peak * ramp * fade, 0.0)
        sat = self.satisfied[self.ep_person, self.ep_product]
        s = np.where((self.ep_t0 <= sat) & (t >= sat), 0.0, s)
        s[s < 0.03] = 0.0
        need = np.zeros((self.n, len(self.products)))
        np.add.at(need, (self.ep_person, self.ep_product), s)
        factor = np.array(
            [HOLDING_NEED_FACTOR.get(p, DEFAULT_HOLDING_NEED_FACTOR) for p in self.products]
        )
        need = np.where(self.held, need * factor, need)
        return np.minimum(need, 1.5)

    def crm_email(self, i: int) -> str | None:
        """The address on the person's latest CRM record (where the platform's email goes)."""
        records = [self.crm[c] for c in (self.primary_id[i], self.second_id[i]) if c in self.crm]
        if not records:
            return None
        latest = max(records, key=lambda r: r["_ts"])
        return latest["email"].lower() if latest["email"] else None

    def address_alive(self, address: str | None, t: int) -> bool:
        return bool(address) and not (address in self.dead_from and t >= self.dead_from[address])

    def reachable(self, t: int) -> np.ndarray:
        """Whether a contact on each channel can physically reach each person on day t."""
        r = np.zeros((self.n, len(CHANNELS)), dtype=bool)
        for c, channel in enumerate(CHANNELS):
            if channel == "email":
                r[:, c] = [self.address_alive(self.crm_email(i), t) for i in range(self.n)]
            elif channel == "sms":
                r[:, c] = ~self.crm_phone_is_landline & ~self.sms_stopped
            elif channel == "push":
                r[:, c] = self.app_user & ~self.push_stopped
            else:
                r[:, c] = True
        return r

    def probabilities(self, t: int) -> np.ndarray:
        """True click probability per person, offer and channel on day t; NaN off the offer's
        channels. Computed once per day (the state of the morning) and kept."""
        if t in self.prob_cache:
            return self.prob_cache[t]
        need = self.need(t)
        reach = self.reachable(t)
        p = np.full((self.n, len(self.offers), len(CHANNELS)), np.nan)
        for o, offer in enumerate(self.offers):
            k = self.products.index(offer.product) if offer.product in self.products else None
            base = OFFER_BASE.get(offer.product, DEFAULT_BASE) + self.responsiveness
            if k is not None:
                held = HELD_PENALTY.get(offer.product, DEFAULT_HELD_PENALTY)
                base = base + NEED_WEIGHT * need[:, k] + np.where(self.held[:, k], held, 0.0)
            for c, channel in enumerate(CHANNELS):
                if channel not in offer.channels:
                    continue
                fit = PRODUCT_CHANNEL_FIT.get((offer.product, channel), 0.0)
                logit = base + self.affinity[:, c] + fit
                p[:, o, c] = np.where(reach[:, c], _sigmoid(logit), 0.0)
        self.prob_cache[t] = p
        return p

    # -- planned changes ------------------------------------------------------------------------

    def _plan_changes(self, rng: np.random.Generator) -> None:
        self.move_day = np.full(self.n, NEVER)
        moves = self.events[self.events["kind"] == "moving_house"]
        for i, t0 in zip(moves["person"], moves["t0"], strict=True):
            self.move_day[i] = min(self.move_day[i], int(t0 + rng.uniform(25, 70)))
        self.conversions: list[tuple[int, int, int, str]] = []  # ts, person, product index, app

    # -- one day ----------------------------------------------------------------------------------

    def simulate_day(self, t: int) -> dict[str, int]:
        """Background behaviour of day t into the buffer."""
        need = self.need(t)
        clicks = self._crm_day(t)
        clicks += self._campaigns_day(t, need)
        self._web_day(t, need, clicks)
        self._calls_day(t, need)
        self._applications_day(t, need)
        self._branch_day(t, need)
        return {k: len(v) for k, v in self.buffer.items()}

    def flush(self, paths: DataPaths, t: int) -> dict[str, int]:
        """Write every buffered row that happened before day t's decision instant."""
        end = self.window_end_us(t)
        written = {}
        for key in SOURCES:
            rows = self.buffer.get(key, [])
            due = [r for r in rows if r["_ts"] < end]
            self.buffer[key] = [r for r in rows if r["_ts"] >= end]
            if due:
                write_landing(paths, key, self.date_of(t), due)
                written[key] = len(due)
                self.files_written[key] += 1
                self.rows_written[key] += len(due)
        return written

    # CRM changes: email changes, moves, duplicates, conversions, consent drift, unsubscribes.
    def _crm_day(self, t: int) -> list[tuple]:
        rng = self._rng("crm-day", t)
        start, end = self.window_start_us(t), self.window_end_us(t)

        def when() -> int:
            return start + int(rng.integers(9 * HOUR, 23 * HOUR))

        def update(customer_id: str | None, at: int | None = None, **changes: object) -> None:
            if customer_id is None or customer_id not in self.crm:
                return
            record = dict(self.crm[customer_id])
            record.update(changes)
            record["_ts"] = max(at or when(), record["_ts"] + US)
            self._emit_crm(record)

        for i in np.flatnonzero(self.email_change_day == t):
            update(self.primary_id[i], email=self.email[i])
        for i in np.flatnonzero(self.move_day == t):
            street = (
                f"{int(rng.integers(1, 9800))} {rng.choice(STREET_NAMES)} "
                f"{rng.choice(list(STREET_SUFFIXES))}"
            )
            self.street[i] = street
            self.postcode[i] = f"{CITIES[self.city_idx[i]][4]}{int(rng.integers(0, 100)):02d}"
            update(self.primary_id[i], street=street, postcode=self.postcode[i])
        for i in np.flatnonzero(self.duplicate_day == t):
            if self.is_customer[i] and self.second_id[i] is None:
                since = self.date_of(t)
                record = self._crm_record(i, rng, since, when(), second=True)
                self._emit_crm(record)
                self.second_id[i] = record["customer_id"]
        # Conversions of the day: a holding, and a CRM record for a prospect.
        due = [c for c in self.conversions if c[0] < end]
        self.conversions = [c for c in self.conversions if c[0] >= end]
        for ts, i, k, _app in due:
            product = self.products[k]
            self.satisfied[i, k] = t
            self.held[i, k] = True
            stamp = ts + int(rng.integers(1 * HOUR, 20 * HOUR))
            if not self.is_customer[i]:
                record = self._crm_record(i, rng, self.date_of(t), stamp)
                self._emit_crm(record)
                self.primary_id[i] = record["customer_id"]
                self.is_customer[i] = True
                self.holdings_of[i].append(
                    self._holding(
                        i,
                        record["customer_id"],
                        "current_account",
                        self.date_of(t),
                        stamp + US,
                        rng,
                    )
                )
            h = self._holding(i, self.primary_id[i], product, self.date_of(t), stamp + 2 * US, rng)
            self.holdings_of[i].append(h)
        # Consent drift, and the CRM catching up with unsubscribes a few days late.
        for i in np.flatnonzero(self.is_customer & (rng.random(self.n) < 0.0008)):
            channel = str(rng.choice(["email", "sms", "push", "phone"]))
            cid = self.primary_id[i]
            if cid in self.crm:
                now = when()
                flip = "N" if self.crm[cid][f"consent_{channel}"] == "Y" else "Y"
                if channel == "email" and self.unsubscribed[i]:
                    flip = "N"
                update(
                    cid,
                    now,
                    **{
                        f"consent_{channel}": flip,
                        f"consent_{channel}_at": format_ts(now, "space"),
                    },
                )
        lagging = self.unsubscribed & self.is_customer & (rng.random(self.n) < 0.3)
        for i in np.flatnonzero(lagging):
            cid = self.primary_id[i]
            if cid in self.crm and self.crm[cid]["consent_email"] == "Y":
                now = when()
                update(cid, now, consent_email="N", consent_email_at=format_ts(now, "space"))
        # Products closing now and then, balances refreshing.
        for h in list(self.holdings.values()):
            if (
                h["closed_at"] is None
                and rng.random() < 0.0003
                and h["product"] != "current_account"
            ):
                row = dict(h, closed_at=self.date_of(t).isoformat(), _ts=max(when(), h["_ts"] + US))
                self.holdings[h["holding_id"]] = row
                self.holdings_of[row["_person"]] = [
                    row if x["holding_id"] == row["holding_id"] else x
                    for x in self.holdings_of[row["_person"]]
                ]
                self.buffer["crm_products"].append(dict(row))
                if row["product"] in self.products and not self.holds(
                    row["_person"], row["product"]
                ):
                    self.held[row["_person"], self.products.index(row["product"])] = False
            elif h["closed_at"] is None and h["balance"] is not None and rng.random() < 0.01:
                row = dict(
                    h,
                    balance=f"{float(h['balance']) * rng.uniform(0.9, 1.1):.2f}",
                    _ts=max(when(), h["_ts"] + US),
                )
                self.holdings[h["holding_id"]] = row
                self.holdings_of[row["_person"]] = [
                    row if x["holding_id"] == row["holding_id"] else x
                    for x in self.holdings_of[row["_person"]]
                ]
                self.buffer["crm_products"].append(dict(row))
        return []

    def esp_address(self, i: int, t: int) -> str | None:
        """The address the newsletter tool holds for the person on day t."""
        if not self.email[i]:
            return None
        if self.old_email[i] and t < self.esp_updates_day[i]:
            return self.old_email[i]
        return self.email[i]

    def on_newsletter(self, t: int) -> np.ndarray:
        members = np.zeros(self.n, dtype=bool)
        for i in range(self.n):
            if self.unsubscribed[i] or not self.email[i]:
                continue
            cid = self.primary_id[i]
            if cid and cid in self.crm:
                members[i] = (
                    self.crm[cid]["consent_email"] == "Y" and self.crm[cid]["do_not_contact"] == "N"
                )
            else:
                members[i] = self.newsletter_prospect[i]
        return members

    def _campaigns_day(self, t: int, need: np.ndarray) -> list[tuple]:
        """The bank's own campaigns: a weekly newsletter and fortnightly product promotions."""
        d = self.date_of(t)
        rng = self._rng("campaigns", t)
        clicks: list[tuple] = []
        week = d.isocalendar().week
        plans = []
        if d.weekday() == 1:
            plans.append((f"nl-{d.year}w{week:02d}", self.products[week % len(self.products)], 1.0))
        if d.weekday() == 3 and week % 2 == 0:
            k = int(rng.integers(len(self.products)))
            plans.append((f"promo-{self.products[k]}-{d.isoformat()}", self.products[k], 0.35))
        if not plans:
            return clicks
        members = self.on_newsletter(t)
        send_at = self.window_end_us(t) - 3 * HOUR  # 14:00 UTC
        for campaign, topic, share in plans:
            k = self.products.index(topic)
            chosen = np.flatnonzero(members & (rng.random(self.n) < share))
            for i in chosen:
                address = self.esp_address(i, t)
                if address is None:
                    continue
                message = f"<{campaign}.{zlib.crc32(address.encode()):08x}@mail.bank.example>"
                sent = send_at + int(rng.integers(0, 40 * MINUTE))
                clicked_at = self.email_events(
                    rng,
                    i,
                    t,
                    address,
                    message,
                    campaign,
                    topic,
                    sent,
                    p_click_open=float(
                        _sigmoid(
                            -2.6 + 2.6 * need[i, k] + self.affinity[i, 0] + self.responsiveness[i]
                        )
                    ),
                    p_open=0.0
                    if self.never_opens[i]
                    else float(_sigmoid(self.email_eng[i] + 0.8 * need[i, k])),
                )
                if clicked_at is not None:
                    clicks.append((i, clicked_at, k, campaign, "email"))
        return clicks

    def email_events(
        self,
        rng: np.random.Generator,
        i: int,
        t: int,
        address: str,
        message: str,
        campaign: str,
        topic: str | None,
        sent: int,
        p_click_open: float,
        p_open: float,
        forced_click: bool | None = None,
    ) -> int | None:
        """An email provider's events for one message; the click instant if clicked."""
        self.links.setdefault(f"email__events:{address}", i)

        def event(kind: str, at: int, link: str | None = None) -> None:
            self.buffer["email"].append(
                {
                    "_ts": at,
                    "event_id": f"esp-{self._next_id('esp'):010d}",
                    "event_type": kind,
                    "message_id": message,
                    "campaign_id": campaign,
                    "recipient_email": address,
                    "product_topic": topic,
                    "link_url": link,
                }
            )

        event("send", sent)
        if address in self.dead_from and t >= self.dead_from[address]:
            event("bounce", sent + int(rng.integers(2, 90)) * US)
            return None
        if rng.random() < 0.002:  # a full mailbox, a flaky server
            event("bounce", sent + int(rng.integers(5, 600)) * US)
            return None
        if self.mail_proxy[i]:  # the privacy proxy fetches the images at once, often twice
            at = sent + int(rng.integers(2, 40)) * US
            event("open", at)
            if rng.random() < 0.45:
                event("open", at + int(rng.integers(20, 900)) * US)
        clicked = (
            (rng.random() < p_click_open * max(p_open, 0.05))
            if forced_click is None
            else forced_click
        )
        opened = clicked or rng.random() < p_open
        click_at = None
        if opened:
            at = sent + int(np.exp(rng.normal(np.log(2.5 * 3600), 1.1)) * US)
            event("open", at)
            if rng.random() < 0.25:  # read again later
                event("open", at + int(rng.integers(1, 30)) * HOUR)
            if clicked:
                click_at = at + int(rng.integers(5, 300)) * US
                slug = PRODUCT_SLUG.get(topic or "", (topic or "offers").replace("_", "-"))
                event(
                    "click",
                    click_at,
                    f"https://www.bank.example/{slug}?utm_source=email&utm_campaign={campaign}",
                )
        if not clicked and rng.random() < (0.004 if self.never_opens[i] else 0.0015):
            event("unsubscribe", sent + int(rng.integers(1, 48)) * HOUR)
            self.unsubscribed[i] = True
        return click_at

    def _web_day(self, t: int, need: np.ndarray, clicks: list[tuple]) -> None:
        rng = self._rng("web", t)
        top = need.max(axis=1)
        n_app = rng.poisson(self.app_rate * (1 + 1.2 * top))
        n_web = rng.poisson(self.web_rate * (1 + 2.5 * top))
        # Cookies get cleared, browsers change.
        for i in np.flatnonzero(rng.random(self.n) < 0.03):
            self.cookie[i] = self._new_cookie(int(i))
        persons = np.concatenate(
            [np.repeat(np.arange(self.n), n_app), np.repeat(np.arange(self.n), n_web)]
        )
        kinds = np.concatenate([np.full(n_app.sum(), "app"), np.full(n_web.sum(), "web")])
        starts = self._times(rng, t, persons, WEB_PROFILE)
        for i, kind, at in zip(persons, kinds, starts, strict=True):
            self.session(rng, int(i), int(at), need[i], app=kind == "app")
        for i, at, k, campaign, _ in clicks:
            self.session(rng, i, at + 2 * US, need[i], app=False, landing=k, campaign=campaign)

    def session(
        self,
        rng: np.random.Generator,
        i: int,
        at: int,
        need_row: np.ndarray,
        app: bool,
        landing: int | None = None,
        campaign: str | None = None,
    ) -> None:
        """One visit to the site or the app: pages about products the person needs, mostly."""
        if app and self.app_device[i] is None:
            app = False
        if app:
            device, platform = self.app_device[i], self.app_platform[i]
        elif self.tablet[i] and rng.random() < 0.3:
            device, platform = self.tablet[i], "web"
        else:
            device, platform = self.cookie[i], "web"
        session = f"s-{self._next_id('session'):09d}"
        clock = at

        def event(
            kind: str,
            category: str | None = None,
            topic: int | None = None,
            path: str | None = None,
            **extra: object,
        ) -> None:
            nonlocal clock
            self.buffer["web"].append(
                {
                    "_ts": clock,
                    "event_id": f"w-{self._next_id('web'):010d}",
                    "event_type": kind,
                    "anonymous_id": device,
                    "session_id": session,
                    "platform": platform,
                    "page_path": path,
                    "page_category": category,
                    "product_topic": None if topic is None else self.products[topic],
                    "login_email": extra.get("login_email"),
                    "login_customer_id": extra.get("login_customer_id"),
                    "referrer": extra.get("referrer"),
                    "utm_campaign": extra.get("utm_campaign"),
                }
            )
            clock += int(rng.integers(8, 150)) * US

        def page(k: int | None, category: str, **extra: object) -> None:
            if k is None:
                event("page_view", category, None, f"/{category}", **extra)
                return
            slug = PRODUCT_SLUG.get(self.products[k], self.products[k].replace("_", "-"))
            path = f"/{slug}" if category == "product" else f"/{slug}/{category}"
            event("page_view", category, k, path, **extra)
            if category == "calculator" and rng.random() < 0.3 + 0.5 * min(1.0, need_row[k]):
                event("calculator_submit", "calculator", k, path)

        if app:
            event("app_open", utm_campaign=campaign)
        if landing is not None:
            page(landing, "product", referrer="email" if not app else None, utm_campaign=campaign)
        elif not app:
            referrer = rng.choice(
                ["https://www.google.com/", None, "https://www.bing.com/", "https://news.example/"],
                p=[0.45, 0.4, 0.05, 0.1],
            )
            page(None, "home", referrer=referrer)
        customer = self.primary_id[i]
        if customer and rng.random() < (0.88 if app else 0.4):
            ids = [customer] + ([self.second_id[i]] if self.second_id[i] else [])
            if app:
                event(
                    "login",
                    "account",
                    None,
                    "/login",
                    login_customer_id=ids[int(rng.integers(len(ids)))],
                )
            else:
                typed = self.email[i] if rng.random() < 0.8 else None
                if typed and self.old_email[i] and rng.random() < 0.15:
                    typed = self.old_email[i]
                if typed and rng.random() < 0.1:
                    typed = typed.upper()
                event(
                    "login",
                    "account",
                    None,
                    "/login",
                    login_email=typed,
                    login_customer_id=None if typed else customer,
                )
        weights = need_row + 0.04
        for _ in range(1 + int(rng.poisson(1.0 + 2.5 * need_row.max()))):
            if rng.random() < min(0.9, 0.15 + 0.7 * need_row.max()):
                k = int(rng.choice(len(self.products), p=weights / weights.sum()))
                strong = min(1.0, need_row[k])
                category = str(
                    rng.choice(
                        ["product", "rates", "calculator", "blog"],
                        p=np.array([0.45, 0.2, 0.1 + 0.2 * strong, 0.25 - 0.1 * strong])
                        / (1.0 + 0.1 * strong),
                    )
                )
                page(k, category)
            else:
                page(
                    None,
                    str(
                        rng.choice(["account", "support", "blog", "home"], p=[0.45, 0.2, 0.2, 0.15])
                    ),
                )

    def _calls_day(self, t: int, need: np.ndarray) -> None:
        rng = self._rng("calls", t)
        weekend = self.date_of(t).weekday() >= 5
        scale = 0.35 if weekend else 1.0
        product_calls = rng.random(need.shape) < scale * 0.022 * need
        general = rng.random(self.n) < scale * 0.0015
        moved = (self.move_day <= t) & (self.move_day > t - 5) & (rng.random(self.n) < 0.2)
        calls = [(int(i), int(k)) for i, k in zip(*np.nonzero(product_calls), strict=True)]
        calls += [(int(i), -1) for i in np.flatnonzero(general)]
        calls += [(int(i), -2) for i in np.flatnonzero(moved)]
        if not calls:
            return
        times = self._times(rng, t, np.array([c[0] for c in calls]), CALL_PROFILE)
        reasons, weights = zip(*GENERAL_CALLS, strict=True)
        w = np.array(weights) / sum(weights)
        for (i, k), at in zip(calls, times, strict=True):
            if k >= 0 and CALL_REASONS.get(self.products[k]):
                reason = str(rng.choice(CALL_REASONS[self.products[k]]))
            elif k == -2:
                reason = "address_change"
            else:
                reason = str(rng.choice(reasons, p=w))
            phone_pick = rng.random()
            if phone_pick < 0.7:
                phone = format_phone(self.mobile[i], rng)
            elif phone_pick < 0.82 and self.landline[i]:
                phone = format_phone(self.landline[i], rng)
            elif phone_pick < 0.9:
                phone = None  # withheld
            else:
                phone = format_phone(
                    _phone_digits(str(rng.choice(CITIES[self.city_idx[i]][3])), rng), rng
                )
            first = _typed_first(self.first[i], rng, 0.15, 0.06)
            last = _typo(self.last[i], rng) if rng.random() < 0.06 else self.last[i]
            style = rng.random()
            name = (
                f"{first} {last}" if style < 0.85 else f"{last}, {first}" if style < 0.92 else first
            )
            verified = self.primary_id[i] is not None and rng.random() < 0.65
            disposition = str(
                rng.choice(
                    ["resolved", "callback_requested", "transferred", "referred_to_advisor"],
                    p=[0.6, 0.15, 0.1, 0.15] if k >= 0 else [0.8, 0.1, 0.08, 0.02],
                )
            )
            call_id = f"CC{self._next_id('call'):09d}"
            self.links[f"contact_centre__calls:{call_id}"] = i
            self.buffer["calls"].append(
                {
                    "_ts": int(at),
                    "_zone": self.tz[i],
                    "call_id": call_id,
                    "caller_phone": phone,
                    "caller_name": name,
                    "customer_id": self.primary_id[i] if verified else None,
                    "reason_code": reason,
                    "disposition": disposition,
                    "duration_seconds": str(int(np.exp(rng.normal(np.log(320), 0.6)))),
                    "agent_id": f"AG{int(rng.integers(100, 160))}",
                    "note": None
                    if rng.random() < 0.5
                    else f"caller asked about {reason.replace('_', ' ')}",
                }
            )
            if disposition == "referred_to_advisor" and self.primary_id[i]:
                self._note(rng, i, int(at) + int(rng.integers(1, 48)) * HOUR, k)

    def _note(self, rng: np.random.Generator, i: int, at: int, k: int) -> None:
        cid = self.primary_id[i]
        if cid is None or cid not in self.crm:
            return
        kinds = self.events[
            (self.events["person"] == i) & (self.events["t0"] <= self.day_of_us(at))
        ]["kind"]
        if len(kinds) and rng.random() < 0.7:
            text = NOTE_TEXT[kinds.iloc[-1]].format(city=CITIES[self.city_idx[i]][0])
        elif k >= 0:
            text = f"Discussed {self.products[k].replace('_', ' ')} options; sent the rate sheet."
        else:
            text = "Routine review; no changes needed."
        note_id = f"NT{self._next_id('note'):08d}"
        self.buffer["notes"].append(
            {
                "_ts": at,
                "note_id": note_id,
                "customer_id": cid,
                "advisor_id": self.crm[cid]["advisor_id"],
                "note": text,
            }
        )

    def _branch_day(self, t: int, need: np.ndarray) -> None:
        rng = self._rng("branch", t)
        if self.date_of(t).weekday() == 6:
            return
        visits = np.flatnonzero(
            self.is_customer & (rng.random(self.n) < 0.0006 + 0.004 * need.max(axis=1))
        )
        times = self._times(rng, t, visits, BRANCH_PROFILE)
        for i, at in zip(visits, times, strict=True):
            self._note(rng, int(i), int(at), int(np.argmax(need[i])) if need[i].max() > 0 else -1)

    def _applications_day(self, t: int, need: np.ndarray) -> None:
        rng = self._rng("applications", t)
        rate = np.array([APPLY_RATE.get(p, 0.015) for p in self.products])
        hazard = rate * need**1.5 + 0.00004
        hazard = np.where(self.held, hazard * 0.1, hazard)
        hazard = np.where(self.applying_until >= t, 0.0, hazard)
        starts = list(zip(*np.nonzero(rng.random(need.shape) < hazard), strict=True))
        if not starts:
            return
        times = self._times(rng, t, np.array([s[0] for s in starts]), WEB_PROFILE)
        for (i, k), at in zip(starts, times, strict=True):
            channel = str(rng.choice(["web", "app", "branch", "phone"], p=[0.5, 0.25, 0.15, 0.1]))
            if channel == "app" and not self.app_user[i]:
                channel = "web"
            self.application(rng, int(i), int(k), int(at), channel)

    def application(self, rng: np.random.Generator, i: int, k: int, at: int, channel: str) -> str:
        """An application and its whole future: submitted, decided, maybe converted."""
        product = self.products[k]
        app_id = f"APP{self._next_id('application'):08d}"
        self.links[f"outcomes__applications:{app_id}"] = i
        self.applying_until[i, k] = self.day_of_us(at) + 30
        low, high, step = AMOUNTS.get(product, (1000, 10000, 500))
        amount = low + step * int(rng.integers(0, (high - low) // step + 1))
        dob = self.dob[i]
        if rng.random() < 0.02:
            dob = dob.replace(year=dob.year + int(rng.choice([-1, 1])))
        identity = {
            "application_id": app_id,
            "product": product,
            "channel": channel,
            "customer_id": self.primary_id[i]
            if self.primary_id[i] and rng.random() < 0.55
            else None,
            "first_name": _typed_first(self.first[i], rng, 0.1, 0.02),
            "last_name": self.last[i],
            "email": self.email[i] if rng.random() < 0.92 else None,
            "phone": format_phone(self.mobile[i], rng) if rng.random() < 0.88 else None,
            "date_of_birth": None if rng.random() < 0.02 else dob.isoformat(),
            "amount": str(amount),
        }

        def stage(name: str, when: int) -> None:
            self.buffer["applications"].append({"_ts": when, "stage": name, **identity})

        stage("started", at)
        if rng.random() < 0.78:
            submitted = at + int(rng.integers(5, 120)) * MINUTE
            stage("submitted", submitted)
            decided = submitted + int(rng.integers(4, 24 * 6)) * HOUR
            if rng.random() < APPROVAL.get(product, 0.8):
                stage("approved", decided)
                if rng.random() < 0.85:
                    converted = decided + int(rng.integers(6, 24 * 9)) * HOUR
                    stage("converted", converted)
                    self.conversions.append((converted, i, k, app_id))
            else:
                stage("declined", decided)
        return app_id

    # -- truth --------------------------------------------------------------------------------

    def persons_frame(self, t: int) -> pd.DataFrame:
        return pd.DataFrame(
            {
                "person_id": [self.person_id(i) for i in range(self.n)],
                "household": self.household,
                "first_name": self.first,
                "last_name": self.last,
                "gender": self.gender,
                "age": self.age,
                "date_of_birth": self.dob,
                "time_zone": self.tz,
                "email": self.email,
                "old_email": self.old_email,
                "mobile": self.mobile,
                "landline": self.landline,
                "crm_phone_is_landline": self.crm_phone_is_landline,
                "app_user": self.app_user,
                "app_rate": self.app_rate,
                "web_rate": self.web_rate,
                "mail_proxy": self.mail_proxy,
                "never_opens": self.never_opens,
                "is_customer": self.is_customer,
                "primary_crm_id": self.primary_id,
                "second_crm_id": self.second_id,
                "responsiveness": self.responsiveness,
                **{f"affinity_{c}": self.affinity[:, j] for j, c in enumerate(CHANNELS)},
                "best_channel": self.best_channels(t),
            }
        )

    def best_channels(self, t: int) -> list[str]:
        """Each person's truly best channel among those that reach them (none: 'none')."""
        reach = self.reachable(t)
        aff = np.where(reach, self.affinity, -np.inf)
        return [CHANNELS[j] if reach[i].any() else "none" for i, j in enumerate(aff.argmax(axis=1))]

    def person_id(self, i: int) -> str:
        return f"P{i:06d}"

    def write_truth(self, paths: DataPaths, t: int) -> None:
        """Persons (as of day t), record ownership, life events and the offers."""
        folder = truth_dir(paths)
        folder.mkdir(parents=True, exist_ok=True)
        self.persons_frame(t).to_parquet(folder / "persons.parquet", index=False)
        pd.DataFrame(
            {
                "record_id": list(self.links),
                "person_id": [self.person_id(i) for i in self.links.values()],
            }
        ).to_parquet(folder / "record_links.parquet", index=False)
        self.events.assign(person_id=[self.person_id(i) for i in self.events["person"]]).to_parquet(
            folder / "life_events.parquet", index=False
        )
        (folder / "offers.json").write_text(json.dumps([o.__dict__ for o in self.offers], indent=1))

    def write_probabilities(self, paths: DataPaths, t: int) -> None:
        """Day t's true click probability of every person x offer x offered channel."""
        folder = truth_dir(paths) / "probabilities"
        folder.mkdir(parents=True, exist_ok=True)
        p = self.probabilities(t)
        need = self.need(t)
        ids = [self.person_id(i) for i in range(self.n)]
        rows = []
        for o, offer in enumerate(self.offers):
            k = self.products.index(offer.product) if offer.product in self.products else None
            for c, channel in enumerate(CHANNELS):
                if channel in offer.channels:
                    rows.append(
                        pd.DataFrame(
                            {
                                "person_id": ids,
                                "offer_id": offer.id,
                                "channel": channel,
                                "day": self.date_of(t).isoformat(),
                                "probability": p[:, o, c].astype(np.float32),
                                "need": (need[:, k] if k is not None else np.zeros(self.n)).astype(
                                    np.float32
                                ),
                            }
                        )
                    )
        pd.concat(rows).to_parquet(folder / f"{self.date_of(t).isoformat()}.parquet", index=False)

    def truth_of_day(self, paths: DataPaths, t: int) -> tuple[np.ndarray, np.ndarray]:
        """Day t's truth as written: probabilities (persons, offers, channels), NaN off the offers'
        channels, and the need for each offer's product (persons, offers)."""
        frame = pd.read_parquet(
            truth_dir(paths) / "probabilities" / f"{self.date_of(t).isoformat()}.parquet"
        )
        person = frame["person_id"].str[1:].astype(int).to_numpy()
        offer = frame["offer_id"].map({o.id: j for j, o in enumerate(self.offers)}).to_numpy()
        channel = frame["channel"].map({c: k for k, c in enumerate(CHANNELS)}).to_numpy()
        p = np.full((self.n, len(self.offers), len(CHANNELS)), np.nan)
        p[person, offer, channel] = frame["probability"].to_numpy()
        need = np.zeros((self.n, len(self.offers)))
        need[person, offer] = frame["need"].to_numpy()
        return p, need

    def __getstate__(self) -> dict:
        state = dict(self.__dict__)
        # Answers need the probabilities of the last few delivery days only.
        recent = sorted(self.prob_cache)[-4:]
        state["prob_cache"] = {t: self.prob_cache[t] for t in recent}
        return state

    def save(self, paths: DataPaths) -> None:
        folder = truth_dir(paths)
        folder.mkdir(parents=True, exist_ok=True)
        with (folder / "world_state.pkl").open("wb") as handle:
            pickle.dump(self, handle)

    @staticmethod
    def load(paths: DataPaths) -> BankWorld:
        with (truth_dir(paths) / "world_state.pkl").open("rb") as handle:
            return pickle.load(handle)


# Local hour of day -> relative activity.
WEB_PROFILE = np.array(
    [
        0.15,
        0.08,
        0.05,
        0.04,
        0.05,
        0.1,
        0.3,
        0.6,
        0.8,
        0.9,
        1.0,
        1.0,
        1.2,
        1.1,
        1.0,
        0.9,
        0.9,
        1.0,
        1.2,
        1.4,
        1.5,
        1.3,
        0.9,
        0.4,
    ]
)
CALL_PROFILE = np.array(
    [0.0] * 8 + [0.8, 1.2, 1.2, 1.1, 1.0, 1.0, 1.1, 1.0, 0.9, 0.7, 0.5, 0.3] + [0.0] * 4
)
BRANCH_PROFILE = np.array([0.0] * 9 + [1.0, 1.2, 1.2, 1.0, 1.0, 1.1, 1.0, 0.8] + [0.0] * 7)


def generate_history(paths: DataPaths, config: WorldConfig, progress=None) -> BankWorld:
    """Build the world and write its history: every day's landing files and its truth."""
    world = BankWorld(config)
    for t in range(config.history_days):
        world.write_probabilities(paths, t)
        world.simulate_day(t)
        world.flush(paths, t)
        if progress:
            progress(t)
    world.write_truth(paths, config.history_days - 1)
    world.save(paths)
    return world
