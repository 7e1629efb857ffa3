"""The supplier Dagster definitions: an asset per supplier, the map and the drift mart
downstream, described checks, and a daily schedule that is off unless schedules default on."""

from __future__ import annotations

import dagster as dg
import sqlalchemy as sa

from perfect_catch.defs.suppliers import assets, checks, schedules
from perfect_catch.defs.warehouse.resources import WarehouseResource
from tests.suppliers.conftest import supplier_settings, sync_materials


def test_lineage_checks_and_schedule() -> None:
    from perfect_catch.definitions import defs

    graph = defs().resolve_asset_graph()
    drift = graph.get(dg.AssetKey(["marts", "material_cost_drift"]))
    upstream = {k.to_user_string() for k in graph.get(drift.key).parent_keys}
    assert "staging/stg_suppliers__vendor_products" in upstream
    mapped = graph.get(dg.AssetKey(["staging", "stg_suppliers__vendor_products"]))
    assert assets.MAP_KEY in mapped.parent_keys
    parents = graph.get(assets.MAP_KEY).parent_keys
    assert {a.key for a in assets.supplier_assets} <= parents
    for asset in [*assets.supplier_assets, assets.material_vendor_map]:
        for key in asset.keys:
            assert asset.descriptions_by_key[key]
            assert asset.metadata_by_key[key]
    for check in [checks.mapping_coverage, *checks.offers_checks]:
        for spec in check.check_specs:
            assert spec.description and spec.metadata
    schedule = schedules.supplier_refresh_schedule
    assert schedule.description and schedule.metadata
    assert schedule.default_status == dg.DefaultScheduleStatus.STOPPED


def test_supplier_assets_materialize_and_checks_pass(
    simulator, engine: sa.Engine, database_url: str
) -> None:
    settings = supplier_settings()
    sync_materials(engine, settings)
    resources = {"warehouse": WarehouseResource(database_url=database_url), "settings": settings}
    result = dg.materialize(
        [*assets.supplier_assets, assets.material_vendor_map],
        resources=resources,
    )
    assert result.success
    by_key = {
        e.asset_key: e.step_materialization_data.materialization.metadata
        for e in result.get_asset_materialization_events()
    }
    pool360 = by_key[dg.AssetKey(["suppliers", "pool360"])]
    assert pool360["logins"].value == 1 and pool360["offers"].value > 0
    context = dg.build_asset_check_context(resources={"warehouse": resources["warehouse"]})
    coverage = checks.mapping_coverage(context)
    assert coverage.passed
    assert coverage.metadata["coverage"].value < 1, "materials no supplier carries are listed"


def test_a_drifted_supplier_fails_its_asset_only(
    simulator, engine: sa.Engine, database_url: str
) -> None:
    settings = supplier_settings()
    sync_materials(engine, settings)
    simulator.set_faults(supplier_layout="drifted")
    resources = {"warehouse": WarehouseResource(database_url=database_url), "settings": settings}
    result = dg.materialize([assets.supplier_assets[0]], resources=resources, raise_on_error=False)
    assert not result.success
    failure = result.get_step_failure_events()[0].step_failure_data.error
    assert failure.cause.cls_name == "SchemaDriftError"
    assert "layout drift on the search page" in failure.cause.message
