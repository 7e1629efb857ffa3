"""The Dagster wiring: the event sensor advances the engine's one cursor and requests one run per
instance (run_key = instance id), disabled workflows do not match, the due sensor resumes waits,
the job runs an instance, and the sensor, the event lane and run-once share their progress."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import dagster as dg
import pytest
import sqlalchemy as sa
from workflow_support import Flow

from perfect_catch.defs.warehouse.resources import WarehouseResource
from perfect_catch.defs.workflows.assets import workflows_started
from perfect_catch.defs.workflows.jobs import run_config, workflow_instance_job
from perfect_catch.defs.workflows.sensors import workflow_due_sensor, workflow_events_sensor
from perfect_catch.settings import load_settings
from perfect_catch.workflows.definitions import set_enabled
from perfect_catch.workflows.passes import process_events_once, start_new_instances
from perfect_catch.workflows.progress import read_cursor


def _resources(flow: Flow) -> dict[str, object]:
    """The warehouse of `flow`, and settings read now (after the simulator and the test have set
    their variables)."""
    url = flow.engine.url.render_as_string(hide_password=False)
    return {
        "warehouse": WarehouseResource(database_url=url),
        "settings": load_settings(database_url=url),
    }


def _outbox_states(flow: Flow) -> list[tuple]:
    sql = "select step_key, status, attempts, provider_id from automation.outbox order by id"
    return [tuple(row.values()) for row in flow.rows(sql)]


def _op_metadata(outcome: dg.ExecuteInProcessResult) -> dict:
    [output] = [e for e in outcome.all_node_events if e.is_successful_output]
    return {key: value.value for key, value in output.step_output_data.metadata.items()}


def _evaluate(sensor: dg.SensorDefinition, flow: Flow, cursor: str | None = None):
    with dg.build_sensor_context(cursor=cursor, resources=_resources(flow)) as context:
        return sensor(context)


def test_event_sensor_requests_a_run_per_instance_and_advances(flow: Flow) -> None:
    now = datetime.now(UTC)
    flow.add_customer()
    flow.add_estimate(9101)
    flow.estimate_created(9101, now - timedelta(hours=3))

    result = _evaluate(workflow_events_sensor, flow)
    assert result.cursor == "1"
    instances = {
        row["definition_name"]: row["id"]
        for row in flow.rows("select id, definition_name from automation.workflow_instances")
    }
    assert set(instances) == {"estimate_followup", "estimate_sent"}
    assert sorted(r.run_key for r in result.run_requests) == sorted(
        str(i) for i in instances.values()
    )
    request = next(r for r in result.run_requests if r.run_key == str(instances["estimate_sent"]))
    assert request.run_config == run_config(instances["estimate_sent"])

    again = _evaluate(workflow_events_sensor, flow, cursor=result.cursor)
    assert again.run_requests == [] and again.cursor == "1"

    set_enabled(flow.engine, "estimate_followup", False)
    flow.add_estimate(9102)
    flow.estimate_created(9102, now - timedelta(hours=1))
    third = _evaluate(workflow_events_sensor, flow, cursor=again.cursor)
    assert third.cursor == "2" and len(third.run_requests) == 1
    started = flow.rows(
        "select definition_name from automation.workflow_instances where event_id = :e",
        e="estimate_created:2",
    )
    assert started == [{"definition_name": "estimate_sent"}]


def test_due_sensor_resumes_waits_and_the_job_runs_them(flow: Flow) -> None:
    now = datetime.now(UTC)
    flow.add_customer()
    flow.add_estimate(9201)
    flow.estimate_created(9201, now - timedelta(hours=3))
    flow.match(now)
    instance_id = flow.instances_of("estimate_followup")[0]["id"]
    flow.run(instance_id, now)
    assert [m["step_key"] for m in flow.outbox()] == ["sms_1"]
    assert _evaluate(workflow_due_sensor, flow).run_requests == []

    due_at = now - timedelta(minutes=1)
    with flow.engine.begin() as conn:
        conn.execute(
            sa.text("update automation.workflow_instances set next_run_at = :t where id = :i"),
            {"t": due_at, "i": instance_id},
        )
    result = _evaluate(workflow_due_sensor, flow)
    keys = [r.run_key for r in result.run_requests]
    assert f"{instance_id}:sms_2:{due_at.isoformat()}" in keys

    outcome = workflow_instance_job.execute_in_process(
        run_config=run_config(instance_id), resources=_resources(flow)
    )
    assert outcome.success
    assert [m["step_key"] for m in flow.outbox()] == ["sms_1", "sms_2"]
    assert flow.instance(instance_id)["status"] == "waiting"
    # No Twilio credentials here: the new message waits in the outbox, no attempt is spent.
    assert _outbox_states(flow)[-1] == ("sms_2", "pending", 0, None)
    assert _op_metadata(outcome)["messages_sent_now"] == 0


@pytest.fixture
def no_quiet_hours(monkeypatch):
    for name in ("MESSAGING_QUIET_HOURS_START", "MESSAGING_QUIET_HOURS_END"):
        monkeypatch.setenv(name, "00:00")  # equal: no quiet hours, whatever the time of day


def test_the_event_lane_starts_new_workflows_in_its_own_run_and_the_sensor_adds_nothing(
    flow: Flow, simulator, no_quiet_hours
) -> None:
    now = datetime.now(UTC)
    flow.add_customer()
    flow.add_estimate(9203)
    flow.estimate_created(9203, now - timedelta(hours=3))
    result = dg.materialize([workflows_started], resources=_resources(flow))
    assert result.success
    [materialization] = result.get_asset_materialization_events()
    metadata = materialization.materialization.metadata
    started = flow.rows("select definition_name, status from automation.workflow_instances")
    assert metadata["instances_created"].value == len(started) >= 1
    assert "estimate_followup" in {row["definition_name"] for row in started}
    assert "pending" not in {row["status"] for row in started}
    outbox = _outbox_states(flow)
    assert ("sms_1", "sent") in [row[:2] for row in outbox]
    assert metadata["messages_sent_now"].value == len(outbox)
    assert {row[1] for row in outbox} == {"sent"}
    assert len(simulator.system("twilio").outbound()) == 1
    # The event sensor reads the same event later: its instances exist and are under way.
    assert _evaluate(workflow_events_sensor, flow).run_requests == []
    assert len(flow.rows("select id from automation.workflow_instances")) == len(started)


def test_the_job_sends_the_messages_it_queued_without_waiting_for_the_outbox_pass(
    flow: Flow, simulator, no_quiet_hours
) -> None:
    now = datetime.now(UTC)
    flow.add_customer()
    flow.add_estimate(9202)
    flow.estimate_created(9202, now - timedelta(hours=3))
    flow.match(now)
    instance_id = flow.instances_of("estimate_followup")[0]["id"]
    outcome = workflow_instance_job.execute_in_process(
        run_config=run_config(instance_id), resources=_resources(flow)
    )
    assert outcome.success
    [(step, status, attempts, provider_id)] = _outbox_states(flow)
    assert (step, status, attempts) == ("sms_1", "sent", 1)
    assert _op_metadata(outcome)["messages_sent_now"] == 1
    [texted] = simulator.system("twilio").outbound()
    assert texted["sid"] == provider_id


def _instances_per_event(flow: Flow) -> dict[str, list[str]]:
    rows = flow.rows(
        "select event_id, definition_name from automation.workflow_instances order by id"
    )
    started: dict[str, list[str]] = {}
    for row in rows:
        started.setdefault(row["event_id"], []).append(row["definition_name"])
    return {event: sorted(names) for event, names in started.items()}


def test_the_sensor_the_event_lane_and_run_once_walk_one_cursor(flow: Flow) -> None:
    """An event matched by one path is not walked again by another, and none is missed."""
    now = datetime.now(UTC)
    flow.add_customer()
    both = ["estimate_followup", "estimate_sent"]

    flow.add_estimate(9301)
    first = flow.estimate_created(9301, now - timedelta(hours=3))
    by_sensor = _evaluate(workflow_events_sensor, flow)
    assert by_sensor.cursor == "1" and len(by_sensor.run_requests) == 2
    assert read_cursor(flow.engine) == 1
    lane, ran = start_new_instances(flow.engine, flow.settings, now)
    assert (lane.events, lane.instances_created, ran, lane.cursor) == (0, 0, [], 1)

    flow.add_estimate(9302)
    second = flow.estimate_created(9302, now - timedelta(hours=2))
    lane, ran = start_new_instances(flow.engine, flow.settings, now)
    assert (lane.events, lane.instances_created, len(ran), lane.cursor) == (1, 2, 2, 2)
    # A sensor without a Dagster cursor of its own (or with an old one) starts where the lane
    # stopped: it neither re-walks the lane's event nor requests runs for its instances.
    for cursor in (None, "0"):
        again = _evaluate(workflow_events_sensor, flow, cursor=cursor)
        assert again.run_requests == [] and again.cursor == "2"

    flow.add_estimate(9303)
    third = flow.estimate_created(9303, now - timedelta(hours=1))
    once = process_events_once(flow.engine, flow.settings, now, services=flow.services)
    assert (once.events, once.instances_created, once.cursor) == (1, 2, 3)
    assert _evaluate(workflow_events_sensor, flow, cursor="2").run_requests == []
    lane, ran = start_new_instances(flow.engine, flow.settings, now)
    assert (lane.events, ran, read_cursor(flow.engine)) == (0, [], 3)

    flow.add_estimate(9304)
    fourth = flow.estimate_created(9304, now - timedelta(minutes=30))
    last = _evaluate(workflow_events_sensor, flow, cursor="3")
    assert last.cursor == "4" and len(last.run_requests) == 2
    assert _instances_per_event(flow) == {event: both for event in (first, second, third, fourth)}


def test_sensors_and_job_are_described() -> None:
    config = load_settings().workflows
    for sensor in (workflow_events_sensor, workflow_due_sensor):
        assert sensor.description and sensor.metadata
        assert sensor.minimum_interval_seconds == config.workflow_sensor_interval_seconds
    assert workflow_instance_job.description and workflow_instance_job.metadata
