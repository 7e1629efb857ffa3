"""Supplier assets: one per supplier (its prices into the price history), then the material map.

Each supplier asset fetches politely and stores its offers in one transaction; layout drift,
a refused login or a bot check fail that supplier's run (with the typed error, e.g. a
`SchemaDriftError` naming the page kind and field) and store nothing. The map asset matches
ServiceTitan materials to the stored offers; the dbt sources over the supplier tables are keyed
to it, so the staging views and `marts.material_cost_drift` sit downstream in lineage.
"""

from datetime import timedelta

import dagster as dg

from perfect_catch.defs.settings import SettingsResource
from perfect_catch.defs.warehouse.resources import WarehouseResource
from perfect_catch.integrations.supplier_mapping import rebuild_map
from perfect_catch.integrations.supplier_refresh import refresh_supplier, session_store

GROUP = "suppliers"
#: Asset name of each supplier.
SUPPLIER_ASSETS: dict[str, str] = {"Pool360": "pool360", "CED": "ced", "Home Depot": "homedepot"}
MAP_KEY = dg.AssetKey([GROUP, "material_vendor_map"])
SOURCE_PAGES = {
    "Pool360": "search listing pages and product pages of mapped parts (HTML, signed in)",
    "CED": "the account price file (CSV, EDI 832 fields, signed in)",
    "Home Depot": "product search API by model numbers (batched) and keywords (JSON, API key)",
}


def supplier_asset(supplier: str, name: str) -> dg.AssetsDefinition:
    @dg.asset(
        key=dg.AssetKey([GROUP, name]),
        group_name=GROUP,
        pool=f"{name}_site",
        kinds={"python", "postgres"},
        description=f"{supplier} prices of the shop's account: {SOURCE_PAGES[supplier]}, "
        "fetched politely (SUPPLIER_REQUESTS_PER_SECOND, robots.txt, one login per session), "
        "into pricebook.vendor_products and pricebook.vendor_prices (a row only on change).",
        metadata={
            "supplier": supplier,
            "tables": "pricebook.vendor_products, pricebook.vendor_prices",
            "dagster/table_name": "pricebook.vendor_prices",
        },
        deps=[dg.AssetKey(["servicetitan", "pricebook_materials"])],
        freshness_policy=dg.FreshnessPolicy.time_window(
            fail_window=timedelta(days=3), warn_window=timedelta(hours=30)
        ),
        tags={"source": "suppliers"},
    )
    def _asset(
        context: dg.AssetExecutionContext,
        warehouse: WarehouseResource,
        settings: SettingsResource,
    ) -> dg.MaterializeResult:
        run = refresh_supplier(warehouse.engine(), settings, supplier, session_store(settings))
        metadata = {"requests": run.requests, "logins": run.logins, "offers": run.records}
        if run.error is not None:
            context.log.error(str(run.error))
            context.add_output_metadata(metadata)
            raise run.error
        return dg.MaterializeResult(
            metadata={
                **metadata,
                "price_changes": run.history_rows,
                "dagster/row_count": run.records,
            }
        )

    return _asset


supplier_assets = [supplier_asset(s, n) for s, n in SUPPLIER_ASSETS.items()]


@dg.asset(
    key=MAP_KEY,
    group_name=GROUP,
    kinds={"python", "postgres"},
    deps=[a.key for a in supplier_assets] + [dg.AssetKey(["servicetitan", "pricebook_materials"])],
    description="ServiceTitan materials matched to supplier parts in "
    "pricebook.material_vendor_map: the override file (SUPPLIER_MAPPING_OVERRIDES) first, then "
    "the material's vendor part, a manufacturer part number, and for a material no part number "
    "matched a fuzzy description match (rapidfuzz, SUPPLIER_FUZZY_MIN_SCORE) with its score.",
    metadata={
        "table": "pricebook.material_vendor_map",
        "dagster/table_name": "pricebook.material_vendor_map",
    },
    automation_condition=dg.AutomationCondition.eager(),
    tags={"source": "suppliers"},
)
def material_vendor_map(
    warehouse: WarehouseResource, settings: SettingsResource
) -> dg.MaterializeResult:
    s = settings.suppliers
    result = rebuild_map(
        warehouse.engine(),
        min_score=s.supplier_fuzzy_min_score,
        overrides_path=s.supplier_mapping_overrides,
    )
    return dg.MaterializeResult(
        metadata={
            "materials": result.materials,
            "mapped": result.materials - len(result.unmapped),
            "by_method": dg.MetadataValue.json(result.by_method()),
            "unmapped_material_ids": dg.MetadataValue.json(
                [u["material_id"] for u in result.unmapped]
            ),
            "dagster/row_count": len(result.matches),
        }
    )
