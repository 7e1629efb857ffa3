"""A missed call is texted back through the outbox: CallRail call -> `call_missed` event ->
the shipped `missed_call_text_back` workflow -> the Twilio simulator; never to a number that
opted out, and never for the history of the first load."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pytest
import sqlalchemy as sa

from perfect_catch.connectors.callrail import CallRailClient
from perfect_catch.connectors.servicetitan import ServiceTitanClient
from perfect_catch.integrations.callrail_sync import sync_callrail_calls
from perfect_catch.messaging.consent import record_consent
from perfect_catch.messaging.dispatcher import dispatch_due
from perfect_catch.settings import load_settings
from perfect_catch.simulators.server import SimulatorServer
from perfect_catch.warehouse import dbt_runner
from perfect_catch.warehouse.catalog import ENTITIES
from perfect_catch.warehouse.sync import sync_entity
from perfect_catch.workflows.passes import process_events_once
from perfect_catch.workflows.runtime import Services

NEW_CALLER = "+16025550199"
OPTED_OUT = "+16025550188"


@pytest.mark.timeout(900)  # two syncs and dbt builds outlast 300 s on a loaded machine
def test_a_missed_call_is_texted_back_unless_the_number_opted_out(
    engine: sa.Engine, database_url: str, simulator: SimulatorServer, tmp_path: Path
) -> None:
    st = simulator.system("servicetitan")
    callrail = simulator.system("callrail")
    tenant_id = st.tenant_ids[0]
    settings = load_settings(
        database_url=database_url,
        messaging_quiet_hours_start="00:00",
        messaging_quiet_hours_end="00:00",
    )
    services = Services(engine, settings, anthropic_factory=lambda: None)

    def sim_now() -> datetime:
        return datetime.fromisoformat(st.now())

    def sync_and_build() -> None:
        with ServiceTitanClient.from_settings(settings, tenant_id) as client:
            for spec in ENTITIES:
                if spec.name in ("customers", "customer_contacts"):
                    sync_entity(engine, client, spec, tenant_id)
        with CallRailClient.from_settings(settings) as client:
            sync_callrail_calls(engine, client, tenant_ids=[tenant_id], now=sim_now())
        as_of = json.dumps({"as_of": st.now()})
        dbt_runner.invoke(
            ["run", "--select", "+workflow_events", "--vars", as_of],
            settings,
            url=database_url,
            target_path=tmp_path,
            in_process=True,
        ).check()

    try:
        sync_and_build()
        history = process_events_once(engine, settings, services=services)
        assert history.instances_created == 0

        with engine.begin() as conn:
            record_consent(conn, channel="sms", address=OPTED_OUT, opted_out=True, source="test")
        missed = callrail.add_call(NEW_CALLER, voicemail=True, when=sim_now())
        callrail.add_call(OPTED_OUT, when=sim_now())
        callrail.add_call("+16025550177", answered=True, when=sim_now())
        sync_and_build()
        news = process_events_once(engine, settings, services=services)
        assert news.instances_created == 2
        assert news.statuses == {"completed": 1, "stopped": 1}
        with engine.connect() as conn:
            event = conn.execute(
                sa.text(
                    "select tenant_id, customer_id, payload from events.workflow_events"
                    " where event_type = 'call_missed' and payload -> 'call' ->> 'id' = :id"
                ),
                {"id": missed["id"]},
            ).one()
            assert event.tenant_id == tenant_id and event.customer_id is None
            assert event.payload["call"]["voicemail"] is True
            queued = conn.execute(
                sa.text("select to_address, body from automation.outbox where channel = 'sms'")
            ).all()
        assert [row.to_address for row in queued] == [NEW_CALLER]
        assert queued[0].body.startswith("Sorry we missed your call")

        sent = dispatch_due(engine, settings)
        assert sent.sent == 1
        texts = simulator.system("twilio").outbound()
        assert [m["to"] for m in texts] == [NEW_CALLER]
    finally:
        services.close()
