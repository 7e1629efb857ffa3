"""docker/dagster.yaml against Dagster's own instance schema, and the pool limits the code's
pools need, set in a real instance by `perfect-catch instance setup`."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import pytest
import sqlalchemy as sa
import yaml
from dagster._core.instance.config import (
    dagster_instance_config,
    dagster_instance_config_schema,
    validate_config,
)
from dagster._core.run_coordinator import QueuedRunCoordinator
from deploy_files import DOCKER
from typer.testing import CliRunner

from perfect_catch.instance import API_POOLS
from perfect_catch.tenants import TENANT_TAG


def _config() -> dict:
    return yaml.safe_load((DOCKER / "dagster.yaml").read_text())


def test_the_instance_config_is_valid_for_dagster(tmp_path: Path, monkeypatch) -> None:
    config = _config()
    result = validate_config(dagster_instance_config_schema(), config)
    assert result.success, result.errors
    coordinator = config["run_coordinator"]
    assert coordinator["class"] == "QueuedRunCoordinator"
    checked = validate_config(QueuedRunCoordinator.config_type(), coordinator["config"])
    assert checked.success, checked.errors
    # Dagster's own loader (env vars resolved, cross-section checks) accepts it as a file.
    shutil.copy(DOCKER / "dagster.yaml", tmp_path / "dagster.yaml")
    monkeypatch.setenv("DAGSTER_DATABASE_URL", "postgresql+psycopg2://u:p@db:5432/d")
    loaded, _ = dagster_instance_config(str(tmp_path))
    assert loaded["storage"]["postgres"]["postgres_url"] == {"env": "DAGSTER_DATABASE_URL"}


def test_runs_are_limited_per_external_api_and_per_tenant() -> None:
    config = _config()
    limits = config["concurrency"]["runs"]["tag_concurrency_limits"]
    per_tenant = [rule for rule in limits if rule["key"] == TENANT_TAG]
    assert per_tenant == [
        {"key": TENANT_TAG, "value": {"applyLimitPerUniqueValue": True}, "limit": 2}
    ]
    apis = {rule["value"] for rule in limits if rule["key"] == "source"}
    assert apis == {"servicetitan", "gohighlevel", "callrail"}
    assert config["run_monitoring"]["enabled"] and config["run_retries"]["enabled"]
    assert config["sensors"]["use_threads"] and config["schedules"]["use_threads"]
    assert "postgres" in config["storage"]


def test_the_sync_jobs_carry_the_source_tag_the_limits_read() -> None:
    from perfect_catch.definitions import defs

    jobs = {job.name: job for job in defs().resolve_all_job_defs()}
    for name, source in (("servicetitan_sync", "servicetitan"),):
        assert jobs[name].tags.get("source") == source


def _pools_used() -> set[str]:
    from perfect_catch.definitions import defs

    pools: set[str] = set()
    for assets_def in defs().resolve_asset_graph().assets_defs:
        if not assets_def.is_executable:  # external tables: nothing runs, no pool
            continue
        for node in assets_def.node_def.iterate_node_defs():
            pool = getattr(node, "pool", None)
            if pool:
                pools.add(pool)
    return pools


def test_every_pool_the_code_uses_has_a_limit_and_unset_pools_run_one_at_a_time() -> None:
    used = _pools_used()
    assert "servicetitan_api" in used and "dbt_warehouse" in used
    assert used <= set(API_POOLS), f"pools without a limit: {sorted(used - set(API_POOLS))}"
    assert API_POOLS["dbt_warehouse"] == 1
    assert _config()["concurrency"]["pools"]["default_limit"] == 1


@pytest.fixture
def deployed_home(tmp_path: Path, database_url: str, monkeypatch) -> Iterator[Path]:
    """DAGSTER_HOME holding docker/dagster.yaml, its storage in the test's database."""
    shutil.copy(DOCKER / "dagster.yaml", tmp_path / "dagster.yaml")
    warehouse = sa.make_url(database_url)
    storage = warehouse.set(drivername="postgresql+psycopg2", database=f"{warehouse.database}_dg")
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path))
    monkeypatch.setenv("DAGSTER_DATABASE_URL", storage.render_as_string(hide_password=False))
    monkeypatch.setenv("ST_TENANT_IDS", "41,42")
    yield tmp_path
    admin = sa.create_engine(warehouse.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'drop database if exists "{storage.database}" with (force)'))
    admin.dispose()


def test_instance_setup_sets_every_pool_limit_idempotently(deployed_home: Path) -> None:
    from perfect_catch.cli import app

    for _ in range(2):
        result = CliRunner().invoke(app, ["instance", "setup"])
        assert result.exit_code == 0, result.output
    with dg.DagsterInstance.get() as instance:
        for pool, limit in API_POOLS.items():
            assert instance.event_log_storage.get_concurrency_info(pool).slot_count == limit
        assert sorted(instance.get_dynamic_partitions("servicetitan_tenant")) == ["41", "42"]
