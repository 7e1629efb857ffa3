"""End to end on real dbt output: sync the simulated ServiceTitan, build the event models, and
let the engine start workflows only for news, never for the history of the first load."""

from __future__ import annotations

import json
from pathlib import Path

import sqlalchemy as sa

from perfect_catch.connectors.servicetitan import ServiceTitanClient
from perfect_catch.settings import load_settings
from perfect_catch.simulators.server import SimulatorServer
from perfect_catch.warehouse import dbt_runner
from perfect_catch.warehouse.catalog import ENTITIES
from perfect_catch.warehouse.sync import sync_entity
from perfect_catch.workflows.passes import process_events_once
from perfect_catch.workflows.runtime import Services


def test_dbt_events_start_workflows_for_news_only(
    engine: sa.Engine, database_url: str, simulator: SimulatorServer, tmp_path: Path
) -> None:
    st = simulator.system("servicetitan")
    tenant_id = st.tenant_ids[0]
    settings = load_settings(database_url=database_url)
    services = Services(engine, settings, anthropic_factory=lambda: None)

    def sync_and_build() -> None:
        with ServiceTitanClient.from_settings(settings, tenant_id) as client:
            for spec in ENTITIES:
                sync_entity(engine, client, spec, tenant_id)
        as_of = json.dumps({"as_of": st.now()})
        args = ["run", "--select", "+workflow_events", "--vars", as_of]
        dbt_runner.invoke(
            args, settings, url=database_url, target_path=tmp_path, in_process=True
        ).check()

    try:
        sync_and_build()
        history = process_events_once(engine, settings, services=services)
        assert history.events > 0 and history.instances_created == 0

        st.advance(1)
        sync_and_build()
        news = process_events_once(engine, settings, services=services)
        assert news.events > 0 and news.instances_created > 0
        with engine.connect() as conn:
            backfilled = conn.execute(
                sa.text(
                    "select count(*) from automation.workflow_instances i"
                    " join events.workflow_events e on e.event_id = i.event_id"
                    " where e.is_backfill"
                )
            ).scalar()
        assert backfilled == 0
        again = process_events_once(engine, settings, services=services)
        assert again.events == 0 and again.instances_created == 0
    finally:
        services.close()
