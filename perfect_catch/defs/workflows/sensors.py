"""Sensors of the workflow engine: new events start instances, due waits resume them.

`workflow_events` mirrors the YAML definitions, matches one batch of `events.workflow_events` after
the engine's stored cursor (`event_seq`, the one the event lane and run-once walk too), records
instances and requests one run per new instance (run_key = instance id). Its Dagster cursor only
shows where the stored one stands.
`workflow_due` requests a run for each instance whose next step has fallen due. Both honour a
definition's `enabled` switch.
"""

from datetime import UTC, datetime, timedelta

import dagster as dg

from perfect_catch.defs.settings import SettingsResource
from perfect_catch.defs.warehouse.resources import WarehouseResource
from perfect_catch.defs.workflows.jobs import run_config, warehouse_engine, workflow_instance_job
from perfect_catch.settings import get_settings
from perfect_catch.workflows.passes import sync_from_files
from perfect_catch.workflows.progress import match_new_events
from perfect_catch.workflows.running import due_instances

_config = get_settings().workflows
_status = (
    dg.DefaultSensorStatus.RUNNING
    if get_settings().schedules_default_on
    else dg.DefaultSensorStatus.STOPPED
)
#: A pending instance younger than this is left to the event sensor's own run request.
PENDING_GRACE = timedelta(minutes=5)


@dg.sensor(
    name="workflow_events",
    job=workflow_instance_job,
    minimum_interval_seconds=_config.workflow_sensor_interval_seconds,
    default_status=_status,
    description="Match new rows of events.workflow_events (after the engine's stored cursor, "
    "event_seq) against the enabled workflow definitions and start one run per new instance.",
    tags={"domain": "workflows"},
    metadata={
        "source": "events.workflow_events",
        "cursor": "event_seq",
        "batch": _config.workflow_event_batch,
    },
)
def workflow_events_sensor(
    context: dg.SensorEvaluationContext, warehouse: WarehouseResource, settings: SettingsResource
) -> dg.SensorResult:
    with warehouse_engine(warehouse) as engine:
        synced = sync_from_files(engine, settings)
        matched = match_new_events(engine, settings, batches=1)
    if any(synced[k] for k in ("inserted", "updated", "removed")):
        context.log.info(f"workflow definitions mirrored: {synced}")
    requests = [
        dg.RunRequest(
            run_key=str(instance_id),
            run_config=run_config(instance_id),
            tags={"workflow/instance_id": str(instance_id)},
        )
        for instance_id in matched.instances
    ]
    skip = None
    if not requests:
        skip = f"{matched.events} new event(s) since {matched.since}; no workflow started"
    return dg.SensorResult(run_requests=requests, cursor=str(matched.cursor), skip_reason=skip)


@dg.sensor(
    name="workflow_due",
    job=workflow_instance_job,
    minimum_interval_seconds=_config.workflow_sensor_interval_seconds,
    default_status=_status,
    description="Resume workflow instances whose wait has fallen due (or whose retry is due).",
    tags={"domain": "workflows"},
    metadata={"source": "automation.workflow_instances", "batch": _config.workflow_due_batch},
)
def workflow_due_sensor(
    context: dg.SensorEvaluationContext, warehouse: WarehouseResource, settings: SettingsResource
) -> dg.SensorResult:
    now = datetime.now(UTC)
    with warehouse_engine(warehouse) as engine:
        due = due_instances(engine, now, settings.workflows.workflow_due_batch)
    requests = [
        dg.RunRequest(
            run_key=f"{row['id']}:{row['next_step']}:{row['next_run_at'].isoformat()}",
            run_config=run_config(row["id"]),
            tags={"workflow/instance_id": str(row["id"])},
        )
        for row in due
        if row["status"] == "waiting" or row["next_run_at"] <= now - PENDING_GRACE
    ]
    return dg.SensorResult(
        run_requests=requests, skip_reason=None if requests else "no workflow step is due"
    )
