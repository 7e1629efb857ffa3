"""When GoHighLevel runs: the pull every few minutes, the ST -> GHL reconciliation less often."""

import dagster as dg

from perfect_catch.defs.gohighlevel.assets import GROUP
from perfect_catch.integrations.config import get_integration_settings
from perfect_catch.settings import get_settings

_config = get_integration_settings()
_status = (
    dg.DefaultScheduleStatus.RUNNING
    if get_settings().schedules_default_on
    else dg.DefaultScheduleStatus.STOPPED
)

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
    description="GHL pull (GHL_SYNC_CRON, default every 5 minutes).",
    metadata={"cadence": _config.ghl_sync_cron},
)
def gohighlevel_sync_schedule(context: dg.ScheduleEvaluationContext):
    return dg.RunRequest(run_key=f"ghl:{context.scheduled_execution_time.isoformat()}")


@dg.schedule(
    job=ghl_push_job,
    cron_schedule=_config.ghl_reconcile_cron,
    default_status=_status,
    description="ST -> GHL reconciliation (GHL_RECONCILE_CRON, default every 30 minutes).",
    metadata={"cadence": _config.ghl_reconcile_cron},
)
def gohighlevel_push_schedule(context: dg.ScheduleEvaluationContext):
    return dg.RunRequest(run_key=f"ghl-push:{context.scheduled_execution_time.isoformat()}")
