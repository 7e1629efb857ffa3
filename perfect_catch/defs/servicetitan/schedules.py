"""When ServiceTitan syncs run: incremental every few minutes, a full refresh every night.

With the event lane on (`ST_EVENT_SYNC_INTERVAL_SECONDS`), the incremental runs leave the
entities that raise events to it, so the two never sync the same feed twice over.

Both request one run per tenant. A tenant whose previous sync is still queued or running is
skipped, so there is one run per (tenant, entity) at a time; the sync engine's advisory lock
guards the same thing against runs started by hand.
"""

import dagster as dg

from perfect_catch.defs.runs import has_active_run
from perfect_catch.defs.servicetitan.assets import GROUP, servicetitan_assets
from perfect_catch.defs.servicetitan.partitions import tenant_keys, tenant_run_tags
from perfect_catch.settings import Settings, get_settings
from perfect_catch.warehouse.catalog import EVENT_ENTITIES


def build_sync_job(assets: list[dg.AssetsDefinition]):
    return dg.define_asset_job(
        name="servicetitan_sync",
        selection=dg.AssetSelection.assets(*assets),
        description="Sync every ServiceTitan entity of one tenant (incremental unless "
        "configured full).",
        tags={"source": GROUP},
    )


def _full_config(assets: list[dg.AssetsDefinition]) -> dict:
    return {"ops": {a.key.to_python_identifier(): {"config": {"full": True}} for a in assets}}


def _requests(
    context: dg.ScheduleEvaluationContext,
    job_name: str,
    partitions: dg.PartitionsDefinition | None,
    kind: str,
    run_config: dict,
    settings: Settings,
    asset_selection: list[dg.AssetKey] | None = None,
):
    tenants = tenant_keys(partitions, context.instance)
    if not tenants:
        return dg.SkipReason(
            "no tenant to sync: ST_TENANT_IDS, ST_TENANTS and ST_TENANTS_FILE name none yet"
        )
    requests = []
    for tenant in tenants:
        if has_active_run(context.instance, job_name, {"dagster/partition": tenant}):
            context.log.info("tenant %s: a sync is still running, skipping", tenant)
            continue
        requests.append(
            dg.RunRequest(
                run_key=f"{kind}:{tenant}:{context.scheduled_execution_time.isoformat()}",
                partition_key=tenant,
                run_config=run_config,
                tags={"sync_kind": kind, **tenant_run_tags(tenant, settings)},
                asset_selection=asset_selection,
            )
        )
    return requests or dg.SkipReason("every tenant's previous sync is still running")


def build_sync_schedules(
    assets: list[dg.AssetsDefinition], settings: Settings
) -> tuple[dg.ScheduleDefinition, dg.ScheduleDefinition]:
    """The incremental and the nightly full-refresh schedule of `assets`' sync job."""
    job = build_sync_job(assets)
    lane = settings.st_event_sync_interval_seconds > 0
    incremental_keys = [a.key for a in assets if not (lane and a.key.path[-1] in EVENT_ENTITIES)]
    partitions = assets[0].partitions_def
    tenants = (
        "one run per tenant of the dynamic partitions"
        if isinstance(partitions, dg.DynamicPartitionsDefinition)
        else ", ".join(partitions.get_partition_keys() if partitions else [])
    )
    status = (
        dg.DefaultScheduleStatus.RUNNING
        if settings.schedules_default_on
        else dg.DefaultScheduleStatus.STOPPED
    )

    @dg.schedule(
        name="servicetitan_incremental_schedule",
        job=job,
        cron_schedule=settings.st_incremental_cron,
        execution_timezone=settings.st_timezone,
        default_status=status,
        description="Incremental ServiceTitan sync of every tenant from the stored continuation "
        "tokens (ST_INCREMENTAL_CRON, default every 5 minutes); with the event lane on, of the "
        "entities it does not sync.",
        metadata={
            "cadence": settings.st_incremental_cron,
            "tenants": tenants,
            "entities": ", ".join(key.path[-1] for key in incremental_keys),
        },
    )
    def incremental(context: dg.ScheduleEvaluationContext):
        selection = incremental_keys if lane else None
        return _requests(context, job.name, partitions, "incremental", {}, settings, selection)

    @dg.schedule(
        name="servicetitan_full_refresh_schedule",
        job=job,
        cron_schedule=settings.st_full_refresh_cron,
        execution_timezone=settings.st_timezone,
        default_status=status,
        description="Nightly full ServiceTitan refresh (02:00 in ST_TIMEZONE): rereads every "
        "feed and soft-deletes rows the source no longer returns.",
        metadata={"cadence": settings.st_full_refresh_cron, "timezone": settings.st_timezone},
    )
    def full_refresh(context: dg.ScheduleEvaluationContext):
        return _requests(context, job.name, partitions, "full", _full_config(assets), settings)

    return incremental, full_refresh


servicetitan_incremental_schedule, servicetitan_full_refresh_schedule = build_sync_schedules(
    servicetitan_assets, get_settings()
)
