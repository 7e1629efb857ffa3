"""GoHighLevel assets: pulls of pipelines, contacts and opportunities, and the ST -> GHL push.

The assets are thin: they hand the location's client and the warehouse engine to
`perfect_catch.integrations` and report what happened. A spent GHL daily limit fails the run
with that reason and no retry; the next scheduled run resumes from the committed watermark.
"""

from datetime import timedelta

import dagster as dg

from perfect_catch.connectors.gohighlevel import GhlDailyLimitError
from perfect_catch.defs.gohighlevel.resources import GoHighLevelResource
from perfect_catch.defs.settings import SettingsResource
from perfect_catch.defs.warehouse.resources import WarehouseResource
from perfect_catch.integrations.ghl_reconcile import reconcile_ghl
from perfect_catch.integrations.ghl_sync import (
    PullResult,
    sync_ghl_contacts,
    sync_ghl_opportunities,
    sync_ghl_pipelines,
)
from perfect_catch.settings import get_settings
from perfect_catch.warehouse.row_counts import table_rows

GROUP = "gohighlevel"
POOL = "gohighlevel_api"
_FRESHNESS = dg.FreshnessPolicy.time_window(
    fail_window=timedelta(hours=1), warn_window=timedelta(minutes=20)
)


class GhlSyncConfig(dg.Config):
    """Run configuration of a GHL pull."""

    full: bool = False
    """Read everything, not only what changed since the watermark."""


def _result(
    result: PullResult, calls: dict, warehouse: WarehouseResource | None = None, table: str = ""
) -> dg.MaterializeResult:
    metadata = {k: v for k, v in result.as_metadata().items() if v is not None}
    metadata["api"] = calls
    metadata["records_synced_this_run"] = result.written
    if warehouse is not None and table:
        # "Row count" in the UI: rows in the table now, not what this run wrote.
        metadata["dagster/row_count"] = table_rows(warehouse.engine(), table)
    return dg.MaterializeResult(metadata=metadata)


def _stop_on_daily_limit(exc: GhlDailyLimitError) -> dg.Failure:
    return dg.Failure(
        description=str(exc),
        metadata={"reason": "GoHighLevel daily API limit spent"},
        allow_retries=False,
    )


@dg.asset(
    key=dg.AssetKey([GROUP, "pipelines"]),
    group_name=GROUP,
    pool=POOL,
    kinds={"gohighlevel", "postgres"},
    description="GHL pipelines and their stages (GET /opportunities/pipelines) in "
    "integrations.ghl_pipelines and integrations.ghl_pipeline_stages.",
    metadata={
        "table": "integrations.ghl_pipelines, integrations.ghl_pipeline_stages",
        "dagster/table_name": "integrations.ghl_pipelines",
        "source_endpoint": "GET /opportunities/pipelines",
    },
    freshness_policy=_FRESHNESS,
    tags={"source": "gohighlevel"},
)
def ghl_pipelines(
    gohighlevel: GoHighLevelResource, warehouse: WarehouseResource
) -> dg.MaterializeResult:
    with gohighlevel.client() as client:
        try:
            result = sync_ghl_pipelines(warehouse.engine(), client)
        except GhlDailyLimitError as exc:
            raise _stop_on_daily_limit(exc) from None
        return _result(result, client.stats.as_dict(), warehouse, "integrations.ghl_pipelines")


@dg.asset(
    key=dg.AssetKey([GROUP, "contacts"]),
    group_name=GROUP,
    pool=POOL,
    kinds={"gohighlevel", "postgres"},
    description="GHL contacts changed since the stored dateUpdated watermark "
    "(POST /contacts/search, searchAfter paging) in integrations.ghl_contacts.",
    metadata={
        "table": "integrations.ghl_contacts",
        "dagster/table_name": "integrations.ghl_contacts",
        "source_endpoint": "POST /contacts/search",
    },
    freshness_policy=_FRESHNESS,
    tags={"source": "gohighlevel"},
)
def ghl_contacts(
    context: dg.AssetExecutionContext,
    config: GhlSyncConfig,
    gohighlevel: GoHighLevelResource,
    warehouse: WarehouseResource,
) -> dg.MaterializeResult:
    def on_page(progress: PullResult) -> None:
        context.log.info("contacts page %d: %d records", progress.pages, progress.records)

    with gohighlevel.client() as client:
        try:
            result = sync_ghl_contacts(
                warehouse.engine(), client, full=config.full, on_page=on_page
            )
        except GhlDailyLimitError as exc:
            raise _stop_on_daily_limit(exc) from None
        return _result(result, client.stats.as_dict(), warehouse, "integrations.ghl_contacts")


@dg.asset(
    key=dg.AssetKey([GROUP, "opportunities"]),
    group_name=GROUP,
    pool=POOL,
    kinds={"gohighlevel", "postgres"},
    description="GHL opportunities (GET /opportunities/search, meta cursor paging); rows whose "
    "updatedAt moved are written to integrations.ghl_opportunities.",
    metadata={
        "table": "integrations.ghl_opportunities",
        "dagster/table_name": "integrations.ghl_opportunities",
        "source_endpoint": "GET /opportunities/search",
    },
    freshness_policy=_FRESHNESS,
    tags={"source": "gohighlevel"},
)
def ghl_opportunities(
    config: GhlSyncConfig, gohighlevel: GoHighLevelResource, warehouse: WarehouseResource
) -> dg.MaterializeResult:
    with gohighlevel.client() as client:
        try:
            result = sync_ghl_opportunities(warehouse.engine(), client, full=config.full)
        except GhlDailyLimitError as exc:
            raise _stop_on_daily_limit(exc) from None
        return _result(result, client.stats.as_dict(), warehouse, "integrations.ghl_opportunities")


@dg.asset(
    key=dg.AssetKey([GROUP, "st_push"]),
    group_name=GROUP,
    pool=POOL,
    kinds={"gohighlevel", "python"},
    deps=[
        dg.AssetKey(["servicetitan", "customers"]),
        dg.AssetKey(["servicetitan", "customer_contacts"]),
        dg.AssetKey(["servicetitan", "appointments"]),
        dg.AssetKey(["servicetitan", "estimates"]),
        dg.AssetKey(["servicetitan", "jobs"]),
        dg.AssetKey([GROUP, "pipelines"]),
    ],
    description="Reconciliation ST -> GHL: re-pushes recently changed customers, appointments, "
    "estimates and install jobs, and every open estimate's opportunity, moving stages forward "
    "only; repairs drift. Every push is logged in integrations.ghl_sync_log.",
    metadata={
        "table": "integrations.ghl_estimate_opportunities, integrations.ghl_sync_log",
        "lookback_days": get_settings().integrations.ghl_push_lookback_days,
    },
    tags={"source": "gohighlevel"},
)
def ghl_st_push(
    context: dg.AssetExecutionContext,
    gohighlevel: GoHighLevelResource,
    warehouse: WarehouseResource,
    settings: SettingsResource,
) -> dg.MaterializeResult:
    tenants = settings.st_tenant_ids
    counts: dict[str, dict] = {}
    failures = 0
    with gohighlevel.client() as client:
        for tenant_id in tenants:
            try:
                result = reconcile_ghl(
                    warehouse.engine(), client, tenant_id, settings, run_id=context.run.run_id
                )
            except GhlDailyLimitError as exc:
                raise _stop_on_daily_limit(exc) from None
            counts[str(tenant_id)] = result.counts
            failures += len(result.failures)
            for failure in result.failures[:20]:
                context.log.warning("push failed: %s", failure)
        return dg.MaterializeResult(
            metadata={"tenants": counts, "failures": failures, "api": client.stats.as_dict()}
        )
