"""When Dagster rebuilds the dbt models: event models after syncs, views when their SQL changes,
marts on their cron — so a 30-second event lane never drags every table along."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import dagster as dg

from perfect_catch.defs.dbt.assets import perfect_catch_dbt
from perfect_catch.defs.dbt.resources import resources as dbt_resources
from perfect_catch.defs.warehouse.resources import WarehouseResource
from perfect_catch.warehouse.catalog import ENTITIES

T0 = datetime(2026, 1, 5, 10, 1, tzinfo=UTC)


def _layer(key: dg.AssetKey) -> str:
    return key.path[0]


def test_events_follow_syncs_views_follow_code_and_marts_follow_their_cron() -> None:
    instance = dg.DagsterInstance.ephemeral()
    syncs = [dg.AssetSpec(dg.AssetKey(["servicetitan", spec.name])) for spec in ENTITIES]
    defs = dg.Definitions(
        assets=[perfect_catch_dbt, *syncs],
        resources={**dbt_resources().resources, "warehouse": WarehouseResource()},
    )
    models = set(perfect_catch_dbt.keys)
    assert {_layer(k) for k in models} == {"staging", "marts", "events"}

    def requested(at: datetime, cursor=None):
        result = dg.evaluate_automation_conditions(
            defs=defs, instance=instance, evaluation_time=at, cursor=cursor
        )
        return {k for k in models if result.get_num_requested(k)}, result.cursor

    # Built once (Dagster never acts on a condition's first evaluation; installs build with
    # `perfect-catch run-once` or `dbt build`), after that a quiet tick requests nothing.
    _, cursor = requested(T0)
    for key in models:
        instance.report_runless_asset_event(dg.AssetMaterialization(key))
    quiet, cursor = requested(T0 + timedelta(minutes=1), cursor)
    assert quiet == set()

    # A jobs sync: the events read from jobs and workflow_events, nothing else.
    instance.report_runless_asset_event(dg.AssetMaterialization(["servicetitan", "jobs"]))
    after_sync, cursor = requested(T0 + timedelta(minutes=2), cursor)
    assert {k.path[1] for k in after_sync} >= {"job_created", "job_completed", "workflow_events"}
    assert {_layer(k) for k in after_sync} == {"events"}
    assert dg.AssetKey(["events", "estimate_created"]) not in after_sync
    for key in after_sync:
        instance.report_runless_asset_event(dg.AssetMaterialization(key))

    # The marts' cron (every 15 minutes) ticks at 10:15: the marts, and no view.
    on_tick, cursor = requested(T0 + timedelta(minutes=15), cursor)
    assert on_tick and {_layer(k) for k in on_tick} == {"marts"}
    assert {k for k in models if _layer(k) == "marts"} == on_tick
