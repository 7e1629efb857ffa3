"""The sensor that starts `dispatch_outbox` whenever outbox rows are due (every 30 s).

The run key is the 30-second slot, so one tick never starts two runs and a busy outbox is
drained at most every slot; a pass left unfinished simply leaves rows for the next one.
"""

from datetime import UTC, datetime

import dagster as dg

from perfect_catch.defs.messaging.jobs import dispatch_outbox_job
from perfect_catch.defs.settings import SettingsResource
from perfect_catch.defs.warehouse.resources import WarehouseResource
from perfect_catch.defs.workflows.jobs import warehouse_engine
from perfect_catch.messaging.dispatcher import backlog
from perfect_catch.settings import get_settings

INTERVAL_SECONDS = 30


@dg.sensor(
    name="outbox_dispatch",
    job=dispatch_outbox_job,
    minimum_interval_seconds=INTERVAL_SECONDS,
    default_status=(
        dg.DefaultSensorStatus.RUNNING
        if get_settings().schedules_default_on
        else dg.DefaultSensorStatus.STOPPED
    ),
    description="Start the outbox dispatch when messages are due or a claim went stale.",
    tags={"domain": "messaging"},
    metadata={"source": "automation.outbox", "interval_seconds": INTERVAL_SECONDS},
)
def outbox_dispatch_sensor(
    context: dg.SensorEvaluationContext, warehouse: WarehouseResource, settings: SettingsResource
) -> dg.SensorResult:
    now = datetime.now(UTC)
    with warehouse_engine(warehouse) as engine:
        due = backlog(engine, now, settings.messaging)
    if not due:
        return dg.SensorResult(skip_reason="no outbox message is due")
    slot = int(now.timestamp()) // INTERVAL_SECONDS
    return dg.SensorResult(
        run_requests=[
            dg.RunRequest(
                run_key=f"outbox:{slot}",
                tags={"messaging/due": ",".join(f"{k}={v}" for k, v in sorted(due.items()))},
            )
        ]
    )
