"""ServiceTitan assets are partitioned by tenant.

The partitions are dynamic (`servicetitan_tenant`): the tenants sensor adds a tenant as soon as
the configuration names it (`ST_TENANT_IDS`, `ST_TENANTS`, `ST_TENANTS_FILE`), so adding a shop
needs no redeploy. A fixed list (tests, one-off tools) gives static partitions instead.
"""

import json

import dagster as dg

from perfect_catch.settings import Settings
from perfect_catch.tenants import TENANT_PARTITIONS, TENANT_TAG, kubernetes_secret_name

#: The partitions of every ServiceTitan asset when no fixed list is given.
tenant_partitions_def = dg.DynamicPartitionsDefinition(name=TENANT_PARTITIONS)


def tenant_partitions(tenant_ids: list[int] | None = None) -> dg.PartitionsDefinition:
    """The dynamic tenant partitions, or static ones over `tenant_ids`."""
    if tenant_ids is None:
        return tenant_partitions_def
    return dg.StaticPartitionsDefinition([str(tenant) for tenant in tenant_ids])


def tenant_keys(partitions: dg.PartitionsDefinition | None, instance: dg.DagsterInstance) -> list:
    """The tenants (partition keys) as the instance knows them now."""
    if partitions is None:
        return []
    if isinstance(partitions, dg.DynamicPartitionsDefinition):
        return list(instance.get_dynamic_partitions(partitions.name or TENANT_PARTITIONS))
    return list(partitions.get_partition_keys())


def tenant_run_tags(tenant: str, settings: Settings) -> dict[str, str]:
    """Tags of a tenant's run: the tenant (the run queue limits runs per tenant on it) and, on
    Kubernetes (ST_TENANT_SECRET_PREFIX), the one Secret its pod loads: this tenant's alone."""
    tags = {TENANT_TAG: tenant}
    prefix = settings.st_tenant_secret_prefix
    if prefix:
        secret = kubernetes_secret_name(int(tenant), prefix)
        tags["dagster-k8s/config"] = json.dumps(
            {"container_config": {"env_from": [{"secret_ref": {"name": secret}}]}}
        )
    return tags
