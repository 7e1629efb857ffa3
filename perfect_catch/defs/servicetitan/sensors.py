"""A fast lane for the ServiceTitan entities that raise business events.

The incremental schedule runs on a cron, a minute at the finest. When
`ST_EVENT_SYNC_INTERVAL_SECONDS` is set (e.g. 30), this sensor syncs the entities the event
models read at that interval and, in the same run, builds the dbt event models after them and
starts the workflows the new events call for (`workflows/started`), so a change in ServiceTitan
becomes a sent message in one run — without waiting for the automation and event sensors' next
ticks and the start of further runs — well within a minute. The event models' dbt tests are
left to the regular builds. With the lane on, the event models are built only by it (their
automation condition is `translator.BUILT_BY_THE_EVENT_LANE`), so a scheduled sync of a settings
table never starts a second build that holds the `dbt_warehouse` pool while the lane waits.

The sensor looks every few seconds and starts a tenant's sync when the interval has passed since
its previous one started and that one has finished: a sync that takes longer than the interval
is followed at once by the next, instead of waiting for a whole further interval.
"""

import json
import time

import dagster as dg

from perfect_catch.defs.dbt.translator import EVENTS_GROUP
from perfect_catch.defs.runs import has_active_run
from perfect_catch.defs.servicetitan.assets import servicetitan_assets
from perfect_catch.defs.servicetitan.partitions import tenant_keys, tenant_run_tags
from perfect_catch.defs.servicetitan.tenants import build_tenants_sensor
from perfect_catch.defs.workflows.assets import WORKFLOWS_STARTED
from perfect_catch.settings import Settings, get_settings
from perfect_catch.warehouse.catalog import EVENT_ENTITIES

#: How often the sensor looks; the interval itself is `ST_EVENT_SYNC_INTERVAL_SECONDS`.
POLL_SECONDS = 5


def build_event_sync_sensor(
    assets: list[dg.AssetsDefinition], settings: Settings
) -> dg.SensorDefinition | None:
    """The fast-lane sensor over `assets`, or None when the interval is 0 (switched off)."""
    interval = settings.st_event_sync_interval_seconds
    if interval <= 0:
        return None
    selected = [a for a in assets if a.key.path[-1] in EVENT_ENTITIES]
    job = dg.define_asset_job(
        name="servicetitan_event_sync",
        selection=dg.AssetSelection.assets(*selected, WORKFLOWS_STARTED)
        | dg.AssetSelection.groups(EVENTS_GROUP).without_checks(),
        description="Incremental sync of the ServiceTitan entities that raise business events, "
        "then the dbt event models built on them, then the workflows those events start.",
        tags={"source": "servicetitan"},
    )
    partitions = selected[0].partitions_def

    @dg.sensor(
        name="servicetitan_event_sync",
        job=job,
        minimum_interval_seconds=min(interval, POLL_SECONDS),
        default_status=(
            dg.DefaultSensorStatus.RUNNING
            if settings.schedules_default_on
            else dg.DefaultSensorStatus.STOPPED
        ),
        description=f"Every {interval} s (ST_EVENT_SYNC_INTERVAL_SECONDS), or as soon as the "
        "previous one ends when it took longer, an incremental sync of the entities that raise "
        "events and a build of the event models, one run per tenant. Cursor: when each "
        "tenant's last run was requested.",
        metadata={
            "interval_seconds": interval,
            "poll_seconds": min(interval, POLL_SECONDS),
            "entities": ", ".join(EVENT_ENTITIES),
        },
    )
    def event_sync(context: dg.SensorEvaluationContext) -> dg.SensorResult:
        started: dict[str, float] = json.loads(context.cursor or "{}")
        now = time.time()
        requests = []
        for tenant in tenant_keys(partitions, context.instance):
            if now - started.get(tenant, 0.0) < interval:
                continue
            if has_active_run(context.instance, job.name, {"dagster/partition": tenant}):
                continue
            requests.append(
                dg.RunRequest(
                    partition_key=tenant,
                    tags={"sync_kind": "events", **tenant_run_tags(tenant, settings)},
                )
            )
            started[tenant] = now
        skip = None if requests else "no tenant is due, or its previous fast sync is still running"
        return dg.SensorResult(run_requests=requests, cursor=json.dumps(started), skip_reason=skip)

    return event_sync


@dg.definitions
def sensors() -> dg.Definitions:
    settings = get_settings()
    sensor = build_event_sync_sensor(servicetitan_assets, settings)
    tenants = build_tenants_sensor(servicetitan_assets[0].partitions_def, settings)
    return dg.Definitions(sensors=[s for s in (sensor, tenants) if s is not None])
