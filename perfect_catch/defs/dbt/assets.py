"""Every dbt model as a Dagster asset and every dbt test as an asset check.

One multi-asset runs `dbt build` for whatever subset is requested, against the warehouse the
syncs load: the connection reaches dbt's profile as `PC_DBT_*` variables (`dbt_env`). Models
are not partitioned while the sync assets are (by tenant): each model covers all tenants and
is rebuilt after any tenant's sync (see `translator.REBUILD_AFTER_SYNCS`). The `dbt_warehouse`
pool lets an instance limit dbt to one run at a time; `workflow_events` numbers its rows and
two concurrent builds would collide. Each build reuses the partial parse of its database
(`dbt_runner.dagster_target`), so dbt does not parse the whole project on every run.
"""

from collections.abc import Iterator
from typing import Any

import dagster as dg
from dagster_dbt import DbtCliResource, dbt_assets

from perfect_catch.defs.dbt.project import dbt_project
from perfect_catch.defs.dbt.translator import PerfectCatchDbtTranslator
from perfect_catch.defs.warehouse.resources import WarehouseResource
from perfect_catch.warehouse.dbt_env import applied, dbt_env
from perfect_catch.warehouse.dbt_runner import dagster_target

POOL = "dbt_warehouse"


@dbt_assets(
    manifest=dbt_project.manifest_path,
    project=dbt_project,
    dagster_dbt_translator=PerfectCatchDbtTranslator(),
    name="perfect_catch_dbt",
    pool=POOL,
    op_tags={"source": "dbt"},
)
def perfect_catch_dbt(
    context: dg.AssetExecutionContext, dbt: DbtCliResource, warehouse: WarehouseResource
) -> Iterator[Any]:
    """`dbt build` of the selected models and their tests on the warehouse."""
    env = dbt_env(warehouse.database_url or None)
    with applied(env), dagster_target(env, context.run.run_id) as target:
        yield from dbt.cli(["build"], context=context, target_path=target).stream()
