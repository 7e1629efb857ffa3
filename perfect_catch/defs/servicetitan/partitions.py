"""ServiceTitan assets are partitioned by tenant: one partition per id in `ST_TENANT_IDS`."""

import dagster as dg

from perfect_catch.settings import get_settings


def tenant_partitions(tenant_ids: list[int] | None = None) -> dg.StaticPartitionsDefinition:
    ids = get_settings().st_tenant_ids if tenant_ids is None else tenant_ids
    return dg.StaticPartitionsDefinition([str(tenant) for tenant in ids])
