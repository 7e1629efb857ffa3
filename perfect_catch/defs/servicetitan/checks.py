"""Checks on the ServiceTitan raw tables: records rejected by the loader in the last day."""

import dagster as dg
import sqlalchemy as sa

from perfect_catch.defs.servicetitan.assets import asset_key
from perfect_catch.defs.warehouse.resources import WarehouseResource
from perfect_catch.warehouse.catalog import ENTITIES, EntitySpec

_REJECTS = sa.text(
    """
    select count(*) as rejected, min(reason) as sample_reason
    from public.sync_rejects
    where source = :source and entity = :entity and rejected_at > now() - interval '1 day'
    """
)


def build_rejects_check(spec: EntitySpec) -> dg.AssetChecksDefinition:
    @dg.asset_check(
        asset=asset_key(spec),
        name="no_recent_rejects",
        description=f"Warns when {spec.name} records were rejected by the loader in the last "
        "24 hours (see public.sync_rejects for each record and its reason).",
        blocking=False,
    )
    def _check(warehouse: WarehouseResource) -> dg.AssetCheckResult:
        with warehouse.engine().connect() as conn:
            row = conn.execute(_REJECTS, {"source": spec.source, "entity": spec.name}).one()
        return dg.AssetCheckResult(
            passed=row.rejected == 0,
            severity=dg.AssetCheckSeverity.WARN,
            metadata={
                "rejected_last_24h": int(row.rejected),
                "sample_reason": row.sample_reason or "",
            },
        )

    return _check


servicetitan_reject_checks = [build_rejects_check(spec) for spec in ENTITIES]
