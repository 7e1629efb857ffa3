"""The ServiceTitan Dagster wiring: assets materialize through the sync engine, schedules
request one run per tenant and skip a tenant whose sync is still running."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime

import dagster as dg
import sqlalchemy as sa
from dagster._core.test_utils import create_run_for_test

from perfect_catch.defs.servicetitan.assets import build_servicetitan_assets
from perfect_catch.defs.servicetitan.resources import ServiceTitanResource
from perfect_catch.defs.servicetitan.schedules import build_sync_schedules
from perfect_catch.defs.warehouse.resources import WarehouseResource
from perfect_catch.settings import load_settings
from perfect_catch.warehouse.catalog import ENTITIES, EVENT_ENTITIES


def _resources(simulator, database_url: str) -> dict:
    env = simulator.env
    return {
        "servicetitan": ServiceTitanResource(
            api_url=env["ST_API_URL"],
            auth_url=env["ST_AUTH_URL"],
            client_id=env["ST_CLIENT_ID"],
            client_secret=env["ST_CLIENT_SECRET"],
            app_key=env["ST_APP_KEY"],
        ),
        "warehouse": WarehouseResource(database_url=database_url),
    }


def test_materializing_an_entity_syncs_it_and_reports_metadata(
    simulator, database_url: str, engine: sa.Engine
) -> None:
    tenant = simulator.env["ST_TENANT_IDS"].split(",")[0]
    assets = {a.key.to_user_string(): a for a in build_servicetitan_assets([int(tenant)])}
    customers = assets["servicetitan/customers"]
    result = dg.materialize(
        [customers], partition_key=tenant, resources=_resources(simulator, database_url)
    )
    assert result.success
    [event] = result.get_asset_materialization_events()
    metadata = event.materialization.metadata
    truth = sum(1 for _ in simulator.system("servicetitan").records("customers"))
    assert metadata["inserted"].value == truth
    assert metadata["api_calls"].value >= 2  # token + at least one page
    assert metadata["rejected"].value == 0
    # "Row count" is rows in the table; what this run wrote has its own name.
    assert metadata["records_synced_this_run"].value == truth
    assert metadata["dagster/row_count"].value == truth
    again = dg.materialize(
        [customers], partition_key=tenant, resources=_resources(simulator, database_url)
    )
    [quiet] = again.get_asset_materialization_events()
    assert quiet.materialization.metadata["records_synced_this_run"].value == 0
    assert quiet.materialization.metadata["dagster/row_count"].value == truth
    assert "secret" not in str(metadata).lower()
    with engine.connect() as conn:
        count = conn.execute(sa.text("select count(*) from servicetitan.st_customers")).scalar()
    assert count == truth


def test_every_asset_has_description_metadata_and_pool() -> None:
    assets = build_servicetitan_assets([1])
    assert len(assets) == len(ENTITIES)
    for asset in assets:
        spec = next(iter(asset.specs))
        assert spec.description and "synced into" in spec.description
        assert spec.metadata["dagster/table_name"]
        assert asset.op.pool == "servicetitan_api"


def test_schedules_request_one_run_per_idle_tenant(monkeypatch) -> None:
    monkeypatch.setenv("ST_TIMEZONE", "America/Phoenix")
    assets = build_servicetitan_assets([11, 22])
    incremental, full = build_sync_schedules(assets, load_settings())
    assert full.execution_timezone == "America/Phoenix"
    assert full.cron_schedule == "0 2 * * *"

    with dg.instance_for_test() as instance:
        context = dg.build_schedule_context(
            instance=instance, scheduled_execution_time=datetime(2026, 11, 26, 9, 5, tzinfo=UTC)
        )
        requests = incremental(context)
        assert sorted(r.partition_key for r in requests) == ["11", "22"]
        assert all(r.run_config == {} for r in requests)

        full_requests = full(context)
        ops = full_requests[0].run_config["ops"]
        assert ops["servicetitan__customers"] == {"config": {"full": True}}

        # A sync of tenant 11 still running: only 22 gets a new run.
        create_run_for_test(
            instance,
            job_name="servicetitan_sync",
            tags={"dagster/partition": "11"},
            status=dg.DagsterRunStatus.STARTED,
        )
        requests = incremental(context)
        assert [r.partition_key for r in requests] == ["22"]
        assert requests[0].asset_selection is None  # every entity


def test_with_the_event_lane_on_the_incremental_schedule_leaves_its_entities_to_it(
    monkeypatch,
) -> None:
    monkeypatch.setenv("ST_EVENT_SYNC_INTERVAL_SECONDS", "30")
    assets = build_servicetitan_assets([11])
    incremental, full = build_sync_schedules(assets, load_settings())
    with dg.instance_for_test() as instance:
        context = dg.build_schedule_context(
            instance=instance, scheduled_execution_time=datetime(2026, 11, 26, 9, 5, tzinfo=UTC)
        )
        [request] = incremental(context)
        synced = {key.path[-1] for key in request.asset_selection}
        assert synced == {a.key.path[-1] for a in assets} - set(EVENT_ENTITIES)
        assert {"technicians", "job_types", "installed_equipment"} <= synced
        [nightly] = full(context)
        assert nightly.asset_selection is None  # the full refresh still rereads everything


def test_event_sync_sensor_is_off_by_default_and_fast_when_set(monkeypatch) -> None:
    from perfect_catch.defs.servicetitan.sensors import build_event_sync_sensor

    assets = build_servicetitan_assets([11, 22])
    assert build_event_sync_sensor(assets, load_settings()) is None

    monkeypatch.setenv("ST_EVENT_SYNC_INTERVAL_SECONDS", "30")
    sensor = build_event_sync_sensor(assets, load_settings())
    assert sensor is not None and sensor.minimum_interval_seconds == 5
    with dg.instance_for_test() as instance:

        def tick(cursor: str | None) -> dg.SensorResult:
            return sensor(dg.build_sensor_context(instance=instance, cursor=cursor))

        first = tick(None)
        assert sorted(r.partition_key for r in first.run_requests) == ["11", "22"]
        # Five seconds later neither tenant is due yet.
        assert tick(first.cursor).run_requests == []
        # Once the interval has passed, a tenant whose sync still runs is left alone.
        long_ago = json.dumps({tenant: time.time() - 31 for tenant in ("11", "22")})
        create_run_for_test(
            instance,
            job_name="servicetitan_event_sync",
            tags={"dagster/partition": "22"},
            status=dg.DagsterRunStatus.STARTED,
        )
        later = tick(long_ago)
        assert [r.partition_key for r in later.run_requests] == ["11"]
        assert json.loads(later.cursor)["22"] == json.loads(long_ago)["22"]
