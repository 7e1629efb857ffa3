"""One asset per ServiceTitan entity of the catalogue, partitioned by tenant.

The asset is thin: it hands the tenant's client and the warehouse engine to
`warehouse.sync.sync_entity` and reports what it did as materialization metadata. Adding an
entity to `warehouse.catalog` adds its asset here.
"""

from datetime import timedelta

import dagster as dg

from perfect_catch.defs.servicetitan.partitions import tenant_partitions
from perfect_catch.defs.servicetitan.resources import ServiceTitanResource
from perfect_catch.defs.warehouse.resources import WarehouseResource
from perfect_catch.warehouse.catalog import ENTITIES, EntitySpec
from perfect_catch.warehouse.row_counts import table_rows
from perfect_catch.warehouse.sync import PageProgress, sync_entity

GROUP = "servicetitan"
POOL = "servicetitan_api"


class SyncConfig(dg.Config):
    """Run configuration of a ServiceTitan sync."""

    full: bool = False
    """Read the whole feed from the start and soft-delete rows the source no longer returns."""


def asset_key(spec: EntitySpec) -> dg.AssetKey:
    return dg.AssetKey([GROUP, spec.name])


def _tables(spec: EntitySpec) -> str:
    return ", ".join(
        [f"{spec.schema}.{spec.table}"] + [f"{c.schema}.{c.table}" for c in spec.children]
    )


def build_entity_asset(
    spec: EntitySpec, partitions: dg.PartitionsDefinition
) -> dg.AssetsDefinition:
    """The asset that syncs `spec` for one tenant partition."""

    @dg.asset(
        key=asset_key(spec),
        group_name=GROUP,
        partitions_def=partitions,
        pool=POOL,
        kinds={"servicetitan", "postgres"},
        description=(
            f"{spec.description or spec.name} — ServiceTitan `{spec.module}` "
            f"{'export' if spec.kind == 'export' else 'list'} `{spec.resource}` "
            f"synced into {_tables(spec)}."
        ),
        metadata={
            "table": _tables(spec),
            "source_endpoint": f"{spec.module}/v2/tenant/{{tenant}}/"
            + (f"export/{spec.resource}" if spec.kind == "export" else spec.resource),
            "dagster/table_name": f"{spec.schema}.{spec.table}",
        },
        freshness_policy=dg.FreshnessPolicy.time_window(
            fail_window=timedelta(hours=1), warn_window=timedelta(minutes=20)
        ),
        tags={"source": "servicetitan"},
    )
    def _sync(
        context: dg.AssetExecutionContext,
        config: SyncConfig,
        servicetitan: ServiceTitanResource,
        warehouse: WarehouseResource,
    ) -> dg.MaterializeResult:
        tenant_id = int(context.partition_key)

        def on_page(progress: PageProgress) -> None:
            context.log.info(
                "%s tenant %s page %d: %d records (+%d new, %d updated, %d rejected)",
                spec.name,
                tenant_id,
                progress.page,
                progress.records,
                progress.inserted,
                progress.updated,
                progress.rejected,
            )

        with servicetitan.client(tenant_id) as client:
            result = sync_entity(
                warehouse.engine(),
                client,
                spec,
                tenant_id,
                full=config.full,
                on_page=on_page,
                run_id=context.run.run_id,
            )
        metadata = {key: value for key, value in result.metadata().items() if value is not None}
        metadata["records_synced_this_run"] = result.inserted + result.updated
        # "Row count" in the UI: this tenant's rows in the table now, soft-deleted ones aside.
        metadata["dagster/row_count"] = table_rows(
            warehouse.engine(), f"{spec.schema}.{spec.table}", tenant_id=tenant_id, live_only=True
        )
        return dg.MaterializeResult(metadata=metadata)

    return _sync


def build_servicetitan_assets(tenant_ids: list[int] | None = None) -> list[dg.AssetsDefinition]:
    partitions = tenant_partitions(tenant_ids)
    return [build_entity_asset(spec, partitions) for spec in ENTITIES]


servicetitan_assets = build_servicetitan_assets()
