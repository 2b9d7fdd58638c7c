"""The people of the demo world: who they are, where they live, how they can be reached.

Everything here is the truth about a person, before any system captures it. Households of 2-4
share an address, usually a surname and sometimes a landline, but never a first name or a birthday.
People own 1-3 devices, one or two email addresses over time (the old one lingers in other
systems), and habits of browsing and reading messages (how much, and at which local hours:
``habits.py``) that sources turn into behaviour.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from dagster_project.demo.config import WorldConfig
from dagster_project.demo.day_context import city_time_zones
from dagster_project.demo.formatting import concat, digits, epoch_day, pick
from dagster_project.demo.habits import READING_CHANNELS, plan_habits
from dagster_project.demo.noise import FIRST_NAMES
from dagster_project.demo.random_streams import hex_ids, stream, weighted_choice
from dagster_project.demo.vocabulary import (
    CITIES,
    EMAIL_DOMAINS,
    FEMALE_FIRST_NAMES,
    STREET_NAMES,
    STREET_SUFFIXES,
    SURNAMES,
)

GENDERS = ("F", "M", "X")
PLATFORMS = ("web", "ios", "android")
CONSENT_SHARES = (0.70, 0.50, 0.40, 0.60)  # email, sms, push, phone: contracts.CONSENT_CHANNELS
AFFINITY_CHANNELS = READING_CHANNELS  # email, sms, push: channels the closed loop answers on
NO_DAY = np.iinfo(np.int32).max  # "never" for day-index columns

_HOUSEHOLD_SIZES = (np.array([2, 3, 4]), np.array([0.6, 0.3, 0.1]))
_SHARED_SURNAME = 0.8
_LANDLINE_SHARE_SHARED_HOME = 0.6
_LANDLINE_SHARE_LIVING_ALONE = 0.15
_PROSPECT_MAILING_LIST = 0.35
_ESP_KEEPS_OLD_EMAIL = 0.5
_DO_NOT_CONTACT = 0.02


@dataclass(frozen=True)
class Population:
    """One row per person (arrays aligned by person index) plus their devices."""

    person_id: pa.Array
    gender: np.ndarray  # index into GENDERS
    first_name: np.ndarray  # index into noise.FIRST_NAMES
    last_name: np.ndarray  # index into SURNAMES
    birth_day: np.ndarray  # epoch days
    household: np.ndarray  # household index
    household_size: np.ndarray
    household_member: np.ndarray  # person indices ordered by household
    household_start: np.ndarray  # per household: index of its first member in household_member
    street_number: np.ndarray
    street_name: np.ndarray  # index into STREET_NAMES
    street_suffix: np.ndarray  # index into STREET_SUFFIXES
    city: np.ndarray  # index into CITIES
    postcode: pa.Array
    mobile: np.ndarray  # 10-digit number
    home_phone: np.ndarray  # 10-digit number shared by the household, 0 when none
    email: pa.Array  # the address they use now
    previous_email: pa.Array  # the address they used before, null when they never changed
    email_changed_day: np.ndarray  # day index of the change (may be before the window), or NO_DAY
    customer_at_start: np.ndarray  # has a CRM record when the world starts
    customer_since_day: np.ndarray  # epoch day they became a customer, for customer_at_start
    consents: np.ndarray  # (persons, 4) bool, per contracts.CONSENT_CHANNELS
    consent_since_day: np.ndarray  # (persons, 4) epoch day the preference was last set
    do_not_contact: np.ndarray
    branch: np.ndarray
    advisor: np.ndarray
    web_activity: np.ndarray  # multiplier on browsing, mean 1
    channel_affinity: np.ndarray  # (persons, 3) logit shift per AFFINITY_CHANNELS
    web_hour: np.ndarray  # local hour (0..24) they like to be online (habits.py)
    read_hour: np.ndarray  # (persons, 3) local hour they read each of AFFINITY_CHANNELS
    on_mailing_list: np.ndarray  # the email platform mails them when the world starts
    esp_keeps_old_email: np.ndarray  # the email platform never picked up their new address
    device_person: np.ndarray
    device_platform: np.ndarray  # index into PLATFORMS
    device_id: pa.Array  # anonymous cookie / app-install id
    device_start: np.ndarray  # per person: index of their first device
    device_count: np.ndarray

    @property
    def size(self) -> int:
        return len(self.gender)

    @property
    def time_zone(self) -> np.ndarray:
        """Index into ``day_context.TIME_ZONES`` per person."""
        return city_time_zones()[self.city]

    @property
    def has_previous_email(self) -> np.ndarray:
        return ~np.asarray(self.previous_email.is_null(), dtype=bool)

    def email_on(self, day: int) -> pa.Array:
        """The address each person used on ``day`` (before a change: the previous one)."""
        before_change = pa.array(self.has_previous_email & (day < self.email_changed_day))
        return pc.if_else(before_change, self.previous_email, self.email)

    def other_member(self, rng: np.random.Generator, people: np.ndarray) -> np.ndarray:
        """Another member of each person's household, uniformly; -1 for people living alone.

        Drawing one of the first size-1 members and taking the last member instead of oneself
        keeps the choice uniform over the others without a per-household loop.
        """
        size = self.household_size[people]
        start = self.household_start[self.household[people]]
        slot = start + (rng.random(len(people)) * np.maximum(size - 1, 1)).astype(np.int64)
        other = self.household_member[slot]
        other = np.where(other == people, self.household_member[start + size - 1], other)
        return np.where(size > 1, other, -1)

    def pick_devices(self, rng: np.random.Generator, people: np.ndarray) -> np.ndarray:
        """One of each person's devices, uniformly."""
        offset = (rng.random(len(people)) * self.device_count[people]).astype(np.int64)
        return self.device_start[people] + offset


def _zipf_weights(n: int, flatten: float) -> np.ndarray:
    """Popularity by rank; ``flatten`` keeps the head from swallowing the list."""
    return 1.0 / (np.arange(n) + flatten)


def _first_names(gender: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    n_female = len(FEMALE_FIRST_NAMES)
    female = weighted_choice(rng, _zipf_weights(n_female, 8), len(gender))
    male = n_female + weighted_choice(
        rng, _zipf_weights(len(FIRST_NAMES) - n_female, 8), len(gender)
    )
    either = np.where(rng.random(len(gender)) < 0.5, female, male)
    return np.select([gender == 0, gender == 1], [female, male], either)


def _households(n: int, share: float, rng: np.random.Generator) -> np.ndarray:
    """Household index per person: about ``share`` of people live in households of 2-4."""
    target = round(share * n)
    sizes = np.zeros(0, dtype=np.int64)
    if target >= 2:
        values, weights = _HOUSEHOLD_SIZES
        sizes = values[weighted_choice(rng, weights, target // 2 + 1)]
        sizes = sizes[: np.searchsorted(np.cumsum(sizes), target) + 1]
        sizes[-1] -= max(int(sizes.sum()) - target, 0)
        sizes = sizes[sizes >= 2]
    shared = np.repeat(np.arange(len(sizes)), sizes)
    single = len(sizes) + np.arange(n - len(shared))
    return rng.permutation(np.concatenate([shared, single]))


def _first_in_household(household: np.ndarray) -> np.ndarray:
    """Per person: True for the first member of their household (index order)."""
    first = np.zeros(len(household), dtype=bool)
    first[np.unique(household, return_index=True)[1]] = True
    return first


def _resample_clashes(
    values: np.ndarray, household: np.ndarray, redraw: Callable[[np.ndarray], np.ndarray]
) -> np.ndarray:
    """Redraw values shared by two members of a household until every member is distinct."""
    values = values.copy()
    sharing = np.flatnonzero(np.bincount(household)[household] > 1)
    for _ in range(100):
        order = sharing[np.lexsort((values[sharing], household[sharing]))]
        clash = (household[order][1:] == household[order][:-1]) & (
            values[order][1:] == values[order][:-1]
        )
        if not clash.any():
            return values
        people = order[1:][clash]
        values[people] = redraw(people)
    raise RuntimeError("could not make household members distinct")


def _clean_ascii_lower(names: tuple[str, ...]) -> pa.Array:
    """Names as they appear in email local parts: lowercase letters only."""
    return pc.replace_substring_regex(pc.utf8_lower(pa.array(names)), "[^a-z]", "")


def _email_candidates(
    first_name: np.ndarray, last_name: np.ndarray, birth_day: np.ndarray, rng: np.random.Generator
) -> pa.Array:
    n = len(first_name)
    first = pick(_clean_ascii_lower(FIRST_NAMES), first_name)
    last = pick(_clean_ascii_lower(SURNAMES), last_name)
    initial = pc.utf8_slice_codeunits(first, 0, 1)
    two = digits(rng.integers(1, 100, n), 2)
    year = digits((1970 + birth_day // 365) % 100, 2)
    locals_ = [
        concat(first, ".", last),
        concat(first, last),
        concat(initial, last),
        concat(first, "_", last),
        concat(first, ".", last, two),
        concat(first, digits(rng.integers(1, 1000, n), 3)),
        concat(last, ".", first),
        concat(first, pc.utf8_slice_codeunits(last, 0, 1), year),
    ]
    shares = np.array([0.26, 0.14, 0.14, 0.06, 0.16, 0.08, 0.06, 0.10])
    layout = weighted_choice(rng, shares, n).astype(np.int8)
    domains = pa.array([d for d, _ in EMAIL_DOMAINS])
    domain = pick(domains, weighted_choice(rng, np.array([w for _, w in EMAIL_DOMAINS]), n))
    return concat(pc.choose(pa.array(layout), *locals_), "@", domain)


def _repeats(values: pa.Array) -> np.ndarray:
    """True for every occurrence of a value after its first."""
    codes = pc.dictionary_encode(values).indices.to_numpy()
    repeat = np.ones(len(codes), dtype=bool)
    repeat[np.unique(codes, return_index=True)[1]] = False
    return repeat


def _make_unique(emails: pa.Array, rng: np.random.Generator) -> pa.Array:
    """Append digits to addresses someone else already has until every address is unique."""
    for _ in range(20):
        taken = _repeats(emails)
        if not taken.any():
            return emails
        local, domain = (
            pc.list_element(pc.split_pattern(emails, "@", max_splits=1), i) for i in (0, 1)
        )
        suffix = digits(rng.integers(1, 10_000, len(emails)), 1)
        emails = pc.if_else(pa.array(taken), concat(local, suffix, "@", domain), emails)
    raise RuntimeError("could not make email addresses unique")


def _devices(
    n: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, pa.Array, np.ndarray, np.ndarray]:
    count = 1 + weighted_choice(rng, np.array([0.45, 0.38, 0.17]), n)
    start = (np.cumsum(count) - count).astype(np.int64)
    person = np.repeat(np.arange(n), count)
    first_device = np.zeros(len(person), dtype=bool)
    first_device[start] = True
    platform = np.where(
        first_device,
        weighted_choice(rng, np.array([0.55, 0.25, 0.20]), len(person)),
        weighted_choice(rng, np.array([0.40, 0.30, 0.30]), len(person)),
    )
    return person, platform, hex_ids(rng, len(person)), start, count


def build_population(config: WorldConfig) -> Population:
    rng = stream(config.seed, "population")
    n = config.customers
    start = epoch_day(config.start_date)

    gender = weighted_choice(rng, np.array([0.49, 0.49, 0.02]), n)
    household = _households(n, config.household_share, rng)
    n_households = int(household.max()) + 1
    size = np.bincount(household)[household]
    lives_with_others = size > 1

    first_name = _resample_clashes(
        _first_names(gender, rng), household, lambda people: _first_names(gender[people], rng)
    )
    surname_weights = _zipf_weights(len(SURNAMES), 20)
    household_surname = weighted_choice(rng, surname_weights, n_households)
    own_surname = weighted_choice(rng, surname_weights, n)
    keeps_household_name = _first_in_household(household) | (rng.random(n) < _SHARED_SURNAME)
    last_name = np.where(keeps_household_name, household_surname[household], own_surname)

    def draw_birth_days(people: np.ndarray) -> np.ndarray:
        # Out-of-range ages are redrawn, not clipped: clipping piles everyone under 18 onto
        # one birthday, and identical birthdays are what tells people apart.
        age = rng.normal(45, 16, len(people))
        outside = (age < 18.2) | (age > 92)
        age[outside] = rng.uniform(18.2, 92, int(outside.sum()))
        return (start - age * 365.25).astype(np.int64)

    birth_day = _resample_clashes(draw_birth_days(np.arange(n)), household, draw_birth_days)

    # The address and the landline belong to the household.
    city_of = weighted_choice(rng, np.array([c.weight for c in CITIES]), n_households)
    number_of = np.exp(rng.random(n_households) * np.log(9999)).astype(np.int64) + 1
    street_of = rng.integers(0, len(STREET_NAMES), n_households)
    suffix_of = weighted_choice(rng, 1.0 / (np.arange(len(STREET_SUFFIXES)) + 2), n_households)
    zip_prefix = pick(pa.array([c.zip_prefix for c in CITIES]), city_of)
    postcode_of = concat(zip_prefix, digits(rng.integers(0, 100, n_households), 2))
    city = city_of[household]
    area_codes = np.array([c.area_code for c in CITIES], dtype=np.int64)

    def phone_numbers(area: np.ndarray) -> np.ndarray:
        exchange = rng.integers(201, 1000, len(area))
        return area * 10_000_000 + exchange * 10_000 + rng.integers(0, 10_000, len(area))

    # A mobile keeps the area code of wherever its owner got it.
    moved = rng.random(n) < 0.2
    mobile_area = np.where(moved, area_codes[rng.integers(0, len(CITIES), n)], area_codes[city])
    mobile = phone_numbers(mobile_area)
    household_head = np.unique(household, return_index=True)[1]
    landline_share = np.where(
        lives_with_others[household_head], _LANDLINE_SHARE_SHARED_HOME, _LANDLINE_SHARE_LIVING_ALONE
    )
    has_landline = rng.random(n_households) < landline_share
    landline = np.where(has_landline, phone_numbers(area_codes[city_of]), 0)

    changed = rng.random(n) < config.changed_email_rate
    addresses = _make_unique(
        pa.concat_arrays(
            [
                _email_candidates(first_name, last_name, birth_day, rng),
                _email_candidates(first_name[changed], last_name[changed], birth_day[changed], rng),
            ]
        ),
        rng,
    )
    email = addresses.slice(0, n)
    previous_position = np.where(changed, n + np.cumsum(changed) - 1, 0)
    previous_email = pick(addresses, previous_position, valid=changed)
    email_changed_day = np.where(changed, rng.integers(-60, config.days, n), NO_DAY)

    customer = rng.random(n) < config.crm_customer_share
    adult_days = (start - birth_day) - 18 * 365
    tenure = np.minimum(rng.exponential(6 * 365, n) + 30, adult_days).astype(np.int64)
    customer_since_day = start - tenure
    consents = rng.random((n, len(CONSENT_SHARES))) < np.array(CONSENT_SHARES)
    consent_age = (rng.random((n, len(CONSENT_SHARES))) * tenure[:, None]).astype(np.int64)
    do_not_contact = rng.random(n) < _DO_NOT_CONTACT

    branches_per_city = np.array([max(1, round(c.weight)) for c in CITIES])
    first_branch = np.cumsum(branches_per_city) - branches_per_city
    branch = first_branch[city] + (rng.random(n) * branches_per_city[city]).astype(np.int64)
    advisor = branch * 3 + rng.integers(0, 3, n)

    activity = rng.lognormal(0.0, 0.9, n) / np.exp(0.9**2 / 2)
    web_activity = np.where(customer, activity, 0.6 * activity)
    on_list = np.where(
        customer,
        consents[:, 0] & ~do_not_contact,
        rng.random(n) < _PROSPECT_MAILING_LIST,
    )
    device_person, device_platform, device_id, device_start, device_count = _devices(n, rng)

    household_member = np.argsort(household, kind="stable")
    habits = plan_habits(n, config.seed)
    return Population(
        person_id=concat("P", digits(np.arange(1, n + 1), 8)),
        gender=gender,
        first_name=first_name,
        last_name=last_name,
        birth_day=birth_day,
        household=household,
        household_size=size,
        household_member=household_member,
        household_start=np.searchsorted(household[household_member], np.arange(n_households)),
        street_number=number_of[household],
        street_name=street_of[household],
        street_suffix=suffix_of[household],
        city=city,
        postcode=postcode_of.take(pa.array(household)),
        mobile=mobile,
        home_phone=landline[household],
        email=email,
        previous_email=previous_email,
        email_changed_day=email_changed_day,
        customer_at_start=customer,
        customer_since_day=customer_since_day,
        consents=consents,
        consent_since_day=start - consent_age - 1,
        do_not_contact=do_not_contact,
        branch=branch,
        advisor=advisor,
        web_activity=web_activity,
        channel_affinity=rng.normal(0.0, 0.8, (n, len(AFFINITY_CHANNELS))),
        web_hour=habits.web_hour,
        read_hour=habits.read_hour,
        on_mailing_list=on_list,
        esp_keeps_old_email=changed & (rng.random(n) < _ESP_KEEPS_OLD_EMAIL),
        device_person=device_person,
        device_platform=device_platform,
        device_id=device_id,
        device_start=device_start,
        device_count=device_count,
    )
