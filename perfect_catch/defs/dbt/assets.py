"""Every dbt model as a Dagster asset and every dbt test as an asset check.

Two multi-assets run `dbt build` for whatever subset is requested, against the warehouse the
syncs load: the connection reaches dbt's profile as `PC_DBT_*` variables (`dbt_env`). Models
are not partitioned while the sync assets are (by tenant): each model covers all tenants and
is rebuilt after any tenant's sync (see `translator`). The event models (`models/events/`) are
their own multi-asset in the `dbt_warehouse` pool, which an instance limits to one build at a
time: `workflow_events` numbers its rows and two concurrent builds would collide. Staging views
and marts are the other multi-asset, outside that pool, so a marts rebuild never holds up the
event lane. Each build reuses the partial parse of its database (`dbt_runner.dagster_target`),
so dbt does not parse the whole project on every run.
"""

from collections.abc import Iterator
from typing import Any

import dagster as dg
from dagster_dbt import DbtCliResource, dbt_assets

from perfect_catch.defs.dbt.project import dbt_project
from perfect_catch.defs.dbt.translator import PerfectCatchDbtTranslator
from perfect_catch.defs.settings import SettingsResource
from perfect_catch.defs.warehouse.resources import WarehouseResource
from perfect_catch.settings import Settings, get_settings
from perfect_catch.warehouse.dbt_env import applied, dbt_env
from perfect_catch.warehouse.dbt_runner import dagster_target

POOL = "dbt_warehouse"
EVENT_MODELS = "path:models/events"


def _build(
    context: dg.AssetExecutionContext,
    dbt: DbtCliResource,
    warehouse: WarehouseResource,
    settings: Settings,
) -> Iterator[Any]:
    env = dbt_env(settings, warehouse.database_url or None)
    with applied(env), dagster_target(env, context.run.run_id) as target:
        yield from dbt.cli(["build"], context=context, target_path=target).stream()


@dbt_assets(
    manifest=dbt_project.manifest_path,
    project=dbt_project,
    dagster_dbt_translator=PerfectCatchDbtTranslator(get_settings()),
    name="perfect_catch_dbt",
    exclude=EVENT_MODELS,
    op_tags={"source": "dbt"},
)
def perfect_catch_dbt(
    context: dg.AssetExecutionContext,
    dbt: DbtCliResource,
    warehouse: WarehouseResource,
    settings: SettingsResource,
) -> Iterator[Any]:
    """`dbt build` of the selected staging views and marts and their tests on the warehouse."""
    yield from _build(context, dbt, warehouse, settings)


@dbt_assets(
    manifest=dbt_project.manifest_path,
    project=dbt_project,
    dagster_dbt_translator=PerfectCatchDbtTranslator(get_settings()),
    name="perfect_catch_dbt_events",
    select=EVENT_MODELS,
    pool=POOL,
    op_tags={"source": "dbt"},
)
def perfect_catch_dbt_events(
    context: dg.AssetExecutionContext,
    dbt: DbtCliResource,
    warehouse: WarehouseResource,
    settings: SettingsResource,
) -> Iterator[Any]:
    """`dbt build` of the selected event models (and `workflow_events`) and their tests."""
    yield from _build(context, dbt, warehouse, settings)
