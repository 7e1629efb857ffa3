"""The dbt project as Dagster assets: lineage from the sync assets, checks, automation, runs."""

from __future__ import annotations

import time

import dagster as dg
import pytest
import sqlalchemy as sa

from perfect_catch.defs.dbt.assets import perfect_catch_dbt, perfect_catch_dbt_events
from perfect_catch.defs.dbt.project import dbt_project
from perfect_catch.defs.dbt.resources import resources as dbt_resources
from perfect_catch.defs.dbt.translator import TABLE_TO_ENTITY
from perfect_catch.defs.warehouse.resources import WarehouseResource
from perfect_catch.settings import load_settings
from perfect_catch.warehouse import dbt_runner
from perfect_catch.warehouse.catalog import ENTITIES
from perfect_catch.warehouse.dbt_env import dbt_env

WORKFLOW_EVENTS = dg.AssetKey(["events", "workflow_events"])
DBT_ASSETS = (perfect_catch_dbt, perfect_catch_dbt_events)


@pytest.fixture(scope="module")
def graph() -> dg.AssetGraph:
    resources = {
        **dbt_resources().resources,
        "warehouse": WarehouseResource(),
        "settings": load_settings(),
    }
    return dg.Definitions(assets=DBT_ASSETS, resources=resources).resolve_asset_graph()


def _upstream(graph: dg.AssetGraph, key: dg.AssetKey) -> set[dg.AssetKey]:
    seen: set[dg.AssetKey] = set()
    todo = [key]
    while todo:
        for parent in graph.get(todo.pop()).parent_keys:
            if parent not in seen:
                seen.add(parent)
                todo.append(parent)
    return seen


def test_manifest_is_prepared() -> None:
    assert dbt_project.manifest_path.exists()
    assert not dbt_runner.manifest_is_stale()


def test_every_raw_table_maps_to_the_sync_asset_that_loads_it() -> None:
    assert TABLE_TO_ENTITY[("servicetitan", "st_estimate_items")] == "estimates"
    assert TABLE_TO_ENTITY[("servicetitan", "st_invoice_items")] == "invoices"
    assert set(TABLE_TO_ENTITY.values()) == {spec.name for spec in ENTITIES}


def test_events_descend_from_the_servicetitan_sync_assets(graph: dg.AssetGraph) -> None:
    sources = {k.path[1] for k in _upstream(graph, WORKFLOW_EVENTS) if k.path[0] == "servicetitan"}
    assert {
        "customers",
        "customer_contacts",
        "jobs",
        "appointments",
        "appointment_assignments",
        "estimates",
        "invoices",
        "payments",
        "job_types",
        "business_units",
    } <= sources
    items = dg.AssetKey(["staging", "stg_servicetitan__estimate_items"])
    assert graph.get(items).parent_keys == {dg.AssetKey(["servicetitan", "estimates"])}


def test_every_dbt_asset_is_described_and_rebuilt_after_syncs(graph: dg.AssetGraph) -> None:
    keys = {key for assets in DBT_ASSETS for key in assets.keys}
    assert WORKFLOW_EVENTS in keys and len(keys) > 30
    for key in keys:
        node = graph.get(key)
        assert node.description, key
        assert node.automation_condition is not None, key
        assert node.metadata["dagster/table_name"] == ".".join(key.path)
    check_keys = {c for assets in DBT_ASSETS for c in assets.check_keys}
    checks = {c.name for c in check_keys if c.asset_key == WORKFLOW_EVENTS}
    assert "unique_workflow_events_event_id" in checks
    assert "assert_event_ids_are_stable" in {c.name for c in check_keys}
    assert WORKFLOW_EVENTS in perfect_catch_dbt_events.keys
    assert not {k for k in perfect_catch_dbt.keys if k.path[0] == "events"}


def test_materializing_through_dagster_builds_in_the_warehouse(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import dagster_dbt.core.resource

    # The build is the only dbt process: no `dbt --version` before it (seconds per run).
    asked: list[list[str]] = []
    monkeypatch.setattr(dagster_dbt.core.resource, "check_output", asked.append)
    key = dg.AssetKey(["staging", "stg_servicetitan__business_units"])
    started = time.time() - 1
    result = dg.materialize(
        list(DBT_ASSETS),
        selection=[key],
        resources={
            **dbt_resources().resources,
            "warehouse": WarehouseResource(database_url=database_url),
            "settings": load_settings(database_url=database_url),
        },
    )
    assert result.success
    assert asked == []
    assert [e.asset_key for e in result.get_asset_materialization_events()] == [key]
    # The build's parse is kept for the next build of this database; its target is gone.
    saved = dbt_runner.run_target(dbt_env(load_settings(), database_url)) / dbt_runner.PARTIAL_PARSE
    assert saved.exists() and saved.stat().st_mtime >= started
    leftovers = dbt_runner.RUN_TARGET / "dagster"
    assert not [p for p in leftovers.iterdir() if p.stat().st_mtime >= started]
    engine = sa.create_engine(database_url)
    with engine.connect() as conn:
        assert (
            conn.execute(
                sa.text("select count(*) from staging.stg_servicetitan__business_units")
            ).scalar_one()
            == 0
        )
    engine.dispose()
