"""The serving snapshot: what the real-time API decides from, published by the batch.

After each decision run the batch writes everything arbitration needs for any one customer into
``<data dir>/serving/snapshots/<id>/``: the customers' decision rows, the champions' scores, the
outbound contacts already delivered, what all contacts taught (``PopulationEvidence``), the
validated marketing config, which devices belong to whom, and a copy of the offer champion that
produced the scores (so the API can rescore a customer whose session changed). The folder is
written under a dot-name and renamed into place, then ``<data dir>/serving/LATEST`` is replaced
atomically with its id: a reader sees the old snapshot or the new one, never half of one. The API
never opens the warehouse (it has a single writer).

Keys and numbers only: the decision rows hold features, consent flags and advisor ids, no names,
emails or phones.
"""

from __future__ import annotations

import json
import os
import shutil
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

from ..decisioning.arbitration import DecisionInputs
from ..decisioning.config import MarketingConfig
from ..decisioning.response_learning import PopulationEvidence

SERVING_DIR = "serving"
SNAPSHOTS_DIR = "snapshots"
LATEST = "LATEST"
KEEP_SNAPSHOTS = 3
MANIFEST = "manifest.json"
MODEL_DIR = "offer_model"
OFFER_MODEL = "offer_propensity"

_FRAMES = ("customers", "offer_scores", "channel_scores", "history", "devices")


def serving_root(data_root: Path) -> Path:
    return data_root / SERVING_DIR


def latest_pointer(data_root: Path) -> Path:
    return serving_root(data_root) / LATEST


@dataclass(frozen=True)
class Snapshot:
    """A published snapshot held in memory."""

    snapshot_id: str
    published_at: datetime  # wall clock, UTC
    decided_at: datetime  # the batch's decision instant (the data's clock), UTC
    inputs: DecisionInputs  # every customer, with the population evidence set
    config: MarketingConfig
    devices: dict[str, str]  # anonymous id -> customer_key (shared devices left out)
    offer_model: object | None  # models.registry.LoadedModel of the scores, when published


def _write_atomic(path: Path, text: str) -> None:
    partial = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}")
    with partial.open("w", encoding="utf-8") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
    partial.replace(path)


def publish_snapshot(
    data_root: Path,
    inputs: DecisionInputs,
    evidence: PopulationEvidence,
    config: MarketingConfig,
    devices: pd.DataFrame,
    offer_model: object | None = None,
) -> str:
    """Write a snapshot and point LATEST at it; returns its id. ``devices``: anonymous_id,
    customer_key; ``offer_model``: the LoadedModel that scored ``inputs.offer_scores``."""
    published = datetime.now(UTC)
    snapshot_id = f"{published:%Y%m%dT%H%M%S%f}-{uuid.uuid4().hex[:6]}"
    folder = serving_root(data_root) / SNAPSHOTS_DIR
    folder.mkdir(parents=True, exist_ok=True)
    partial = folder / f".{snapshot_id}"
    partial.mkdir()
    frames = {
        "customers": inputs.customers,
        "offer_scores": inputs.offer_scores,
        "channel_scores": inputs.channel_scores,
        "history": inputs.history,
        "devices": devices[["anonymous_id", "customer_key"]],
    }
    for name, frame in frames.items():
        frame.to_parquet(partial / f"{name}.parquet", index=False)
    model_version = None
    if offer_model is not None:
        offer_model.model.save(partial / MODEL_DIR)  # type: ignore[attr-defined]
        model_version = [offer_model.version, offer_model.run_id]  # type: ignore[attr-defined]
    manifest = {
        "snapshot_id": snapshot_id,
        "published_at": published.isoformat(),
        "decided_at": pd.Timestamp(inputs.now).tz_convert("UTC").isoformat(),
        "model_versions": inputs.model_versions,
        "offer_model": model_version,
        "evidence": evidence.as_json(),
        "config": config.model_dump(mode="json"),
        "policy_hash": config.policy_hash,
        "customers": len(inputs.customers),
    }
    (partial / MANIFEST).write_text(json.dumps(manifest, indent=1), encoding="utf-8")
    partial.rename(folder / snapshot_id)
    _write_atomic(latest_pointer(data_root), snapshot_id)
    _prune(folder, keep=snapshot_id)
    return snapshot_id


def _prune(folder: Path, keep: str) -> None:
    """Keep the newest few (a server may still be reading the previous one)."""
    done = sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith("."))
    for old in done[:-KEEP_SNAPSHOTS]:
        if old.name != keep:
            shutil.rmtree(old, ignore_errors=True)


def latest_snapshot_id(data_root: Path) -> str | None:
    try:
        return latest_pointer(data_root).read_text(encoding="utf-8").strip() or None
    except OSError:
        return None


def _aware(text: str) -> datetime:
    at = datetime.fromisoformat(text)
    return at if at.tzinfo else at.replace(tzinfo=UTC)


def load_snapshot(data_root: Path, snapshot_id: str) -> Snapshot:
    """Read one published snapshot into memory (raises OSError or ValueError when damaged)."""
    folder = serving_root(data_root) / SNAPSHOTS_DIR / snapshot_id
    manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    frames = {name: pd.read_parquet(folder / f"{name}.parquet") for name in _FRAMES}
    config = MarketingConfig.model_validate(manifest["config"])
    if config.policy_hash != manifest["policy_hash"]:
        raise ValueError(f"snapshot {snapshot_id}: the config does not match its policy hash")
    offer_model = None
    if manifest.get("offer_model"):
        from models.calibrated_booster import CalibratedBooster
        from models.registry import LoadedModel

        version, run_id = manifest["offer_model"]
        offer_model = LoadedModel(
            OFFER_MODEL, version, run_id, CalibratedBooster.load(folder / MODEL_DIR)
        )
    history = frames["history"]
    if "sent_at" in history:
        history["sent_at"] = pd.to_datetime(history["sent_at"]).astype("datetime64[us]")
    decided_at = _aware(manifest["decided_at"])
    inputs = DecisionInputs(
        customers=frames["customers"],
        offer_scores=frames["offer_scores"],
        channel_scores=frames["channel_scores"],
        history=history,
        now=decided_at,
        model_versions=dict(manifest["model_versions"]),
        evidence=PopulationEvidence.from_json(manifest["evidence"]),
    )
    devices = dict(
        zip(frames["devices"]["anonymous_id"], frames["devices"]["customer_key"], strict=True)
    )
    return Snapshot(
        snapshot_id=snapshot_id,
        published_at=_aware(manifest["published_at"]),
        decided_at=decided_at,
        inputs=inputs,
        config=config,
        devices=devices,
        offer_model=offer_model,
    )


DEVICES_SQL = """
SELECT source_id AS anonymous_id, customer_key FROM identity.customer_keys
WHERE source_table = 'web__events' AND NOT coalesce(shared_device, false)
"""


def publish_after_decisions(
    conn: object, data_root: Path, inputs: DecisionInputs, learned: object, config: MarketingConfig
) -> str:
    """The decision asset's publish step: devices from identity, the offer champion that made
    the scores (when it still loads and has their version), then ``publish_snapshot``.
    ``conn``: a warehouse connection; ``learned``: the run's ResponseEstimates."""
    from ..warehouse import table_exists

    devices = (
        conn.execute(DEVICES_SQL).df()  # type: ignore[attr-defined]
        if table_exists(conn, "identity.customer_keys")  # type: ignore[arg-type]
        else pd.DataFrame({"anonymous_id": [], "customer_key": []}, dtype=object)
    )
    offer_model = None
    version = inputs.model_versions.get(OFFER_MODEL)
    if version:
        from models.champions import load_champion
        from models.registry import ModelLoadError

        try:
            loaded = load_champion(OFFER_MODEL, data_root)
        except ModelLoadError:
            loaded = None
        if loaded is not None and str(loaded.version) == str(version):
            offer_model = loaded
    evidence = PopulationEvidence(learned.population, learned.calibration)  # type: ignore[attr-defined]
    return publish_snapshot(data_root, inputs, evidence, config, devices, offer_model)
