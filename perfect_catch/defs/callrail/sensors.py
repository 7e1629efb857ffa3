"""A fast lane for CallRail, so a missed call is texted back within a minute.

The CallRail schedule runs on a cron, every few minutes. When
`CALLRAIL_EVENT_SYNC_INTERVAL_SECONDS` is set (e.g. 20), this sensor syncs the calls at that
interval and, in the same run, builds the dbt event models (`call_missed` among them) and starts
the workflows the new events call for (`workflows/started`, which also sends what they queued):
a missed call becomes a text in one run. A run is requested only when the previous one has
finished, so slow runs are followed at once instead of piling up.
"""

import json
import time

import dagster as dg

from perfect_catch.defs.callrail.assets import callrail_calls
from perfect_catch.defs.dbt.translator import EVENTS_GROUP
from perfect_catch.defs.runs import has_active_run
from perfect_catch.defs.workflows.assets import WORKFLOWS_STARTED
from perfect_catch.settings import Settings, get_settings

#: How often the sensor looks; the interval itself is CALLRAIL_EVENT_SYNC_INTERVAL_SECONDS.
POLL_SECONDS = 5
JOB_NAME = "callrail_event_sync"


def build_callrail_lane_sensor(settings: Settings) -> dg.SensorDefinition | None:
    """The CallRail fast-lane sensor, or None when its interval is 0 (switched off)."""
    interval = settings.integrations.callrail_event_sync_interval_seconds
    if interval <= 0:
        return None
    job = dg.define_asset_job(
        name=JOB_NAME,
        selection=dg.AssetSelection.assets(callrail_calls, WORKFLOWS_STARTED)
        | dg.AssetSelection.groups(EVENTS_GROUP).without_checks(),
        description="CallRail calls, then the dbt event models built on them (call_missed), "
        "then the workflows those events start and the messages they send.",
        tags={"source": "callrail"},
    )

    @dg.sensor(
        name=JOB_NAME,
        job=job,
        minimum_interval_seconds=min(interval, POLL_SECONDS),
        default_status=(
            dg.DefaultSensorStatus.RUNNING
            if settings.schedules_default_on
            else dg.DefaultSensorStatus.STOPPED
        ),
        description=f"Every {interval} s (CALLRAIL_EVENT_SYNC_INTERVAL_SECONDS), or as soon as "
        "the previous run ends when it took longer, a CallRail sync followed by the event "
        "models and the workflows they start. Cursor: when the last run was requested.",
        metadata={"interval_seconds": interval, "poll_seconds": min(interval, POLL_SECONDS)},
    )
    def callrail_event_sync(context: dg.SensorEvaluationContext) -> dg.SensorResult:
        started = float(json.loads(context.cursor or "0"))
        now = time.time()
        if now - started < interval or has_active_run(context.instance, job.name):
            return dg.SensorResult(
                skip_reason="not due yet, or the previous CallRail lane run is still running"
            )
        return dg.SensorResult(
            run_requests=[dg.RunRequest(tags={"sync_kind": "events"})],
            cursor=json.dumps(now),
        )

    return callrail_event_sync


@dg.definitions
def sensors() -> dg.Definitions:
    sensor = build_callrail_lane_sensor(get_settings())
    return dg.Definitions(sensors=[sensor] if sensor else [])
