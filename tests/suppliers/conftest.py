"""Fixtures of the supplier tests: the simulator's suppliers, and a warehouse with the
pricebook materials synced, supplier prices refreshed and the cost drift mart built."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import sqlalchemy as sa

from perfect_catch.connectors.servicetitan import ServiceTitanClient
from perfect_catch.connectors.suppliers.sessions import SessionStore
from perfect_catch.integrations.supplier_refresh import RefreshReport, refresh_all
from perfect_catch.settings import Settings, load_settings
from perfect_catch.warehouse import dbt_runner
from perfect_catch.warehouse.catalog import get_entity
from perfect_catch.warehouse.sync import sync_entity

#: Fast enough for tests; the politeness itself is tested on its own.
TEST_RATE = 25.0


def supplier_settings(**overrides: Any) -> Settings:
    """Settings from the environment the simulator fixture set, at the test rate."""
    return load_settings(supplier_requests_per_second=TEST_RATE, **overrides)


def sync_materials(engine: sa.Engine, settings: Settings) -> None:
    tenant = settings.st_tenant_ids[0]
    with ServiceTitanClient.from_settings(settings, tenant) as client:
        sync_entity(engine, client, get_entity("pricebook_materials"), tenant, run_id="test")


def build_drift(settings: Settings, database_url: str, tmp_path: Any) -> None:
    dbt_runner.build(
        settings, "+material_cost_drift", url=database_url, target_path=tmp_path / "dbt"
    ).check()


@dataclass
class World:
    simulator: Any
    engine: sa.Engine
    settings: Settings
    report: RefreshReport
    sessions: SessionStore
    database_url: str


@pytest.fixture
def world(simulator, engine: sa.Engine, database_url: str, tmp_path) -> Iterator[World]:
    """Materials synced, every supplier refreshed twice (the second opens product pages of
    mapped parts) and `marts.material_cost_drift` built."""
    settings = supplier_settings()
    sync_materials(engine, settings)
    sessions = SessionStore()
    refresh_all(engine, settings, sessions=sessions)
    report = refresh_all(engine, settings, sessions=sessions)
    build_drift(settings, database_url, tmp_path)
    yield World(simulator, engine, settings, report, sessions, database_url)
