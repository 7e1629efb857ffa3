"""Checks of the supplier data: mapping coverage, and each supplier's offers being current."""

import dagster as dg
import sqlalchemy as sa

from perfect_catch.defs.suppliers.assets import MAP_KEY, supplier_assets
from perfect_catch.defs.warehouse.resources import WarehouseResource

#: Least share of active materials mapped to at least one supplier part.
MIN_COVERAGE = 0.5


@dg.asset_check(
    asset=MAP_KEY,
    description="Mapping coverage: the share of active pricebook materials matched to at least "
    f"one supplier part is at least {MIN_COVERAGE:.0%}; the unmapped ones are listed (a "
    "material no supplier carries is reported, never dropped).",
    metadata={"table": "pricebook.material_vendor_map", "min_coverage": MIN_COVERAGE},
    blocking=False,
)
def mapping_coverage(warehouse: WarehouseResource) -> dg.AssetCheckResult:
    with warehouse.engine().connect() as conn:
        rows = conn.execute(
            sa.text(
                "select m.id, exists (select 1 from pricebook.material_vendor_map v "
                "where v.tenant_id = m.tenant_id and v.material_id = m.id) as mapped "
                "from pricebook.materials m where m.deleted_at is null and coalesce(m.active, true)"
            )
        ).all()
    mapped = sum(1 for r in rows if r.mapped)
    coverage = mapped / len(rows) if rows else 0.0
    return dg.AssetCheckResult(
        passed=bool(rows) and coverage >= MIN_COVERAGE,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={
            "materials": len(rows),
            "mapped": mapped,
            "coverage": round(coverage, 4),
            "unmapped_material_ids": dg.MetadataValue.json([r.id for r in rows if not r.mapped]),
        },
    )


def _offers_check(asset: dg.AssetsDefinition) -> dg.AssetChecksDefinition:
    supplier = asset.metadata_by_key[asset.key]["supplier"]

    @dg.asset_check(
        asset=asset.key,
        name="offers_stored",
        description=f"The last {supplier} refresh stored offers (pricebook.vendor_products), "
        "so an empty run is not mistaken for a success.",
        metadata={"table": "pricebook.vendor_products", "supplier": supplier},
        blocking=False,
    )
    def _check(warehouse: WarehouseResource) -> dg.AssetCheckResult:
        with warehouse.engine().connect() as conn:
            count, newest = conn.execute(
                sa.text(
                    "select count(*), max(fetched_at) from pricebook.vendor_products "
                    "where vendor = :v"
                ),
                {"v": supplier},
            ).one()
        return dg.AssetCheckResult(
            passed=count > 0,
            metadata={"offers": count, "last_fetched_at": str(newest) if newest else None},
        )

    return _check


offers_checks = [_offers_check(a) for a in supplier_assets]
