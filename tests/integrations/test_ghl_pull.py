"""GHL pull: pipelines, contacts (incremental on dateUpdated) and opportunities."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from integration_support import ghl_client

from perfect_catch.integrations.ghl_sync import (
    sync_ghl_contacts,
    sync_ghl_opportunities,
    sync_ghl_pipelines,
)
from perfect_catch.warehouse.sync_state import get_state


def _count(engine: sa.Engine, table: str) -> int:
    with engine.connect() as conn:
        return conn.execute(sa.text(f"select count(*) from integrations.{table}")).scalar_one()


def test_pull_everything_then_only_changes(sim, engine: sa.Engine) -> None:
    state = sim.system("gohighlevel")
    with ghl_client(sim) as client:
        pipelines = sync_ghl_pipelines(engine, client)
        contacts = sync_ghl_contacts(engine, client, page_limit=15)
        opportunities = sync_ghl_opportunities(engine, client)
    assert pipelines.records == 2 and _count(engine, "ghl_pipeline_stages") == 11
    assert contacts.records == len(state.contacts) == _count(engine, "ghl_contacts")
    assert opportunities.records == len(state.opportunities) == _count(engine, "ghl_opportunities")
    raw = engine.raw_connection()
    try:
        watermark = get_state(raw.driver_connection, "gohighlevel", state.location_id, "contacts")
    finally:
        raw.close()
    newest = max(c["dateUpdated"] for c in state.contacts.values())
    assert watermark.watermark == datetime.fromisoformat(newest)

    contact = next(iter(state.contacts.values()))
    state.update_contact(contact, {"tags": ["customer", "vip"]})
    opportunity = next(iter(state.opportunities.values()))
    state.update_opportunity(opportunity, {"status": "abandoned"})
    with ghl_client(sim) as client:
        contacts = sync_ghl_contacts(engine, client, page_limit=15)
        opportunities = sync_ghl_opportunities(engine, client)
    assert contacts.records <= 3 and contacts.written == 1
    assert opportunities.written == 1
    with engine.connect() as conn:
        tags = conn.execute(
            sa.text("select tags from integrations.ghl_contacts where id = :id"),
            {"id": contact["id"]},
        ).scalar_one()
        status = conn.execute(
            sa.text("select status from integrations.ghl_opportunities where id = :id"),
            {"id": opportunity["id"]},
        ).scalar_one()
    assert tags == ["customer", "vip"]
    assert status == "abandoned"
