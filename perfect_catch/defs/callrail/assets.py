"""CallRail asset: calls of the account, re-reading a trailing window, linked to ST customers."""

from datetime import timedelta

import dagster as dg

from perfect_catch.defs.callrail.resources import CallRailResource
from perfect_catch.defs.settings import SettingsResource
from perfect_catch.defs.warehouse.resources import WarehouseResource
from perfect_catch.integrations.callrail_sync import sync_callrail_calls
from perfect_catch.settings import get_settings
from perfect_catch.warehouse.row_counts import table_rows

GROUP = "callrail"


class CallRailSyncConfig(dg.Config):
    """Run configuration of a CallRail sync."""

    full: bool = False
    """Re-read CALLRAIL_INITIAL_DAYS of calls instead of the trailing window."""


@dg.asset(
    key=dg.AssetKey([GROUP, "calls"]),
    group_name=GROUP,
    pool="callrail_api",
    kinds={"callrail", "postgres"},
    deps=[dg.AssetKey(["servicetitan", "customer_contacts"])],
    description="CallRail calls (GET /v3/a/{account}/calls.json, relative paging) in "
    "integrations.callrail_calls; every run re-reads CALLRAIL_TRAILING_DAYS so recordings, "
    "tags and lead status set later are caught; calls are linked to ST customers by E.164 phone.",
    metadata={
        "table": "integrations.callrail_calls",
        "dagster/table_name": "integrations.callrail_calls",
        "source_endpoint": "GET /v3/a/{account}/calls.json",
        "trailing_days": get_settings().integrations.callrail_trailing_days,
    },
    freshness_policy=dg.FreshnessPolicy.time_window(
        fail_window=timedelta(hours=2), warn_window=timedelta(minutes=30)
    ),
    tags={"source": "callrail"},
)
def callrail_calls(
    config: CallRailSyncConfig,
    callrail: CallRailResource,
    warehouse: WarehouseResource,
    settings: SettingsResource,
) -> dg.MaterializeResult:
    with callrail.client() as client:
        result = sync_callrail_calls(
            warehouse.engine(),
            client,
            trailing_days=settings.integrations.callrail_trailing_days,
            initial_days=settings.integrations.callrail_initial_days,
            full=config.full,
            tenant_ids=settings.st_tenant_ids,
        )
        metadata = {k: v for k, v in result.as_metadata().items() if v is not None}
        metadata["api"] = client.stats.as_dict()
        metadata["records_synced_this_run"] = result.written
        # "Row count" in the UI: rows in the table now, not what this run wrote.
        metadata["dagster/row_count"] = table_rows(
            warehouse.engine(), "integrations.callrail_calls"
        )
        return dg.MaterializeResult(metadata=metadata)
