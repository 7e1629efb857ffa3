"""Whole runs of the integrations from settings, for the CLI and `run-once` (no Dagster).

Each function builds its clients from `Settings`, runs, closes them and returns what happened.
Missing credentials raise `SettingsError` naming the variable rather than failing on a 401.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa

from perfect_catch.connectors.callrail import CallRailClient
from perfect_catch.connectors.gohighlevel import GoHighLevelClient
from perfect_catch.connectors.servicetitan import ServiceTitanClient
from perfect_catch.integrations.callrail_sync import sync_callrail_calls
from perfect_catch.integrations.ghl_reconcile import ReconcileResult, reconcile_ghl
from perfect_catch.integrations.ghl_sync import (
    PullResult,
    sync_ghl_contacts,
    sync_ghl_opportunities,
    sync_ghl_pipelines,
)
from perfect_catch.integrations.ghl_to_st import GhlToStResult, pull_ghl_customers_to_st
from perfect_catch.settings import Settings, SettingsError
from perfect_catch.warehouse.engine import get_engine


def _require(settings: Settings, *names: str) -> None:
    missing = []
    for name in names:
        value = getattr(settings, name)
        if not (value.get_secret_value() if hasattr(value, "get_secret_value") else value):
            missing.append(name.upper())
    if missing:
        raise SettingsError(f"{', '.join(missing)} must be set")


def run_ghl_sync(
    settings: Settings, *, full: bool = False, engine: sa.Engine | None = None
) -> list[PullResult]:
    """Pull GHL pipelines, contacts and opportunities into the warehouse."""
    _require(settings, "ghl_token", "ghl_location_id")
    engine = engine or get_engine(settings)
    with GoHighLevelClient.from_settings(settings) as client:
        return [
            sync_ghl_pipelines(engine, client),
            sync_ghl_contacts(engine, client, full=full),
            sync_ghl_opportunities(engine, client, full=full),
        ]


def run_ghl_reconcile(
    settings: Settings,
    *,
    since: datetime | None = None,
    engine: sa.Engine | None = None,
) -> dict[int, ReconcileResult]:
    """Push ST -> GHL for every configured tenant, repairing drift; results per tenant."""
    _require(settings, "ghl_token", "ghl_location_id", "st_tenant_ids")
    engine = engine or get_engine(settings)
    results: dict[int, ReconcileResult] = {}
    with GoHighLevelClient.from_settings(settings) as client:
        for tenant_id in settings.st_tenant_ids:
            results[tenant_id] = reconcile_ghl(engine, client, tenant_id, settings, since=since)
    return results


def run_callrail_sync(
    settings: Settings, *, full: bool = False, engine: sa.Engine | None = None
) -> PullResult:
    """Sync CallRail calls (trailing window) and link them to ST customers."""
    _require(settings, "callrail_api_key", "callrail_account_id")
    config = settings.integrations
    engine = engine or get_engine(settings)
    with CallRailClient.from_settings(settings) as client:
        return sync_callrail_calls(
            engine,
            client,
            trailing_days=config.callrail_trailing_days,
            initial_days=config.callrail_initial_days,
            full=full,
            tenant_ids=settings.st_tenant_ids,
        )


def run_ghl_to_st(
    settings: Settings, *, engine: sa.Engine | None = None
) -> dict[int, GhlToStResult]:
    """Create ST customers for GHL contacts tagged as customers (only with GHL_PULL_TO_ST)."""
    if not settings.integrations.ghl_pull_to_st:
        return {}
    _require(settings, "ghl_location_id", "st_tenant_ids")
    engine = engine or get_engine(settings)
    results: dict[int, GhlToStResult] = {}
    for tenant_id in settings.st_tenant_ids:
        with ServiceTitanClient.from_settings(settings, tenant_id) as st_client:
            results[tenant_id] = pull_ghl_customers_to_st(
                engine, st_client, settings.ghl_location_id, tenant_id, settings
            )
    return results
