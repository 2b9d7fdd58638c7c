"""Training a Splink model that cannot mistake a family for one person.

Expectation maximisation on person files has a known failure: blocked on a household field
(postcode, phone, surname) the candidate pairs are mostly members of one household, and EM learns
*them* as the matching class, so a different given name and birthday look like evidence of a
match. Training here is built so that cannot happen, and says what it decided:

* **u** by random sampling, as usual.
* **Labelled m** where a file has near-certain evidence (an identical national id, an identical
  email, or an identical phone with the same date of birth): the m of every *other* comparison is
  counted on those pairs. It starts EM and is the fallback when EM goes wrong.
* **EM sessions blocked on person-level evidence only** (names, names with a date of birth, a
  date of birth, national id, email), never on a household field; each session runs on its own
  from the same start, and its estimate of a comparison is kept only if it is *monotone*: more
  alike never means less likely the same person (exact and every partial level weigh more than
  else; exact is evidence for, else against, and more matches agree exactly than not at all).
* A comparison without a kept estimate takes its labelled m, else a conservative default profile.
* **The prior** (probability two random records match) from the data, not from a guessed
  recall: the expected number of matching pairs over all pairs, counted with the trained m and u
  on the candidate pairs of a sample, to a fixed point.

Every decision lands in ``TrainingNotes`` (the model manifest and the asset metadata).
"""

from __future__ import annotations

import logging
import statistics
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING

import duckdb

from .linkage_config import LinkageConfig
from .splink_internals import EMTrainingException
from .splink_settings import (
    build_settings,
    comparison_inputs,
    deterministic_rules,
    label_rules,
    training_blocking_rules,
)

if TYPE_CHECKING:
    from .linkage import Timer

log = logging.getLogger(__name__)

LABEL_PAIRS_MAX = 200_000  # labelled pairs counted per rule: plenty for a handful of m values
LABEL_PAIRS_MIN = 30  # fewer than this and a label rule says too little to count m on
# When no session and no label could estimate a comparison: most true pairs agree exactly, a few
# partially, very few not at all. Shares of the exact, the partial levels (together) and else.
DEFAULT_M = (0.90, 0.08, 0.02)
DEFAULT_PRIOR_PER_RECORD = 0.5  # without any estimate: about one duplicate per two records
DEGENERATE_M = 1e-4  # an m this close to 0 or 1 is a session that found no real matches
PRIOR_SAMPLE_RECORDS = 100_000  # records the prior is counted on
PRIOR_MIN_WEIGHT = -15.0  # candidate pairs below this weigh nothing in the expected matches


@dataclass
class TrainingNotes:
    """What training decided, in words and numbers: for the manifest and the asset metadata."""

    records: int = 0
    prior: float = 0.0
    prior_method: str = ""
    labelled_pairs: dict[str, int] = field(default_factory=dict)
    sessions: dict[str, str] = field(default_factory=dict)  # rule -> what became of it
    m_source: dict[str, str] = field(default_factory=dict)  # comparison -> where its m came from
    decisions: list[str] = field(default_factory=list)  # the repairs, in sentences

    def as_dict(self) -> dict:
        return asdict(self)


def _levels(model: dict, comparison: str) -> list[dict]:
    """The non-null levels of one comparison, most alike first (else last)."""
    found = next(c for c in model["comparisons"] if c["output_column_name"] == comparison)
    return [level for level in found["comparison_levels"] if not level.get("is_null_level")]


def _m_values(model: dict, comparison: str) -> list[float | None]:
    return [level.get("m_probability") for level in _levels(model, comparison)]


def _set_m(model: dict, comparison: str, m: list[float]) -> None:
    for level, value in zip(_levels(model, comparison), m, strict=True):
        level["m_probability"] = value


def monotone(model: dict, comparison: str, m: list[float | None]) -> bool:
    """More alike never weighs less: an exact agreement is evidence for a match (Bayes factor
    above 1) and more common among matches than the else level; the else level is evidence
    against (below 1), and every partial level weighs more than else. A partial level may weigh
    more than exact (first and last name swapped is rarer among strangers than an exact name).
    A level random pairs never reached (no u) says nothing either way and is not judged. An
    estimate that puts every match in one level (m of 0 or 1) is degenerate: real data has typos
    and gaps, and a session whose "matches" agree perfectly has latched onto something else."""
    u = [level.get("u_probability") for level in _levels(model, comparison)]
    ends = (m[0], m[-1], u[0], u[-1])
    if any(v is None for v in ends) or u[0] <= 0 or u[-1] <= 0:
        return False
    exact, other = m[0] / u[0], m[-1] / u[-1]
    partial = [mi / ui for mi, ui in zip(m[1:-1], u[1:-1], strict=True) if mi is not None and ui]
    degenerate = any(v is not None and not DEGENERATE_M < v < 1 - DEGENERATE_M for v in m)
    return (
        not degenerate and exact > 1 > other and m[0] >= m[-1] and all(f > other for f in partial)
    )


def _default_m(levels: int) -> list[float]:
    exact, partial, other = DEFAULT_M
    if levels == 2:
        return [exact + partial, other]
    # Partial levels share their mass, the more alike ones more (they are listed first).
    weights = [2.0**-i for i in range(levels - 2)]
    return [exact, *(partial * w / sum(weights) for w in weights), other]


def _fresh(conn, table: str, model: dict):
    from .linkage import linker_for

    return linker_for(conn, table, model)[0]


def _labelled_m(
    conn: duckdb.DuckDBPyConnection,
    table: str,
    model: dict,
    columns: set[str],
    notes: TrainingNotes,
) -> dict[str, list[list[float]]]:
    """Per comparison, m counted on each label rule's pairs (never on the rule's own fields)."""
    estimates: dict[str, list[list[float]]] = {}
    inputs = comparison_inputs(model)
    for name, condition, fields in label_rules(columns):
        conn.execute(
            f"CREATE OR REPLACE TEMP TABLE _labels AS SELECT l.record_id AS record_id_l, "
            f"r.record_id AS record_id_r FROM {table} AS l JOIN {table} AS r "
            f"ON {condition} AND l.record_id < r.record_id LIMIT {LABEL_PAIRS_MAX}"
        )
        pairs = conn.execute("SELECT count(*) FROM _labels").fetchone()[0]
        notes.labelled_pairs[name] = pairs
        if pairs < LABEL_PAIRS_MIN:
            continue
        linker = _fresh(conn, table, model)
        linker.training.estimate_m_from_pairwise_labels("_labels")
        counted = linker.misc.save_model_to_json()
        for comparison, used in inputs.items():
            if used & set(fields):
                continue
            m = _m_values(counted, comparison)
            if all(v is not None for v in m):
                estimates.setdefault(comparison, []).append(m)
    conn.execute("DROP TABLE IF EXISTS _labels")
    return estimates


def _prior_from_predictions(
    conn: duckdb.DuckDBPyConnection, table: str, model: dict, seed: int
) -> tuple[float, int]:
    """The probability two random records match, as the data says: the expected number of
    matching pairs (the sum of every candidate pair's match probability, pairs the household
    rule refuses counting none) over all pairs, recomputed with the new prior until it settles,
    on a sample of at most ``PRIOR_SAMPLE_RECORDS`` records (a pair is in a uniform sample of
    records with the same chance whether it matches or not, so the ratio is unbiased). This is
    EM's update of the prior with m and u held fixed, over every blocking rule at once."""
    import numpy as np

    from .linkage import household_guard, linker_for

    records = conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
    share = min(1.0, PRIOR_SAMPLE_RECORDS / max(records, 1))
    conn.execute(
        f"CREATE OR REPLACE TEMP TABLE _prior_sample AS SELECT * FROM {table} "
        f"WHERE hash(record_id || '{seed}') % 1000000 < {int(share * 1_000_000)}"
    )
    n = conn.execute("SELECT count(*) FROM _prior_sample").fetchone()[0]
    prior = float(model["probability_two_random_records_match"])
    linker, _ = linker_for(conn, "_prior_sample", model)
    scored = linker.inference.predict(threshold_match_weight=PRIOR_MIN_WEIGHT)
    guard = household_guard(conn, scored.physical_name)
    log_factors = conn.execute(
        f"SELECT match_weight - log2({prior} / (1 - {prior})) FROM {scored.physical_name} "
        f"WHERE NOT ({guard})"
    ).fetchnumpy()
    scored.drop_table_from_database_and_remove_from_cache()
    conn.execute("DROP TABLE IF EXISTS _prior_sample")
    factors = np.exp2(np.clip(next(iter(log_factors.values())).astype(float), -60, 60))
    pairs = n * (n - 1) / 2
    if not len(factors) or pairs <= 0:
        return prior, 0
    for _ in range(100):
        odds = prior / (1 - prior)
        expected = float(np.sum(factors * odds / (1 + factors * odds)))
        updated = min(max(expected / pairs, 1e-12), 0.5)
        if abs(updated - prior) <= 1e-4 * prior:
            prior = updated
            break
        prior = updated
    return prior, len(factors)


def _remove_matches_from_u(model: dict, prior: float, floor: float) -> bool:
    """Random pairs are matches with probability ``prior``, and a matching pair falls in a level
    with probability m, so what random sampling counts is ``prior * m + (1 - prior) * u``.
    Solve for u (at least ``floor``: fewer than one sampled stranger pair agreed). On a file
    with many duplicates the raw u of an exact national id or date of birth is mostly its own
    duplicates, and the evidence of agreeing on it would be understated. True if any u moved."""
    if not 0 < prior < 1:
        return False
    changed = False
    for comparison in model["comparisons"]:
        for level in comparison["comparison_levels"]:
            m, u = level.get("m_probability"), level.get("u_probability")
            if level.get("is_null_level") or m is None or u is None:
                continue
            corrected = max((u - prior * m) / (1 - prior), min(floor, u))
            if corrected != u:
                level["u_probability"] = corrected
                changed = True
    return changed


def _mean(vectors: list[list[float | None]]) -> list[float | None]:
    """Level by level, the mean of the estimates that have one (None where none has)."""
    means = []
    for values in zip(*vectors, strict=True):
        known = [v for v in values if v is not None]
        means.append(statistics.fmean(known) if known else None)
    return means


def train_model(
    conn: duckdb.DuckDBPyConnection,
    table: str,
    config: LinkageConfig,
    timer: Timer,
) -> tuple[dict, TrainingNotes]:
    from .linkage import linkable_columns, linker_for

    columns = linkable_columns(conn, table)
    notes = TrainingNotes(records=conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0])
    linker, _ = linker_for(conn, table, build_settings(columns))
    # A provisional prior for the sessions' start; the final one is estimated below.
    with timer.phase("train: provisional prior"):
        rules = deterministic_rules(columns)
        if rules:
            linker.training.estimate_probability_two_random_records_match(
                rules, recall=config.prior_recall
            )
    # An exact phone or email agrees for about one random pair in a million at a million
    # records: too few sampled pairs leave u untrained and the strongest evidence at a default.
    u_pairs = min(
        max(config.u_max_pairs, config.u_pairs_per_record * notes.records), config.u_max_pairs_cap
    )
    with timer.phase("train: u by random sampling"):
        linker.training.estimate_u_using_random_sampling(max_pairs=u_pairs, seed=config.seed)
    base = linker.misc.save_model_to_json()
    comparisons = list(comparison_inputs(base))
    total_pairs = notes.records * (notes.records - 1) / 2
    if not base.get("probability_two_random_records_match"):
        # No near-certain pair at all (a file whose sources share no dob, say): EM needs a
        # start above zero, and the fixed point below finds the real value.
        base["probability_two_random_records_match"] = min(
            DEFAULT_PRIOR_PER_RECORD * notes.records / max(total_pairs, 1), 0.5
        )

    with timer.phase("train: m from labelled pairs"):
        labelled = {c: _mean(v) for c, v in _labelled_m(conn, table, base, columns, notes).items()}
    for comparison, m in list(labelled.items()):
        if monotone(base, comparison, m):
            _set_m(base, comparison, m)  # EM starts from the labelled m
        else:
            notes.decisions.append(f"{comparison}: labelled m ran the wrong way, not used")
            del labelled[comparison]

    kept: dict[str, list[list[float]]] = {}
    with timer.phase("train: m by expectation maximisation"):
        for rule in training_blocking_rules(columns):
            sql = rule.get_blocking_rule("duckdb").blocking_rule_sql
            session = _fresh(conn, table, base)
            try:
                session.training.estimate_parameters_using_expectation_maximisation(
                    rule,
                    estimate_without_term_frequencies=True,
                    max_pairs=config.em_max_pairs,
                )
            except (EMTrainingException, ValueError) as error:
                # No pairs agree on this rule (every email unique), or a level is never seen
                # on a small file and its m underflows: the other sessions go on.
                notes.sessions[sql] = "skipped: " + str(error).splitlines()[0].split(".  ")[0]
                continue
            trained = session.misc.save_model_to_json()
            good, bad = [], []
            for comparison in comparisons:
                m = _m_values(trained, comparison)
                if m == _m_values(base, comparison):
                    continue  # blocked on, so not estimated here
                (good if monotone(trained, comparison, m) else bad).append(comparison)
                if comparison in good:
                    kept.setdefault(comparison, []).append(m)
            notes.sessions[sql] = f"kept m for {', '.join(good) or 'nothing'}" + (
                f"; ran the wrong way for {', '.join(bad)}" if bad else ""
            )

    for comparison in comparisons:
        if comparison in kept:
            _set_m(base, comparison, _mean(kept[comparison]))
            notes.m_source[comparison] = f"EM ({len(kept[comparison])} sessions)"
            continue
        if comparison in labelled:
            notes.m_source[comparison] = "labelled pairs"
            notes.decisions.append(
                f"{comparison}: no EM session estimated it the right way; labelled m used"
            )
            continue
        _set_m(base, comparison, _default_m(len(_levels(base, comparison))))
        notes.m_source[comparison] = "default profile"
        notes.decisions.append(
            f"{comparison}: neither EM nor labels estimated it the right way; default m used"
        )

    start = float(base["probability_two_random_records_match"])
    with timer.phase("train: prior from the data"):
        notes.prior, pairs = _prior_from_predictions(conn, table, base, config.seed)
        # u counted on random pairs includes the matches among them; take them out and count
        # the prior again with the corrected u.
        if _remove_matches_from_u(base, notes.prior, 0.5 / u_pairs):
            base["probability_two_random_records_match"] = notes.prior
            notes.prior, pairs = _prior_from_predictions(conn, table, base, config.seed)
            notes.decisions.append(
                f"u: the share of random pairs that match ({notes.prior:.2g}) taken out of "
                "every level's u"
            )
    notes.prior_method = (
        f"expected matches over all pairs, scored on {pairs:,} candidate pairs of a sample of "
        f"the records, iterated to a fixed point from the provisional {start:.3g}"
    )
    base["probability_two_random_records_match"] = notes.prior
    if notes.prior > 0:
        log.info(
            "prior %.3g (%.0f expected matching pairs)", notes.prior, notes.prior * total_pairs
        )
    return base, notes
