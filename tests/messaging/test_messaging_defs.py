"""Dagster wiring: the sensor asks for a dispatch run only when rows are due; the job sends."""

from __future__ import annotations

import dagster as dg
from messaging_world import Messaging

from perfect_catch.defs.messaging.jobs import dispatch_outbox_job
from perfect_catch.defs.messaging.sensors import outbox_dispatch_sensor
from perfect_catch.defs.warehouse.resources import WarehouseResource
from perfect_catch.settings import load_settings


def test_sensor_and_job_drain_the_outbox(world: Messaging, database_url: str) -> None:
    settings = load_settings(
        database_url=database_url,
        messaging_quiet_hours_start="00:00",
        messaging_quiet_hours_end="00:00",
    )
    resources = {"warehouse": WarehouseResource(database_url=database_url), "settings": settings}
    empty = outbox_dispatch_sensor(dg.build_sensor_context(resources=resources))
    assert not empty.run_requests and "no outbox message" in str(empty.skip_reason)

    world.enqueue("d1")
    world.enqueue("d2", channel="email", to="ana@example.com", subject="Hello")
    tick = outbox_dispatch_sensor(dg.build_sensor_context(resources=resources))
    (request,) = tick.run_requests
    assert request.run_key.startswith("outbox:")
    assert request.tags["messaging/due"] == "email=1,sms=1"

    run = dispatch_outbox_job.execute_in_process(resources=resources)
    assert run.success
    assert world.row("d1")["status"] == "sent" and world.row("d2")["status"] == "sent"
    assert len(world.sms_to()) == 1 and len(world.sendgrid.mails) == 1
