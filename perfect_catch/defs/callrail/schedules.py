"""When CallRail syncs: every few minutes (CALLRAIL_SYNC_CRON)."""

import dagster as dg

from perfect_catch.defs.callrail.assets import GROUP
from perfect_catch.defs.gohighlevel.schedules import request_unless_running
from perfect_catch.settings import get_settings

_cron = get_settings().integrations.callrail_sync_cron

callrail_sync_job = dg.define_asset_job(
    name="callrail_sync",
    selection=dg.AssetSelection.groups(GROUP),
    description="Sync CallRail calls and link them to ST customers.",
    tags={"source": "callrail"},
)


@dg.schedule(
    job=callrail_sync_job,
    cron_schedule=_cron,
    default_status=dg.DefaultScheduleStatus.RUNNING
    if get_settings().schedules_default_on
    else dg.DefaultScheduleStatus.STOPPED,
    description="CallRail sync (CALLRAIL_SYNC_CRON, default every 5 minutes, two minutes "
    "after ServiceTitan's).",
    metadata={"cadence": _cron},
)
def callrail_sync_schedule(context: dg.ScheduleEvaluationContext):
    return request_unless_running(context, callrail_sync_job.name, "callrail")
