"""The warehouse schema as an asset: materializing it applies pending migrations."""

import dagster as dg

from perfect_catch.defs.warehouse.resources import WarehouseResource


@dg.asset(
    key=["warehouse", "schema"],
    group_name="warehouse",
    kinds={"postgres"},
    description="The warehouse's tables at the newest migration. Materializing it runs "
    "`perfect-catch db upgrade`; it is a no-op when the schema is current.",
)
def warehouse_schema(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource
) -> dg.MaterializeResult:
    from perfect_catch.warehouse import migrate  # alembic: imported by this asset's runs only

    engine = warehouse.engine()
    before = migrate.current_revision(engine)
    migrate.upgrade(engine)
    after = migrate.current_revision(engine)
    context.log.info("warehouse schema: %s -> %s", before, after)
    return dg.MaterializeResult(
        metadata={
            "revision_before": before or "none",
            "revision": after or "none",
            "changed": before != after,
        }
    )
