"""A code location for the killed-run test: two assets in the warehouse pool, one that holds
the pool's only slot until it is killed and one that finishes at once."""

import time

import dagster as dg

from dagster_project.resources import WAREHOUSE_POOL


@dg.asset(pool=WAREHOUSE_POOL)
def holds_the_warehouse() -> None:
    time.sleep(600)


@dg.asset(pool=WAREHOUSE_POOL)
def writes_the_warehouse() -> None:
    pass


defs = dg.Definitions(
    assets=[holds_the_warehouse, writes_the_warehouse],
    jobs=[
        dg.define_asset_job("hold", [holds_the_warehouse]),
        dg.define_asset_job("write", [writes_the_warehouse]),
    ],
)
