"""When GoHighLevel runs: the pull every few minutes, the ST -> GHL reconciliation less often.

A schedule skips its tick while the previous run of its job is still queued or running, so one
pull (or one reconciliation) touches the location at a time and the rate limits are shared by
as few runs as possible.
"""

import dagster as dg

from perfect_catch.defs.gohighlevel.assets import GROUP
from perfect_catch.defs.runs import has_active_run
from perfect_catch.settings import get_settings

_config = get_settings().integrations
_status = (
    dg.DefaultScheduleStatus.RUNNING
    if get_settings().schedules_default_on
    else dg.DefaultScheduleStatus.STOPPED
)


def request_unless_running(
    context: dg.ScheduleEvaluationContext, job_name: str, prefix: str
) -> dg.RunRequest | dg.SkipReason:
    """A run request for this tick, or a skip while the job's previous run is active."""
    if has_active_run(context.instance, job_name):
        return dg.SkipReason(f"{job_name}: the previous run is still active")
    return dg.RunRequest(run_key=f"{prefix}:{context.scheduled_execution_time.isoformat()}")


ghl_sync_job = dg.define_asset_job(
    name="gohighlevel_sync",
    selection=dg.AssetSelection.assets(
        dg.AssetKey([GROUP, "pipelines"]),
        dg.AssetKey([GROUP, "contacts"]),
        dg.AssetKey([GROUP, "opportunities"]),
    ),
    description="Pull GHL pipelines, contacts (incremental on dateUpdated) and opportunities.",
    tags={"source": "gohighlevel"},
)
ghl_push_job = dg.define_asset_job(
    name="gohighlevel_st_push",
    selection=dg.AssetSelection.assets(dg.AssetKey([GROUP, "st_push"])),
    description="Reconcile ST -> GHL: contacts, opportunity stages, drift repair.",
    tags={"source": "gohighlevel"},
)


@dg.schedule(
    job=ghl_sync_job,
    cron_schedule=_config.ghl_sync_cron,
    default_status=_status,
    description="GHL pull (GHL_SYNC_CRON, default every 5 minutes, a minute after ServiceTitan's).",
    metadata={"cadence": _config.ghl_sync_cron},
)
def gohighlevel_sync_schedule(context: dg.ScheduleEvaluationContext):
    return request_unless_running(context, ghl_sync_job.name, "ghl")


@dg.schedule(
    job=ghl_push_job,
    cron_schedule=_config.ghl_reconcile_cron,
    default_status=_status,
    description="ST -> GHL reconciliation (GHL_RECONCILE_CRON, default every 30 minutes, at 3 "
    "and 33).",
    metadata={"cadence": _config.ghl_reconcile_cron},
)
def gohighlevel_push_schedule(context: dg.ScheduleEvaluationContext):
    return request_unless_running(context, ghl_push_job.name, "ghl-push")
