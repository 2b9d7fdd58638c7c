"""How people's details get mangled on the way into a system, applied to whole columns at once.

A person's true identity lives in the population; every source record "types" it again with
fresh noise: nicknames, one-keystroke typos, first and last name the wrong way round, phones in
whatever format the form or agent used, empty optional fields, dates of birth mistyped, a field
taken from another member of the household. ``NoiseTally`` keeps the realised
rates so ``world.json`` can report what the data actually contains.
"""

from __future__ import annotations

import functools
from collections import defaultdict
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from dagster_project.demo.config import WorldConfig
from dagster_project.demo.formatting import concat, digits, epoch_day, null_where, pick
from dagster_project.demo.random_streams import weighted_choice
from dagster_project.demo.vocabulary import (
    FEMALE_FIRST_NAMES,
    MALE_FIRST_NAMES,
    NICKNAMES,
    SURNAMES,
)

if TYPE_CHECKING:  # population imports this module's name lists
    from dagster_project.demo.population import Population

FIRST_NAMES: tuple[str, ...] = FEMALE_FIRST_NAMES + MALE_FIRST_NAMES
assert len(set(FIRST_NAMES)) == len(FIRST_NAMES), "a first name is listed twice"


@functools.cache
def first_name_forms() -> tuple[pa.Array, np.ndarray, np.ndarray]:
    """Every spelling a first name can take, and for each given name its short forms.

    Returns (forms, options, counts): ``forms`` starts with ``FIRST_NAMES`` (so a given-name index
    is also a form index) followed by short forms that are not given names themselves;
    ``options[i, :counts[i]]`` are the form indices of given name i's short forms.
    """
    extra = sorted({s for shorts in NICKNAMES.values() for s in shorts} - set(FIRST_NAMES))
    forms = FIRST_NAMES + tuple(extra)
    position = {name: i for i, name in enumerate(forms)}
    width = max(len(shorts) for shorts in NICKNAMES.values())
    options = np.zeros((len(FIRST_NAMES), width), dtype=np.int64)
    counts = np.zeros(len(FIRST_NAMES), dtype=np.int64)
    for i, name in enumerate(FIRST_NAMES):
        shorts = NICKNAMES.get(name, ())
        counts[i] = len(shorts)
        options[i, : len(shorts)] = [position[s] for s in shorts]
    return pa.array(forms), options, counts


@functools.cache
def surname_forms() -> pa.Array:
    return pa.array(SURNAMES)


class NoiseTally:
    """Counts how often each kind of noise was applied, out of how many chances."""

    def __init__(self) -> None:
        self._hits: dict[str, int] = defaultdict(int)
        self._trials: dict[str, int] = defaultdict(int)

    def observe(self, kind: str, hits: np.ndarray, trials: np.ndarray | None = None) -> None:
        self._hits[kind] += int(np.count_nonzero(hits))
        self._trials[kind] += len(hits) if trials is None else int(np.count_nonzero(trials))

    def rates(self) -> dict[str, float]:
        return {
            kind: round(self._hits[kind] / self._trials[kind], 6) if self._trials[kind] else 0.0
            for kind in sorted(self._trials)
        }


# ---------------------------------------------------------------------------------------- names

_DELETE, _DUPLICATE, _TRANSPOSE, _SUBSTITUTE = range(4)
_QWERTY_NEIGHBOURS = {
    "q": "wa", "w": "qes", "e": "wrd", "r": "etf", "t": "ryg", "y": "tuh", "u": "yij", "i": "uok",
    "o": "ipl", "p": "ol", "a": "qsz", "s": "adwx", "d": "sfec", "f": "dgrv", "g": "fhtb",
    "h": "gjyn", "j": "hkum", "k": "jli", "l": "kop", "z": "asx", "x": "zcs", "c": "xvd",
    "v": "cbf", "b": "vng", "n": "bmh", "m": "nj",
}  # fmt: skip


@functools.cache
def _neighbour_table() -> tuple[np.ndarray, np.ndarray]:
    """For each lowercase ASCII code point: its keyboard neighbours (padded) and how many."""
    width = max(len(n) for n in _QWERTY_NEIGHBOURS.values())
    table = np.zeros((128, width), dtype=np.uint32)
    counts = np.zeros(128, dtype=np.int64)
    for key, near in _QWERTY_NEIGHBOURS.items():
        table[ord(key), : len(near)] = [ord(c) for c in near]
        counts[ord(key)] = len(near)
    return table, counts


def _hit_neighbour_key(chars: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Replace each letter by a neighbouring key, keeping its case; other characters stay."""
    table, counts = _neighbour_table()
    is_upper = (chars >= ord("A")) & (chars <= ord("Z"))
    lower = np.where(is_upper, chars + 32, chars)
    ascii_lower = np.where(lower < 128, lower, 0)
    n_near = counts[ascii_lower]
    choice = (rng.random(len(chars)) * np.maximum(n_near, 1)).astype(np.int64)
    near = table[ascii_lower, choice]
    near = np.where(is_upper, near - 32, near)
    return np.where(n_near > 0, near, chars).astype(np.uint32)


def _one_typo(words: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Each string with one keystroke error: a letter dropped, doubled, swapped or mis-hit.

    Strings are handled as a (rows, code points) matrix so the edit is a gather, not a loop.
    """
    n = len(words)
    width = words.dtype.itemsize // 4 + 1  # one spare column so a doubled letter fits
    codes = np.zeros((n, width), dtype=np.uint32)
    codes[:, :-1] = words.view(np.uint32).reshape(n, width - 1)
    length = np.count_nonzero(codes, axis=1)
    kind = rng.integers(0, 4, n)
    kind[length < 3] = _DUPLICATE  # dropping or swapping letters of "Al" leaves too little
    pos = (rng.random(n) * length).astype(np.int64)
    pos = np.where(kind == _TRANSPOSE, np.minimum(pos, np.maximum(length - 2, 0)), pos)
    col = np.arange(width)[None, :]
    at = pos[:, None]
    source = np.broadcast_to(col, (n, width))
    kinds = kind[:, None]
    source = np.where(kinds == _DELETE, np.minimum(col + (col >= at), width - 1), source)
    source = np.where(kinds == _DUPLICATE, col - (col > at), source)
    source = np.where((kinds == _TRANSPOSE) & (col == at), at + 1, source)
    source = np.where((kinds == _TRANSPOSE) & (col == at + 1), at, source)
    typed = np.take_along_axis(codes, source, axis=1)
    rows = np.flatnonzero(kind == _SUBSTITUTE)
    typed[rows, pos[rows]] = _hit_neighbour_key(typed[rows, pos[rows]], rng)
    # Swapping "ll" or mis-hitting an apostrophe changes nothing: double a letter instead.
    same = np.flatnonzero((typed == codes).all(axis=1))
    typed[same] = np.take_along_axis(codes[same], col - (col > pos[same, None]), axis=1)
    return np.ascontiguousarray(typed).view(f"<U{width}").ravel()


def with_typos(values: pa.Array, rows: np.ndarray, rng: np.random.Generator) -> pa.Array:
    """``values`` with one typo in each non-null value where ``rows`` is True."""
    rows = rows & ~np.asarray(values.is_null(), dtype=bool)
    if not rows.any():
        return values
    chosen = values.filter(pa.array(rows)).to_numpy(zero_copy_only=False).astype(str)
    return pc.replace_with_mask(values, pa.array(rows), pa.array(_one_typo(chosen, rng)))


def with_nicknames(
    first_name: np.ndarray, rng: np.random.Generator, rate: float | np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Swap given names for a short form at ``rate`` where one exists.

    Returns the form indices, which rows used a short form, and which rows could have.
    """
    _, options, counts = first_name_forms()
    n_forms = counts[first_name]
    eligible = n_forms > 0
    used = eligible & (rng.random(len(first_name)) < rate)
    choice = (rng.random(len(first_name)) * np.maximum(n_forms, 1)).astype(np.int64)
    forms = np.where(used, options[first_name, choice], first_name)
    return forms, used, eligible


@dataclass(frozen=True)
class TypedNames:
    """A person's names as one record captured them, and which noise went in."""

    first: pa.Array
    last: pa.Array
    nickname: np.ndarray
    nickname_eligible: np.ndarray
    typo: np.ndarray
    swapped: np.ndarray

    def tally(self, tally: NoiseTally) -> None:
        tally.observe("nickname_rate", self.nickname, self.nickname_eligible)
        tally.observe("typo_rate", self.typo)
        tally.observe("swapped_name_rate", self.swapped)


def type_names(
    first_name: np.ndarray,
    last_name: np.ndarray,
    rng: np.random.Generator,
    config: WorldConfig,
    intensity: float | np.ndarray = 1.0,
) -> TypedNames:
    """Names as typed into a form: nicknames, then typos, then first/last swapped.

    ``intensity`` scales every rate (per row if an array), for records typed more carelessly.
    """
    n = len(first_name)
    forms, nickname, eligible = with_nicknames(
        first_name, rng, np.minimum(1.0, config.nickname_rate * intensity)
    )
    first = pick(first_name_forms()[0], forms)
    last = pick(surname_forms(), last_name)
    typo = rng.random(n) < np.minimum(1.0, config.typo_rate * intensity)
    in_first = rng.random(n) < 0.5
    first = with_typos(first, typo & in_first, rng)
    last = with_typos(last, typo & ~in_first, rng)
    swapped = rng.random(n) < np.minimum(1.0, config.swapped_name_rate * intensity)
    if swapped.any():
        swap = pa.array(swapped)
        first, last = pc.if_else(swap, last, first), pc.if_else(swap, first, last)
    return TypedNames(first, last, nickname, eligible, typo, swapped)


# How an agent writes a caller's name into the call record: (share, layout).
_CALLER_NAME_LAYOUTS = (
    (0.60, "First Last"),
    (0.20, "LAST, First"),
    (0.10, "first last"),
    (0.05, "FIRST LAST"),
    (0.05, "Last, First"),
)


def caller_names(names: TypedNames, rng: np.random.Generator) -> pa.Array:
    """One free-text name per call in the layout the agent happened to use."""
    shares = np.array([share for share, _ in _CALLER_NAME_LAYOUTS])
    layout = weighted_choice(rng, shares, len(names.first))
    first, last = names.first, names.last
    rendered = [
        concat(first, " ", last),
        concat(pc.utf8_upper(last), ", ", first),
        pc.utf8_lower(concat(first, " ", last)),
        pc.utf8_upper(concat(first, " ", last)),
        concat(last, ", ", first),
    ]
    return pc.choose(pa.array(layout.astype(np.int8)), *rendered)


# --------------------------------------------------------------------------------------- phones

# Layouts of a 10-digit number: A = area code, E = exchange, L = line. The first is canonical.
_PHONE_LAYOUTS: tuple[tuple[str, ...], ...] = (
    ("+1", "A", "E", "L"),
    ("+1 (", "A", ") ", "E", "-", "L"),
    ("(", "A", ") ", "E", "-", "L"),
    ("A", ".", "E", ".", "L"),
    ("A", "E", "L"),
    ("A", "-", "E", "-", "L"),
    ("1-", "A", "-", "E", "-", "L"),
)


def e164(numbers: np.ndarray) -> pa.Array:
    """Canonical phones (``+15552013344``); numbers <= 0 mean no phone and give null."""
    return render_phones(numbers, np.zeros(len(numbers), dtype=np.int64))


def render_phones(numbers: np.ndarray, layout: np.ndarray) -> pa.Array:
    """10-digit numbers in the given ``_PHONE_LAYOUTS`` layout; numbers <= 0 give null."""
    numbers = np.asarray(numbers, dtype=np.int64)
    if not len(numbers):
        return pa.array([], pa.string())
    parts = {
        "A": digits(numbers // 10_000_000, 3),
        "E": digits(numbers // 10_000 % 1000, 3),
        "L": digits(numbers % 10_000, 4),
    }
    used = np.unique(layout)
    rendered = {int(i): concat(*(parts.get(p, p) for p in _PHONE_LAYOUTS[i])) for i in used}
    if len(used) == 1:
        phones = rendered[int(used[0])]
    else:
        slot = np.searchsorted(used, layout).astype(np.int8)
        phones = pc.choose(pa.array(slot), *(rendered[int(i)] for i in used))
    return null_where(phones, numbers <= 0)


def type_phones(
    numbers: np.ndarray, rng: np.random.Generator, config: WorldConfig, tally: NoiseTally
) -> pa.Array:
    """Phones as typed: some in a local layout instead of E.164, some left empty."""
    n = len(numbers)
    varied = rng.random(n) < config.phone_format_rate
    layout = np.where(varied, rng.integers(1, len(_PHONE_LAYOUTS), n), 0)
    present = np.asarray(numbers) > 0
    tally.observe("phone_format_rate", varied & present, present)
    return blank(render_phones(numbers, layout), rng, config, tally)


# ------------------------------------------------------------------------------ missing fields


def blank(
    values: pa.Array, rng: np.random.Generator, config: WorldConfig, tally: NoiseTally
) -> pa.Array:
    """Leave an optional field empty at ``missing_field_rate``, the way forms get skipped."""
    missing = rng.random(len(values)) < config.missing_field_rate
    tally.observe("missing_field_rate", missing)
    return null_where(values, missing)


# ------------------------------------------------------------------------------- households

_COPIED_BIRTHDAY = 0.5  # share of household copies that take the birthday, not the first name


def copy_from_household(
    population: Population,
    person: np.ndarray,
    rng: np.random.Generator,
    config: WorldConfig,
    tally: NoiseTally,
    *,
    types_birthday: bool = True,
    intensity: float | np.ndarray = 1.0,
) -> tuple[np.ndarray, np.ndarray]:
    """The given name and birth day each record was typed from: its person's, except that at
    ``household_copy_rate`` one of them is another member's of the same household (drawn from
    ``rng`` first; people living alone have none).

    Records that type no birthday
    (``types_birthday=False``) can only take the name. Copying the index, not the typed text,
    lets the copied name pick up nicknames and typos like any other.
    """
    other = population.other_member(rng, person)
    n = len(person)
    eligible = other >= 0
    copied = eligible & (rng.random(n) < np.minimum(1.0, config.household_copy_rate * intensity))
    takes_birthday = types_birthday & (rng.random(n) < _COPIED_BIRTHDAY)
    tally.observe("household_copy_rate", copied, eligible)
    name_of = np.where(copied & ~takes_birthday, other, person)
    birthday_of = np.where(copied & takes_birthday, other, person)
    return population.first_name[name_of], population.birth_day[birthday_of]


# --------------------------------------------------------------------------- dates of birth

# How a typed date of birth goes wrong: (share, kind). A swap needs a day of 12 or less that
# differs from the month; where it cannot happen the date gets a wrong digit instead.
_SWAPPED_DAY_MONTH, _WRONG_DIGIT, _YEAR_ONLY = range(3)
_DOB_ERROR_SHARES = np.array([0.4, 0.4, 0.2])
_DAYS_IN_MONTH = np.array([31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31])


def _calendar(days: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(year, month, day) of each epoch day."""
    dates = np.asarray(days, dtype=np.int64).astype("datetime64[D]")
    months = dates.astype("datetime64[M]")
    years = dates.astype("datetime64[Y]")
    month = (months - years.astype("datetime64[M]")).astype(np.int64) + 1
    day = (dates - months.astype("datetime64[D]")).astype(np.int64) + 1
    return years.astype(np.int64) + 1970, month, day


def _epoch_days(year: np.ndarray, month: np.ndarray, day: np.ndarray) -> np.ndarray:
    """The epoch day of each (year, month, day); the day must exist in that month."""
    months = (year - 1970).astype("datetime64[Y]").astype("datetime64[M]") + (month - 1)
    return (months.astype("datetime64[D]") + (day - 1)).astype(np.int64)


def _days_in_month(year: np.ndarray, month: np.ndarray) -> np.ndarray:
    leap = (year % 4 == 0) & ((year % 100 != 0) | (year % 400 == 0))
    return _DAYS_IN_MONTH[np.clip(month, 1, 12) - 1] + ((month == 2) & leap)


def _one_wrong_digit(
    year: np.ndarray, month: np.ndarray, day: np.ndarray, latest: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each date with one digit of YY-MM-DD replaced, uniformly among the replacements that give
    a real date no later than ``latest``.

    The century digits are left alone: a 1985 typed as 2985 is a broken field, not a typo a
    matcher has to live with. All 6 x 9 candidates are scored at once and the best kept.
    """
    n = len(year)
    place = np.array([10, 1])  # tens and units of each two-digit part
    parts = np.stack([year % 100, month, day], axis=1)  # (n, 3)
    digit = parts[:, :, None] // place % 10  # (n, 3, 2)
    new_digit = (digit[..., None] + np.arange(1, 10)) % 10  # (n, 3, 2, 9): every other digit
    candidate = np.broadcast_to(parts[:, :, None, None, None], (n, 3, 3, 2, 9)).copy()
    for part in range(3):
        candidate[:, part, part] += (new_digit[:, part] - digit[:, part, :, None]) * place[:, None]
    candidate = candidate.reshape(n, 3, 54)  # (rows, year/month/day, candidates)
    new_year = year[:, None] - year[:, None] % 100 + candidate[:, 0]
    new_month, new_day = candidate[:, 1], candidate[:, 2]
    valid = (new_month >= 1) & (new_month <= 12) & (new_day >= 1)
    valid &= new_day <= _days_in_month(new_year, new_month)
    as_epoch = _epoch_days(new_year, np.where(valid, new_month, 1), np.where(valid, new_day, 1))
    valid &= as_epoch <= latest  # 2005 typed as 2095 would be a birth in the future
    # A day's units digit can always move within its month, so every row has a candidate.
    assert valid.any(axis=1).all(), "a date with no one-digit neighbour"
    score = np.where(valid, rng.random(valid.shape), -1.0)
    chosen = np.argmax(score, axis=1)
    rows = np.arange(n)
    return new_year[rows, chosen], new_month[rows, chosen], new_day[rows, chosen]


def with_birthday_errors(
    birth_day: np.ndarray,
    rng: np.random.Generator,
    config: WorldConfig,
    tally: NoiseTally,
    intensity: float | np.ndarray = 1.0,
) -> np.ndarray:
    """Birth days (epoch days) as typed: at ``dob_error_rate`` wrong in one realistic way.

    Day and month swapped (05/03 for 03/05), one digit wrong, or only the year right (a date
    half-remembered). Every result is a real calendar date, differs from the truth and is not
    after the world start, so a matcher sees a plausible but wrong birthday, never garbage.
    """
    n = len(birth_day)
    wrong = rng.random(n) < np.minimum(1.0, config.dob_error_rate * intensity)
    kind = weighted_choice(rng, _DOB_ERROR_SHARES, n)
    tally.observe("dob_error_rate", wrong)
    rows = np.flatnonzero(wrong)
    if not len(rows):
        return birth_day
    year, month, day = _calendar(birth_day[rows])
    kind = kind[rows]
    kind[(kind == _SWAPPED_DAY_MONTH) & ((day > 12) | (day == month))] = _WRONG_DIGIT
    latest = epoch_day(config.start_date) - 1
    digit_year, digit_month, digit_day = _one_wrong_digit(year, month, day, latest, rng)
    # Only the year right: any other day of that year (the year is at least 18 years back).
    other_month = rng.integers(1, 13, len(rows))
    other_day = 1 + (rng.random(len(rows)) * _days_in_month(year, other_month)).astype(np.int64)
    same = (other_month == month) & (other_day == day)
    other_day = np.where(same, other_day % _days_in_month(year, other_month) + 1, other_day)
    typed = np.select(
        [kind == _SWAPPED_DAY_MONTH, kind == _WRONG_DIGIT],
        [
            _epoch_days(year, np.minimum(day, 12), np.where(day <= 12, month, 1)),
            _epoch_days(digit_year, digit_month, digit_day),
        ],
        _epoch_days(year, other_month, other_day),
    )
    birth_day = birth_day.copy()
    birth_day[rows] = typed
    return birth_day
