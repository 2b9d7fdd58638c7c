"""Splink settings as data, composed from the identity fields a file actually has.

Comparisons and blocking rules are chosen per field from one small library below, so the demo
world, FEBRL and any person file a data engineer brings are linked by the same rules.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

import splink.comparison_level_library as cll
import splink.comparison_library as cl
from splink import SettingsCreator, block_on

from .splink_internals import BlockingRuleCreator, ComparisonCreator


def _first_name() -> ComparisonCreator:
    return cl.CustomComparison(
        output_column_name="first_name",
        # The swap is scored here only: both names agreeing crosswise is one piece of evidence,
        # and a reversed level in the surname comparison too would count it twice.
        comparison_description="given name, with nicknames and first/last swapped",
        comparison_levels=[
            cll.NullLevel("first_name"),
            cll.ExactMatchLevel("first_name").configure(tf_adjustment_column="first_name"),
            cll.ColumnsReversedLevel("first_name", "last_name", symmetrical=True),
            cll.ExactMatchLevel("first_name_canonical"),
            cll.JaroWinklerLevel("first_name", 0.92),
            cll.JaroWinklerLevel("first_name", 0.85),
            cll.ElseLevel(),
        ],
    )


def _fuzzy_text(column: str, high: float, low: float) -> ComparisonCreator:
    """Exact (with term frequencies), two Jaro-Winkler bands, else: surnames and addresses."""
    return cl.CustomComparison(
        output_column_name=column,
        comparison_levels=[
            cll.NullLevel(column),
            cll.ExactMatchLevel(column).configure(tf_adjustment_column=column),
            cll.JaroWinklerLevel(column, high),
            cll.JaroWinklerLevel(column, low),
            cll.ElseLevel(),
        ],
    )


def _location(has_postcode: bool) -> ComparisonCreator:
    """Where someone lives, as one piece of evidence: the street address, else the postcode.

    Address and postcode say the same thing twice. Compared apart, a person who moved pays for
    it twice (both disagree), so moving looks like two independent reasons for being someone
    else, and EM, which assumes independence, learns that a true pair almost never differs on
    either. One comparison counts a move once: the same address, a close one (a typo), only
    the same postcode, or neither.
    """
    if not has_postcode:
        return _fuzzy_text("address", 0.9, 0.8)
    null = "(address_l IS NULL OR address_r IS NULL) AND (postcode_l IS NULL OR postcode_r IS NULL)"
    same_postcode = cll.ExactMatchLevel("postcode").configure(label_for_charts="same postcode")
    return cl.CustomComparison(
        output_column_name="address",
        comparison_description="street address, else postcode",
        comparison_levels=[
            cll.CustomLevel(null).configure(is_null_level=True),
            cll.ExactMatchLevel("address").configure(tf_adjustment_column="address"),
            cll.JaroWinklerLevel("address", 0.9),
            same_postcode,
            cll.ElseLevel(),
        ],
    )


def _typo_tolerant(column: str, tf: bool = False) -> ComparisonCreator:
    exact = cll.ExactMatchLevel(column)
    return cl.CustomComparison(
        output_column_name=column,
        comparison_levels=[
            cll.NullLevel(column),
            exact.configure(tf_adjustment_column=column) if tf else exact,
            cll.DamerauLevenshteinLevel(column, 1),
            cll.ElseLevel(),
        ],
    )


def _middle_name() -> ComparisonCreator:
    """A middle name, or only its initial (registers often keep just that)."""
    return cl.CustomComparison(
        output_column_name="middle_name",
        comparison_levels=[
            cll.NullLevel("middle_name"),
            cll.ExactMatchLevel("middle_name"),
            cll.CustomLevel(
                "left(middle_name_l, 1) = left(middle_name_r, 1)", label_for_charts="same initial"
            ),
            cll.ElseLevel(),
        ],
    )


def _dob() -> ComparisonCreator:
    """Dates of birth as registers get them wrong: day and month swapped, one digit mistyped, or
    only the year right. Levels run from most to least alike, so evidence falls with each."""
    digits = "strftime(dob_{side}, '%Y%m%d')"
    return cl.CustomComparison(
        output_column_name="dob",
        comparison_description="date of birth, with day/month swaps and one-digit typos",
        comparison_levels=[
            cll.NullLevel("dob"),
            cll.ExactMatchLevel("dob"),
            cll.CustomLevel(
                "strftime(dob_l, '%Y-%d-%m') = strftime(dob_r, '%Y-%m-%d')",
                label_for_charts="day and month swapped",
            ),
            cll.CustomLevel(
                f"damerau_levenshtein({digits.format(side='l')}, {digits.format(side='r')}) <= 1",
                label_for_charts="one digit different",
            ),
            cll.CustomLevel("year(dob_l) = year(dob_r)", label_for_charts="same year"),
            cll.ElseLevel(),
        ],
    )


@dataclass(frozen=True)
class FieldRules:
    """What one identity field contributes: a comparison and the blocking rules it enables."""

    requires: tuple[str, ...]
    comparison: ComparisonCreator | None
    blocking: tuple[BlockingRuleCreator | str, ...] = ()
    excluded_by: tuple[str, ...] = ()


def _rules() -> list[FieldRules]:
    return [
        FieldRules(
            ("first_name", "last_name"),
            None,
            (
                block_on("first_name", "last_name"),
                "l.first_name = r.last_name AND l.last_name = r.first_name",
            ),
        ),
        FieldRules(("first_name",), _first_name()),
        FieldRules(("last_name",), _fuzzy_text("last_name", 0.92, 0.85)),
        FieldRules(("middle_name",), _middle_name()),
        FieldRules(("dob",), _dob()),
        FieldRules(("dob", "last_name"), None, (block_on("last_name", "dob"),)),
        FieldRules(("dob", "first_name"), None, (block_on("first_name", "dob"),)),
        FieldRules(("email",), cl.EmailComparison("email"), (block_on("email"),)),
        FieldRules(("phone",), _typo_tolerant("phone"), (block_on("phone"),)),
        FieldRules(("address", "postcode"), _location(has_postcode=True)),
        FieldRules(("address",), _location(has_postcode=False), excluded_by=("postcode",)),
        FieldRules(
            ("address", "first_name"), None, (block_on("address", "substr(first_name, 1, 1)"),)
        ),
        FieldRules(("postcode",), _typo_tolerant("postcode"), excluded_by=("address",)),
        FieldRules(
            ("postcode", "last_name"), None, (block_on("postcode", "substr(last_name, 1, 2)"),)
        ),
        # City and state only where there is no postcode: next to it they repeat the same
        # evidence, and EM on such correlated fields drives m values to zero.
        FieldRules(
            ("city",),
            cl.ExactMatch("city").configure(term_frequency_adjustments=True),
            excluded_by=("postcode",),
        ),
        FieldRules(("state",), cl.ExactMatch("state"), excluded_by=("postcode",)),
        FieldRules(("national_id",), _typo_tolerant("national_id"), (block_on("national_id"),)),
    ]


def usable_columns(non_null_share: dict[str, float], minimum: float = 0.01) -> set[str]:
    """Fields present in enough records to be worth comparing."""
    return {column for column, share in non_null_share.items() if share >= minimum}


def build_settings(columns: Iterable[str], retain: Iterable[str] = ()) -> SettingsCreator:
    present = set(columns)
    chosen = [
        r for r in _rules() if set(r.requires) <= present and not set(r.excluded_by) & present
    ]
    comparisons = [r.comparison for r in chosen if r.comparison is not None]
    blocking = [b for r in chosen for b in r.blocking]
    if not comparisons or not blocking:
        raise ValueError(
            "not enough identity fields to link: give at least names, email, phone, "
            f"national id or dob with a name (have: {sorted(present) or 'none'})"
        )
    return SettingsCreator(
        link_type="dedupe_only",
        unique_id_column_name="record_id",
        comparisons=comparisons,
        blocking_rules_to_generate_predictions=blocking,
        retain_matching_columns=True,
        retain_intermediate_calculation_columns=True,
        additional_columns_to_retain=list(retain),
        max_iterations=25,
        em_convergence=0.0001,
    )


def training_blocking_rules(columns: Iterable[str]) -> list[BlockingRuleCreator]:
    """EM sessions, each blocked on evidence about the *person*, never on a household field.

    Blocked on a postcode, a phone or a surname alone, most candidate pairs are members of one
    household and EM learns them as the matching class. Names with a date of birth, a date of
    birth, a national id or an email pick pairs that are mostly the same person or strangers.
    Each session estimates the comparisons it does not block on, so between them all are trained.
    """
    present = set(columns)
    candidates = [
        ("first_name", "last_name"),
        ("first_name", "dob"),
        ("last_name", "dob"),
        ("dob",),
        ("national_id",),
        ("email",),
    ]
    return [block_on(*fields) for fields in candidates if set(fields) <= present]


def label_rules(columns: Iterable[str]) -> list[tuple[str, str, tuple[str, ...]]]:
    """Near-certain evidence of one person, as (name, SQL join condition, fields used): the
    pairs it picks are counted to estimate the m of every *other* comparison."""
    present = set(columns)
    candidates = [
        ("identical national id", "l.national_id = r.national_id", ("national_id",)),
        ("identical email", "l.email = r.email", ("email",)),
        (
            "identical phone and date of birth",
            "l.phone = r.phone AND l.dob = r.dob",
            ("phone", "dob"),
        ),
    ]
    return [c for c in candidates if set(c[2]) <= present]


def comparison_inputs(model: dict) -> dict[str, set[str]]:
    """Each comparison of a model (Splink JSON) and the input columns its levels read."""
    return {
        c["output_column_name"]: {
            name
            for level in c["comparison_levels"]
            for name in re.findall(r"(\w+)_[lr]\b", level.get("sql_condition", ""))
        }
        for c in model["comparisons"]
    }


def deterministic_rules(columns: Iterable[str]) -> list[BlockingRuleCreator]:
    """Rules almost surely true matches, to estimate the prior probability of a match."""
    present = set(columns)
    candidates = [("first_name", "last_name", "dob"), ("email",), ("national_id", "dob")]
    return [block_on(*fields) for fields in candidates if set(fields) <= present]
