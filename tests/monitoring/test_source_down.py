"""The simulator goes down in the middle of a Dagster sync: the run fails, one incident opens
(the staleness that follows is added to it), the healing sensor re-runs the sync only once its
backoff has passed, the successful re-run resolves the incident, and the table holds exactly
the source's records."""

from __future__ import annotations

from datetime import timedelta

import dagster as dg
import pytest
import sqlalchemy as sa

from perfect_catch.defs.monitoring.checks import build_monitored_check
from perfect_catch.defs.monitoring.sensors import (
    healing_sensor,
    run_failure_sensor,
    run_success_sensor,
)
from perfect_catch.defs.servicetitan.assets import build_servicetitan_assets
from perfect_catch.defs.servicetitan.resources import ServiceTitanResource
from perfect_catch.defs.warehouse.resources import WarehouseResource
from perfect_catch.monitoring import anomalies, healing
from perfect_catch.monitoring.recording import Monitor
from perfect_catch.settings import load_settings
from perfect_catch.simulators.server import SimulatorServer
from perfect_catch.warehouse import sync_state
from perfect_catch.warehouse.catalog import get_entity


@pytest.fixture
def paged_simulator(monkeypatch: pytest.MonkeyPatch):
    """The simulators with small export pages, so a sync spans many pages."""
    monkeypatch.setenv("SIM_ST_EXPORT_PAGE_SIZE", "40")
    with SimulatorServer(seed=7, size="small", port=0) as sim:
        for key, value in sim.env.items():
            monkeypatch.setenv(key, value)
        yield sim


def _open(engine: sa.Engine) -> list[dict]:
    with engine.connect() as conn:
        return [
            dict(r)
            for r in conn.execute(
                sa.text("select * from monitoring.incidents where status = 'open'")
            ).mappings()
        ]


def test_simulator_down_mid_sync_is_healed_by_a_backed_off_rerun(
    paged_simulator: SimulatorServer,
    database_url: str,
    engine: sa.Engine,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    sim = paged_simulator
    env = sim.env
    tenant = env["ST_TENANT_IDS"]
    settings = load_settings(database_url=database_url, monitoring_rerun_base_seconds=60)
    [jobs] = [a for a in build_servicetitan_assets([int(tenant)]) if a.key.path[-1] == "jobs"]
    check = build_monitored_check(get_entity("jobs"))
    resources = {
        "servicetitan": ServiceTitanResource(
            api_url=env["ST_API_URL"],
            auth_url=env["ST_AUTH_URL"],
            client_id=env["ST_CLIENT_ID"],
            client_secret=env["ST_CLIENT_SECRET"],
            app_key=env["ST_APP_KEY"],
            max_retries=1,
        ),
        "warehouse": WarehouseResource(database_url=database_url),
        "settings": settings,
    }
    truth = sum(1 for _ in sim.system("servicetitan").records("jobs"))
    assert truth > 3 * 40, "the sync must span several pages"

    # The source goes down after the first page of a full sync has committed.
    real_save = sync_state.save_token

    def save_then_go_down(*args, **kwargs):
        real_save(*args, **kwargs)
        sim.set_faults(rate_5xx=1.0)

    monkeypatch.setattr(sync_state, "save_token", save_then_go_down)
    with dg.instance_for_test() as instance:
        failed = dg.materialize(
            [jobs, check],
            partition_key=tenant,
            resources=resources,
            instance=instance,
            raise_on_error=False,
        )
        assert not failed.success
        monkeypatch.setattr(sync_state, "save_token", real_save)
        run = instance.get_run_by_id(failed.run_id)
        context = dg.build_run_status_sensor_context(
            sensor_name=run_failure_sensor.name,
            dagster_event=failed.get_run_failure_event(),
            dagster_instance=instance,
            dagster_run=run,
            resources={"warehouse": resources["warehouse"], "settings": settings},
        ).for_run_failure()
        run_failure_sensor(context)

        [incident] = _open(engine)
        assert incident["kind"] == "source_down"
        assert incident["entities"] == ["jobs"]
        assert failed.run_id in incident["run_ids"]

        # The freshness check failing later is a consequence, added to the same incident.
        late = incident["last_seen"] + timedelta(hours=2)
        stale = anomalies.freshness(engine, settings, "servicetitan", tenant, "jobs", late)
        assert not stale.passed
        anomalies.evaluate(Monitor(engine, settings), [stale], "check-run")
        assert [i["id"] for i in _open(engine)] == [incident["id"]]

        # Backoff: nothing before 60 s, the first re-run after; the next waits 120 s more.
        seen = incident["first_seen"]
        assert healing.plan_reruns(engine, settings, now=seen + timedelta(seconds=30)) == []
        [first] = healing.plan_reruns(engine, settings, now=seen + timedelta(seconds=61))
        assert first.attempt == 1 and first.entities == ("jobs",)
        second_at = seen + timedelta(seconds=61)
        assert healing.plan_reruns(engine, settings, now=second_at + timedelta(seconds=90)) == []

        # Time passes; the source is back; the healing sensor asks for the re-run.
        sim.set_faults(rate_5xx=0.0)
        with engine.begin() as conn:
            conn.execute(
                sa.text(
                    "update monitoring.healing_actions set taken_at = taken_at - interval '1 hour'"
                )
            )
        tick = healing_sensor(
            dg.build_sensor_context(
                instance=instance,
                resources={"warehouse": resources["warehouse"], "settings": settings},
            )
        )
        # (A Slack alert that failed while the simulators were down asks for the healing job.)
        [request] = [r for r in tick.run_requests if r.job_name == "servicetitan_sync"]
        assert request.partition_key == tenant
        assert request.asset_selection == [jobs.key]
        assert request.job_name == "servicetitan_sync"

        healed = dg.materialize(
            [jobs, check], partition_key=tenant, resources=resources, instance=instance
        )
        assert healed.success
        success = dg.build_run_status_sensor_context(
            sensor_name=run_success_sensor.name,
            dagster_event=healed.get_run_success_event(),
            dagster_instance=instance,
            dagster_run=instance.get_run_by_id(healed.run_id),
            resources={"warehouse": resources["warehouse"], "settings": settings},
        )
        run_success_sensor(success)

    assert _open(engine) == []
    with engine.connect() as conn:
        resolved = conn.execute(
            sa.text("select resolved_by from monitoring.incidents where id = :id"),
            {"id": incident["id"]},
        ).scalar()
        rows, distinct = conn.execute(
            sa.text("select count(*), count(distinct (tenant_id, id)) from servicetitan.st_jobs")
        ).one()
        actions = conn.execute(
            sa.text("select action, attempt from monitoring.healing_actions order by id")
        ).all()
    assert resolved == f"run {healed.run_id}"
    assert rows == distinct == truth  # nothing lost, nothing doubled
    assert [(a.action, a.attempt) for a in actions] == [("rerun_sync", 1), ("rerun_sync", 2)]
