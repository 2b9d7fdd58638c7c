"""Where everything lives. One setting, ``JOURNEY_DATA_DIR``, feeds Dagster, dbt and the CLI."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class DataPaths:
    """The data directory and the well-known places inside it."""

    root: Path

    @property
    def landing(self) -> Path:
        return self.root / "landing"

    @property
    def truth(self) -> Path:
        """Ground truth of the demo world: read by evaluation code only, never by the pipeline."""
        return self.root / "truth"

    @property
    def warehouse(self) -> Path:
        return self.root / "warehouse.duckdb"


def data_paths(root: str | os.PathLike[str] | None = None) -> DataPaths:
    """Resolve the data directory: an explicit root, else ``JOURNEY_DATA_DIR``, else ``data/``."""
    chosen = root or os.environ.get("JOURNEY_DATA_DIR") or REPO_ROOT / "data"
    return DataPaths(Path(chosen).expanduser().resolve())


def config_dir(override: str | os.PathLike[str] | None = None) -> Path:
    """Marketing's YAML: an explicit folder, else ``JOURNEY_CONFIG_DIR``, else ``config/``."""
    chosen = override or os.environ.get("JOURNEY_CONFIG_DIR") or REPO_ROOT / "config"
    return Path(chosen).expanduser().resolve()


DEFAULT_WAREHOUSE_WAIT_SECONDS = 120.0


def seconds_setting(name: str, default: float) -> float:
    """A number of seconds >= 0 from the environment variable ``name``, else ``default``."""
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        seconds = float(raw)
    except ValueError:
        seconds = -1.0
    if not 0 <= seconds < float("inf"):
        raise ValueError(f"{name} must be a number of seconds >= 0, not {raw!r}")
    return seconds


def warehouse_wait_seconds() -> float:
    """How long a process waits for another to release the warehouse file before it gives up:
    ``JOURNEY_WAREHOUSE_WAIT_SECONDS``, else two minutes."""
    return seconds_setting("JOURNEY_WAREHOUSE_WAIT_SECONDS", DEFAULT_WAREHOUSE_WAIT_SECONDS)


@dataclass(frozen=True)
class LandingReadiness:
    """When a landing file counts as completely written, so ingestion may read it.

    ``settle_seconds``: a file whose size or modification time changed less than this long ago is
    still being written and waits for a later run. 0 trusts that files arrive whole (written
    elsewhere, then renamed in, as the demo world does), except a CSV or JSONL file whose last
    line is unterminated and that changed within ``unterminated_settle_seconds``.
    ``done_marker``: when set, a file is ready only once its marker exists: a name starting with a
    dot is a suffix (``.done``: ``day.csv`` waits for ``day.csv.done``), any other name is a file
    in the same folder that releases every file beside it (``_SUCCESS``).
    """

    settle_seconds: float = 0.0
    done_marker: str | None = None
    # Even with settle_seconds 0, a text file whose last line has no newline yet and that changed
    # this recently is taken as half-written (its last value would load truncated).
    unterminated_settle_seconds: float = 30.0


def landing_readiness() -> LandingReadiness:
    """Read ``JOURNEY_LANDING_SETTLE_SECONDS`` and ``JOURNEY_LANDING_DONE_MARKER``."""
    settle = seconds_setting("JOURNEY_LANDING_SETTLE_SECONDS", 0.0)
    marker = os.environ.get("JOURNEY_LANDING_DONE_MARKER", "").strip() or None
    if marker is not None and ("/" in marker or marker in {".", ".."}):
        raise ValueError(f"JOURNEY_LANDING_DONE_MARKER must be a plain file name, not {marker!r}")
    return LandingReadiness(settle, marker)


AUTOMATION_SETTING = "JOURNEY_AUTOMATION"


def automation_enabled() -> bool:
    """``JOURNEY_AUTOMATION=on`` (``make dev`` sets it): the sensors and schedules that keep the
    platform fresh start running as soon as the daemon does. Off (the default), they are listed
    in the Dagster UI, stopped, so that no test or ad-hoc daemon launches runs by itself."""
    value = os.environ.get(AUTOMATION_SETTING, "off").strip().lower()
    if value not in {"on", "off", "true", "false", "1", "0", ""}:
        raise ValueError(f"{AUTOMATION_SETTING} must be on or off, not {value!r}")
    return value in {"on", "true", "1"}


# The shared vocabulary. Every stage, the tests and (as vars in dbt/dbt_project.yml, checked equal
# by tests/test_vocabulary.py) the dbt project use these words; nothing else spells them out.
PRODUCTS = ("mortgage", "credit_card", "savings", "insurance", "personal_loan")
HELD_PRODUCTS = (*PRODUCTS, "current_account")
CONSENT_CHANNELS = ("email", "sms", "push", "phone")
OUTBOUND_CHANNELS = ("email", "sms", "push")  # contacts: consent, caps and quiet hours apply
WEB = "web"  # passive: the offer shown on the site and app, never counted as a contact
ADVISOR = "advisor"  # internal: a task for the customer's advisor, capped per advisor
# What a decision row can be; activation delivers the first three (control and no_action are
# recorded, never sent).
ACTIONS = ("contact", "web", "advisor_task", "control", "no_action")
DELIVERABLE_ACTIONS = ACTIONS[:3]
# Channels of the unified timeline (marts.fct_interactions).
TIMELINE_CHANNELS = ("web", "app", "contact_centre", "email", "push", "sms", "branch", "outcomes")
# The campaign id of every email the platform sends is this prefix and the offer id; dbt and the
# analytics tell the platform's own sends from earlier campaigns by it.
NBA_CAMPAIGN_PREFIX = "nba-"

# Who answers for each stage: the Dagster owners of its assets, and the dbt models' `meta.owner`
# (dbt/dbt_project.yml; tests/test_vocabulary.py keeps those among these teams).
DATA_ENGINEERING = "team:data-engineering"  # ingest, identity, the dbt profile
DATA_SCIENCE = "team:data-science"  # training sets, models, scores
MARKETING_OPS = "team:marketing-ops"  # decisions, deliveries, journey analytics
TEAMS = (DATA_ENGINEERING, DATA_SCIENCE, MARKETING_OPS)

# The ML stage's one name: its Dagster group, its asset key prefix and its warehouse schema.
ML = "ml"
SCORES_TABLE = f"{ML}.customer_scores"
# Each registered model and the dbt training-label model it learns from.
MODEL_LABEL_TABLES = {
    "offer_propensity": "offer_response_labels",
    "channel_response": "channel_response_labels",
    "churn_risk": "churn_labels",
}


def model_scores_table(model: str) -> str:
    return f"{ML}.{model}_scores"


def dbt_vars() -> dict[str, object]:
    """The vocabulary as the dbt project's vars."""
    return {
        "products": list(PRODUCTS),
        "response_channels": list(OUTBOUND_CHANNELS),
        "consent_channels": list(CONSENT_CHANNELS),
        "nba_campaign_prefix": NBA_CAMPAIGN_PREFIX,
    }
