"""The tenants sensor: keeps the dynamic tenant partitions equal to the configured tenants.

It reads the configuration on every tick (the tenants file afresh), adds a partition for a new
tenant, whose syncs the schedules and the event lane then request, and removes the partition of
a tenant no longer configured (its rows and run history stay).
"""

import dagster as dg

from perfect_catch.settings import Settings, SettingsError
from perfect_catch.tenants import TENANT_PARTITIONS, configured_tenant_ids

POLL_SECONDS = 60


def tenant_changes(configured: list[int], known: list[str]) -> tuple[list[str], list[str]]:
    """(partitions to add, partitions to remove) to make `known` equal `configured`."""
    wanted = [str(tenant) for tenant in configured]
    return [t for t in wanted if t not in known], [t for t in known if t not in wanted]


def build_tenants_sensor(
    partitions: dg.PartitionsDefinition | None, settings: Settings
) -> dg.SensorDefinition | None:
    """The sensor over dynamic `partitions` (None for static ones: nothing to keep up)."""
    if not isinstance(partitions, dg.DynamicPartitionsDefinition):
        return None
    name = partitions.name or TENANT_PARTITIONS

    @dg.sensor(
        name="servicetitan_tenants",
        minimum_interval_seconds=POLL_SECONDS,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description="Adds a tenant partition for every ServiceTitan tenant the configuration "
        "names (ST_TENANT_IDS, ST_TENANTS, ST_TENANTS_FILE, re-read each tick) and removes the "
        "partitions of tenants no longer named, so adding a shop needs no redeploy.",
        metadata={
            "partitions": name,
            "sources": "ST_TENANT_IDS, ST_TENANTS, ST_TENANTS_FILE",
            "poll_seconds": POLL_SECONDS,
        },
    )
    def servicetitan_tenants(context: dg.SensorEvaluationContext) -> dg.SensorResult:
        try:
            configured = configured_tenant_ids(settings)
        except SettingsError as error:  # a broken file must not drop every tenant
            return dg.SensorResult(skip_reason=f"tenants left as they are: {error}")
        if not configured:  # unset configuration is not "every shop left": keep them
            return dg.SensorResult(skip_reason="no tenant configured; partitions left as they are")
        add, remove = tenant_changes(
            configured, list(context.instance.get_dynamic_partitions(name))
        )
        requests: list = []
        if add:
            requests.append(partitions.build_add_request(add))
        if remove:
            requests.append(partitions.build_delete_request(remove))
        skip = None if requests else f"{len(configured)} tenant(s), none added or removed"
        return dg.SensorResult(dynamic_partitions_requests=requests, skip_reason=skip)

    return servicetitan_tenants
