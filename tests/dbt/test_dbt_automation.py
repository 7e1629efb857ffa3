"""When Dagster rebuilds the dbt models: event models after syncs, views when their SQL changes,
marts on their cron — so a 30-second event lane never drags every table along."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import dagster as dg
from dagster_dbt import dbt_assets

from perfect_catch.defs.dbt.assets import EVENT_MODELS, perfect_catch_dbt, perfect_catch_dbt_events
from perfect_catch.defs.dbt.project import dbt_project
from perfect_catch.defs.dbt.resources import resources as dbt_resources
from perfect_catch.defs.dbt.translator import PerfectCatchDbtTranslator
from perfect_catch.defs.warehouse.resources import WarehouseResource
from perfect_catch.settings import load_settings
from perfect_catch.warehouse.catalog import ENTITIES

DBT_ASSETS = (perfect_catch_dbt, perfect_catch_dbt_events)
WORKFLOW_EVENTS = dg.AssetKey(["events", "workflow_events"])
T0 = datetime(2026, 1, 5, 10, 5, tzinfo=UTC)  # between two ticks of the marts' cron


def _layer(key: dg.AssetKey) -> str:
    return key.path[0]


def _automation(assets: list[dg.AssetsDefinition], resources: dict | None = None):
    """An instance, the keys of `assets`, and a function evaluating their automation conditions
    (beside one sync asset per entity) at a time: (the keys requested, the new cursor)."""
    instance = dg.DagsterInstance.ephemeral()
    syncs = [dg.AssetSpec(dg.AssetKey(["servicetitan", spec.name])) for spec in ENTITIES]
    defs = dg.Definitions(assets=[*assets, *syncs], resources=resources or {})
    models = {key for a in assets for key in a.keys}

    def requested(at: datetime, cursor=None) -> tuple[set[dg.AssetKey], Any]:
        result = dg.evaluate_automation_conditions(
            defs=defs, instance=instance, evaluation_time=at, cursor=cursor
        )
        return {k for k in models if result.get_num_requested(k)}, result.cursor

    return instance, models, requested


def test_events_follow_syncs_views_follow_code_and_marts_follow_their_cron() -> None:
    instance, models, requested = _automation(
        list(DBT_ASSETS),
        {
            **dbt_resources().resources,
            "warehouse": WarehouseResource(),
            "settings": load_settings(),
        },
    )
    assert {_layer(k) for k in models} == {"staging", "marts", "events"}

    def built(keys: set[dg.AssetKey]) -> None:
        """Record materializations in build order: `workflow_events` after the models it reads."""
        for key in sorted(keys, key=lambda k: k.path[-1] == "workflow_events"):
            instance.report_runless_asset_event(dg.AssetMaterialization(key))

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
    built(after_sync)

    # A payments sync: the overdue reminders, which read payments through views, follow it,
    # and workflow_events after them (on the same tick or the next).
    instance.report_runless_asset_event(dg.AssetMaterialization(["servicetitan", "payments"]))
    after_payments: set[dg.AssetKey] = set()
    for minute in (3, 4, 5):
        ticked, cursor = requested(T0 + timedelta(minutes=minute), cursor)
        built(ticked)
        after_payments |= ticked
    assert dg.AssetKey(["events", "invoice_overdue"]) in after_payments
    assert WORKFLOW_EVENTS in after_payments
    assert {_layer(k) for k in after_payments} == {"events"}

    # The marts' cron (DBT_MARTS_CRON, by default minutes 4, 19, 34 and 49) ticks at 10:19: the
    # marts, and no view.
    on_tick, cursor = requested(T0 + timedelta(minutes=14), cursor)
    assert on_tick and {_layer(k) for k in on_tick} == {"marts"}
    assert {k for k in models if _layer(k) == "marts"} == on_tick


def test_with_the_event_lane_on_its_runs_alone_build_the_event_models() -> None:
    """The lane's run builds the event models after its syncs; the 5-minute schedule's syncs
    (technicians, job types…) must not start a second build that holds the pool it needs."""

    @dbt_assets(
        manifest=dbt_project.manifest_path,
        project=dbt_project,
        dagster_dbt_translator=PerfectCatchDbtTranslator(
            load_settings(st_event_sync_interval_seconds=30)
        ),
        select=EVENT_MODELS,
        name="events_with_the_lane_on",
    )
    def events(context):  # never run: only its automation conditions are evaluated
        yield from ()

    instance, models, requested = _automation([events])
    assert dg.AssetKey(["events", "job_created"]) in models

    _, cursor = requested(T0)
    for key in models:
        instance.report_runless_asset_event(dg.AssetMaterialization(key))
    for minute, entity in enumerate(("technicians", "job_types", "jobs"), start=1):
        instance.report_runless_asset_event(dg.AssetMaterialization(["servicetitan", entity]))
        after_sync, cursor = requested(T0 + timedelta(minutes=minute), cursor)
        assert after_sync == set(), entity
