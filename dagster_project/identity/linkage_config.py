"""How probabilistic linkage is trained and thresholded: plain data, no Splink import."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class LinkageConfig:
    match_threshold: float = 0.95  # a pair this likely links
    # A pair this likely links when each record is the other's best candidate (see linkage).
    best_match_threshold: float = 0.5
    predict_threshold: float = 0.5
    u_max_pairs: float = 2e6  # at least; grows with the records, see train_model
    u_pairs_per_record: float = 10.0
    u_max_pairs_cap: float = 2e7
    em_max_pairs: float = 2e6  # per EM session: a loose blocking rule at 1M records is huge
    seed: int = 42
    prior_recall: float = 0.7


DEFAULT_CONFIG = LinkageConfig()
