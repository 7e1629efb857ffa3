"""Checks of the ST -> GHL push: failed pushes show up in the UI, not only in a log table."""

import dagster as dg
import sqlalchemy as sa

from perfect_catch.defs.gohighlevel.assets import GROUP
from perfect_catch.defs.warehouse.resources import WarehouseResource


@dg.asset_check(
    asset=dg.AssetKey([GROUP, "st_push"]),
    description="No push to GHL failed in the last 24 hours (integrations.ghl_sync_log).",
    metadata={"table": "integrations.ghl_sync_log", "window_hours": 24},
    blocking=False,
)
def ghl_push_failures(warehouse: WarehouseResource) -> dg.AssetCheckResult:
    with warehouse.engine().connect() as conn:
        rows = conn.execute(
            sa.text(
                "select entity, count(*) from integrations.ghl_sync_log "
                "where direction = 'push' and outcome = 'failed' "
                "and occurred_at > now() - interval '24 hours' group by entity order by entity"
            )
        ).all()
    failed = {entity: count for entity, count in rows}
    return dg.AssetCheckResult(
        passed=not failed,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={"failed_by_entity": failed, "failed": sum(failed.values())},
    )
