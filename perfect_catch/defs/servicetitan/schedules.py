"""When ServiceTitan syncs run: incremental every few minutes, a full refresh every night.

Both request one run per tenant. A tenant whose previous sync is still queued or running is
skipped, so there is one run per (tenant, entity) at a time; the sync engine's advisory lock
guards the same thing against runs started by hand.
"""

import dagster as dg

from perfect_catch.defs.servicetitan.assets import GROUP, servicetitan_assets
from perfect_catch.settings import get_settings

_settings = get_settings()
_status = (
    dg.DefaultScheduleStatus.RUNNING
    if _settings.schedules_default_on
    else dg.DefaultScheduleStatus.STOPPED
)
_partitions = servicetitan_assets[0].partitions_def

servicetitan_sync_job = dg.define_asset_job(
    name="servicetitan_sync",
    selection=dg.AssetSelection.groups(GROUP),
    partitions_def=_partitions,
    description="Sync every ServiceTitan entity of one tenant (incremental unless configured full).",
    tags={"source": "servicetitan"},
)

_ACTIVE = [
    dg.DagsterRunStatus.QUEUED,
    dg.DagsterRunStatus.NOT_STARTED,
    dg.DagsterRunStatus.STARTING,
    dg.DagsterRunStatus.STARTED,
]


def _full_config() -> dict:
    ops = {
        asset.key.to_python_identifier(): {"config": {"full": True}}
        for asset in servicetitan_assets
    }
    return {"ops": ops}


def _requests(context: dg.ScheduleEvaluationContext, kind: str, run_config: dict):
    tenants = _partitions.get_partition_keys() if _partitions else []
    if not tenants:
        return dg.SkipReason("ST_TENANT_IDS is empty: no tenant to sync")
    requests = []
    for tenant in tenants:
        busy = context.instance.get_run_records(
            dg.RunsFilter(
                job_name=servicetitan_sync_job.name,
                statuses=_ACTIVE,
                tags={"dagster/partition": tenant},
            ),
            limit=1,
        )
        if busy:
            context.log.info("tenant %s: a sync is still running, skipping", tenant)
            continue
        requests.append(
            dg.RunRequest(
                run_key=f"{kind}:{tenant}:{context.scheduled_execution_time.isoformat()}",
                partition_key=tenant,
                run_config=run_config,
                tags={"sync_kind": kind},
            )
        )
    return requests or dg.SkipReason("every tenant's previous sync is still running")


@dg.schedule(
    job=servicetitan_sync_job,
    cron_schedule=_settings.st_incremental_cron,
    execution_timezone=_settings.st_timezone,
    default_status=_status,
    description="Incremental ServiceTitan sync of every tenant from the stored continuation "
    "tokens (ST_INCREMENTAL_CRON, default every 5 minutes).",
    metadata={"cadence": _settings.st_incremental_cron},
)
def servicetitan_incremental_schedule(context: dg.ScheduleEvaluationContext):
    return _requests(context, "incremental", {})


@dg.schedule(
    job=servicetitan_sync_job,
    cron_schedule=_settings.st_full_refresh_cron,
    execution_timezone=_settings.st_timezone,
    default_status=_status,
    description="Nightly full ServiceTitan refresh (02:00 in ST_TIMEZONE): rereads every feed "
    "and soft-deletes rows the source no longer returns.",
    metadata={"cadence": _settings.st_full_refresh_cron, "timezone": _settings.st_timezone},
)
def servicetitan_full_refresh_schedule(context: dg.ScheduleEvaluationContext):
    return _requests(context, "full", _full_config())
