"""The GHL and CallRail Dagster assets materialise against the simulators."""

from __future__ import annotations

import dagster as dg
import sqlalchemy as sa
from integration_support import TENANT, put_st

from perfect_catch.defs.callrail.assets import callrail_calls
from perfect_catch.defs.callrail.resources import CallRailResource
from perfect_catch.defs.gohighlevel.assets import (
    ghl_contacts,
    ghl_opportunities,
    ghl_pipelines,
    ghl_st_push,
)
from perfect_catch.defs.gohighlevel.resources import GoHighLevelResource
from perfect_catch.defs.warehouse.resources import WarehouseResource
from perfect_catch.settings import load_settings


def test_assets_materialise(sim, engine: sa.Engine, database_url: str) -> None:
    put_st(engine, "st_customers", 10_000_001, name="Jane Doe")
    put_st(
        engine,
        "st_customer_contacts",
        1,
        customer_id=10_000_001,
        type="Phone",
        value="480-555-0142",
    )
    put_st(
        engine,
        "st_estimates",
        70_000_001,
        customer_id=10_000_001,
        name="Heater",
        status="Sold",
        subtotal=1000,
    )
    env = sim.env
    resources = {
        "gohighlevel": GoHighLevelResource(
            api_url=env["GHL_API_URL"], token=env["GHL_TOKEN"], location_id=env["GHL_LOCATION_ID"]
        ),
        "callrail": CallRailResource(
            api_url=env["CALLRAIL_API_URL"],
            api_key=env["CALLRAIL_API_KEY"],
            account_id=env["CALLRAIL_ACCOUNT_ID"],
        ),
        "warehouse": WarehouseResource(database_url=database_url),
        "settings": load_settings(st_tenant_ids=[TENANT]),
    }
    result = dg.materialize(
        [ghl_pipelines, ghl_contacts, ghl_opportunities, ghl_st_push, callrail_calls],
        resources=resources,
    )
    assert result.success
    by_key = {
        m.asset_key.to_user_string(): m.metadata
        for m in result.asset_materializations_for_node("gohighlevel__contacts")
    }
    assert by_key["gohighlevel/contacts"]["records"].value == 40
    push = result.asset_materializations_for_node("gohighlevel__st_push")[0].metadata
    assert push["tenants"].value[str(TENANT)]["estimate"] == {"updated": 1}
    assert push["tenants"].value[str(TENANT)]["customer"] == {"created": 1}
    from perfect_catch.defs.gohighlevel.checks import ghl_push_failures

    check = dg.materialize(
        [ghl_st_push, ghl_push_failures],
        resources=resources,
        selection=dg.AssetSelection.checks(ghl_push_failures),
    )
    assert check.get_asset_check_evaluations()[0].passed
    secret = env["GHL_TOKEN"]
    for event in result.all_events:
        assert secret not in str(event)


def test_schedules_request_one_run_per_tick() -> None:
    from datetime import UTC, datetime

    from perfect_catch.defs.callrail.schedules import callrail_sync_schedule
    from perfect_catch.defs.gohighlevel.schedules import (
        gohighlevel_push_schedule,
        gohighlevel_sync_schedule,
    )

    tick = datetime(2026, 1, 1, 12, 5, tzinfo=UTC)
    with dg.instance_for_test() as instance:
        context = dg.build_schedule_context(instance=instance, scheduled_execution_time=tick)
        for schedule in (
            gohighlevel_sync_schedule,
            gohighlevel_push_schedule,
            callrail_sync_schedule,
        ):
            request = schedule(context)
            assert isinstance(request, dg.RunRequest)
            assert request.run_key.endswith(tick.isoformat())
            assert schedule.description and schedule.metadata
