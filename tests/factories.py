"""Shared test set-up: the resources and the in-process materialization every stage test uses."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import pandas as pd

from dagster_project.resources import MarketingConfigResource, WarehouseResource
from dagster_project.settings import PRODUCTS, DataPaths


def resources_for(paths: DataPaths | Path, config_dir: Path | str | None = None) -> dict:
    """The code location's resources pointed at one data directory (and marketing config)."""
    root = paths.root if isinstance(paths, DataPaths) else Path(paths)
    return {
        "warehouse": WarehouseResource(data_dir=str(root)),
        "marketing_config": MarketingConfigResource(
            config_dir=None if config_dir is None else str(config_dir)
        ),
    }


def materialize(
    paths: DataPaths | Path,
    assets: list,
    run_config: dict | None = None,
    config_dir: Path | str | None = None,
    **resources,
) -> dg.ExecuteInProcessResult:
    """Materialize ``assets`` in a throwaway instance; failures are returned, not raised."""
    with dg.instance_for_test() as instance:
        return dg.materialize(
            assets,
            instance=instance,
            resources={**resources_for(paths, config_dir), **resources},
            run_config=run_config,
            raise_on_error=False,
        )


def optimising_send_times(config):  # MarketingConfig -> MarketingConfig
    """The shipped config with send-time optimisation on for every outbound channel (it ships
    off: see config/channels.yaml)."""
    channels = config.channels.model_copy(
        update={
            c: config.channels.outbound(c).model_copy(update={"optimise_send_time": True})
            for c in ("email", "sms", "push")
        }
    )
    return config.model_copy(update={"channels": channels})


def email_customers(
    keys: list[str], zone: str = "UTC", intent: dict[str, int] | None = None
) -> pd.DataFrame:
    """Decision-input customers who may be emailed only, in one time zone, holding nothing,
    with ``intent`` (product -> 30-day intent count; none by default)."""
    n = len(keys)
    intent = intent or {}
    return pd.DataFrame(
        {
            "customer_key": keys,
            "do_not_contact": [False] * n,
            "can_email": [True] * n,
            "can_sms": [False] * n,
            "can_push": [False] * n,
            "time_zone": [zone] * n,
            "advisor_id": [None] * n,
            "complaint_calls_90d": [0] * n,
            **{f"holds_{p}": [0] * n for p in PRODUCTS},
            **{f"{p}_intent_30d": [intent.get(p, 0)] * n for p in PRODUCTS},
        }
    )
