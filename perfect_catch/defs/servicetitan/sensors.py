"""A fast lane for the ServiceTitan entities that raise business events.

The incremental schedule runs on a cron, a minute at the finest. When
`ST_EVENT_SYNC_INTERVAL_SECONDS` is set (e.g. 30), this sensor syncs the entities the event
models read at that interval and, in the same run, builds the dbt event models after them, so a
change in ServiceTitan is an event in `events.workflow_events` one run later — without waiting
for the automation sensor's next tick and a second run's start — and reaches the workflows
within about a minute. The event models' dbt tests are left to the regular builds. It skips a
tenant whose previous fast sync is still running.
"""

import dagster as dg

from perfect_catch.defs.dbt.translator import EVENTS_GROUP
from perfect_catch.defs.runs import has_active_run
from perfect_catch.defs.servicetitan.assets import servicetitan_assets
from perfect_catch.settings import Settings, get_settings

EVENT_ENTITIES = (
    "customers",
    "customer_contacts",
    "locations",
    "jobs",
    "appointments",
    "appointment_assignments",
    "estimates",
    "invoices",
    "payments",
)


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
        selection=dg.AssetSelection.assets(*selected)
        | dg.AssetSelection.groups(EVENTS_GROUP).without_checks(),
        description="Incremental sync of the ServiceTitan entities that raise business events, "
        "then the dbt event models built on them.",
        tags={"source": "servicetitan"},
    )
    partitions = selected[0].partitions_def
    tenants = list(partitions.get_partition_keys()) if partitions else []

    @dg.sensor(
        name="servicetitan_event_sync",
        job=job,
        minimum_interval_seconds=interval,
        default_status=(
            dg.DefaultSensorStatus.RUNNING
            if settings.schedules_default_on
            else dg.DefaultSensorStatus.STOPPED
        ),
        description=f"Every {interval} s, an incremental sync of the entities that raise events "
        "(ST_EVENT_SYNC_INTERVAL_SECONDS), one run per idle tenant.",
        metadata={"interval_seconds": interval, "entities": ", ".join(EVENT_ENTITIES)},
    )
    def event_sync(context: dg.SensorEvaluationContext):
        requests = []
        for tenant in tenants:
            if not has_active_run(context.instance, job.name, {"dagster/partition": tenant}):
                requests.append(dg.RunRequest(partition_key=tenant, tags={"sync_kind": "events"}))
        if not requests:
            return dg.SkipReason("no tenant, or every tenant's fast sync is still running")
        return requests

    return event_sync


@dg.definitions
def sensors() -> dg.Definitions:
    sensor = build_event_sync_sensor(servicetitan_assets, get_settings())
    return dg.Definitions(sensors=[sensor] if sensor else [])
