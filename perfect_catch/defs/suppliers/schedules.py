"""When supplier prices refresh: daily (SUPPLIER_REFRESH_CRON), off unless schedules default on
(the demo), since a production install should choose its hour with its suppliers in mind."""

import dagster as dg

from perfect_catch.defs.suppliers.assets import GROUP
from perfect_catch.settings import get_settings

_cron = get_settings().suppliers.supplier_refresh_cron

supplier_refresh_job = dg.define_asset_job(
    name="supplier_refresh",
    selection=dg.AssetSelection.groups(GROUP),
    description="Refresh every supplier's prices, then rebuild the material map.",
    tags={"source": "suppliers"},
)


@dg.schedule(
    job=supplier_refresh_job,
    cron_schedule=_cron,
    default_status=dg.DefaultScheduleStatus.RUNNING
    if get_settings().schedules_default_on
    else dg.DefaultScheduleStatus.STOPPED,
    description="Daily supplier price refresh (SUPPLIER_REFRESH_CRON); off by default in "
    "production, on in the demo.",
    metadata={"cadence": _cron},
)
def supplier_refresh_schedule(context: dg.ScheduleEvaluationContext):
    return dg.RunRequest(run_key=f"suppliers-{context.scheduled_execution_time:%Y%m%d%H%M}")
