"""GHL -> ST customer creation against the simulated ServiceTitan's real create-customer
endpoint, so the request body the integration builds is checked by the API's validation."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from integration_support import TENANT

from perfect_catch.connectors.servicetitan import ServiceTitanClient
from perfect_catch.integrations.ghl_sync import upsert_contacts
from perfect_catch.integrations.ghl_to_st import pull_ghl_customers_to_st
from perfect_catch.settings import load_settings
from perfect_catch.simulators.server import SimulatorServer
from perfect_catch.simulators.servicetitan import ServiceTitanSystem

LOCATION = "loc1"


@pytest.fixture
def st_sim() -> Iterator[SimulatorServer]:
    system = ServiceTitanSystem(seed=7, size="small", tenant_ids=(TENANT,), rate_limit=0)
    server = SimulatorServer(seed=7, size="small", port=0, systems={"servicetitan": system})
    with server as running:
        yield running


def test_ghl_customer_is_created_in_the_simulated_servicetitan(
    engine: sa.Engine, st_sim: SimulatorServer
) -> None:
    contact = {
        "id": "ghl-new",
        "firstName": "Sam",
        "lastName": "Rivera",
        "phone": "+16025550199",
        "email": "sam.rivera@example.com",
        "tags": ["customer"],
        "address1": "1 Main St",
        "city": "Phoenix",
        "state": "AZ",
        "postalCode": "85001",
        "dateAdded": "2025-01-01T00:00:00.000Z",
        "dateUpdated": "2025-01-02T00:00:00.000Z",
    }
    raw = engine.raw_connection()
    try:
        upsert_contacts(raw.driver_connection, LOCATION, [contact])
        raw.commit()
    finally:
        raw.close()
    env = st_sim.env
    config = load_settings(ghl_pull_to_st=True)
    with ServiceTitanClient(
        env["ST_API_URL"],
        env["ST_AUTH_URL"],
        env["ST_CLIENT_ID"],
        env["ST_CLIENT_SECRET"],
        env["ST_APP_KEY"],
        TENANT,
        max_retries=1,
    ) as client:
        first = pull_ghl_customers_to_st(engine, client, LOCATION, TENANT, config)
        second = pull_ghl_customers_to_st(engine, client, LOCATION, TENANT, config)
    assert not first.failed and len(first.created) == 1 and second.created == []
    state = st_sim.system("servicetitan")
    customer = state.get("customers", first.created[0])
    assert customer["name"] == "Sam Rivera" and customer["address"]["street"] == "1 Main St"
    locations = [r for r in state.records("locations") if r["customerId"] == customer["id"]]
    assert [loc["address"]["zip"] for loc in locations] == ["85001"]
    contacts = {
        (c["type"], c["value"])
        for c in state.records("customer-contacts")
        if c["customerId"] == customer["id"]
    }
    assert contacts == {("MobilePhone", "+16025550199"), ("Email", "sam.rivera@example.com")}
    with engine.connect() as conn:
        link = conn.execute(
            sa.text("select state, customer_id, location_st_id from integrations.ghl_st_customers")
        ).one()
    assert tuple(link) == ("created", customer["id"], locations[0]["id"])
