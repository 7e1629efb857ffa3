"""Workflows started straight from the event lane (all logic in `workflows.passes`).

The `servicetitan_event_sync` job ends with this asset: after the sync and the event models, it
matches the new events against the enabled definitions, runs the instances they start and sends
what those queued, in the same run. The `workflow_events` sensor walks the same stored cursor
(`workflows.progress`), so it does not match these events again; it remains the path for events
built by any other run.
"""

import dagster as dg

from perfect_catch.defs.settings import SettingsResource
from perfect_catch.defs.warehouse.resources import WarehouseResource
from perfect_catch.defs.workflows.jobs import warehouse_engine
from perfect_catch.messaging.dispatcher import dispatch_instance
from perfect_catch.workflows.passes import start_new_instances

WORKFLOWS_STARTED = dg.AssetKey(["workflows", "started"])
WORKFLOW_EVENTS = dg.AssetKey(["events", "workflow_events"])


@dg.asset(
    key=WORKFLOWS_STARTED,
    deps=[WORKFLOW_EVENTS],
    group_name="workflows",
    kinds={"python", "postgres"},
    description="Workflow instances started from the newest rows of events.workflow_events: "
    "materializing it matches them against the enabled definitions, runs each new instance's "
    "due steps and sends the messages they queued.",
    metadata={"engine": "perfect_catch.workflows.passes.start_new_instances"},
)
def workflows_started(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource, settings: SettingsResource
) -> dg.MaterializeResult:
    with warehouse_engine(warehouse) as engine:
        summary, instances = start_new_instances(engine, settings)
        sent = deferred = 0
        for instance_id in instances:
            result = dispatch_instance(engine, instance_id, settings)
            sent, deferred = sent + result.sent, deferred + result.deferred
    context.log.info(f"workflows: {summary.line()}; {sent} message(s) sent now")
    return dg.MaterializeResult(
        metadata={
            "events": summary.events,
            "instances_created": summary.instances_created,
            "instances_run": summary.instances_run,
            "statuses": ", ".join(f"{k}={v}" for k, v in sorted(summary.statuses.items())),
            "messages_sent_now": sent,
            "messages_deferred": deferred,
            "cursor": summary.cursor,
        }
    )
