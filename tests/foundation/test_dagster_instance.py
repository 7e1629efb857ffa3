"""Dagster definitions load, and a CLI materialization lands in PostgreSQL run storage."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import dagster as dg
import sqlalchemy as sa
import yaml

from perfect_catch.definitions import defs
from perfect_catch.instance import DAGSTER_DATABASE
from perfect_catch.warehouse.embedded import EmbeddedServer


def test_definitions_load_with_descriptions() -> None:
    definitions = defs()
    specs = list(definitions.resolve_all_asset_specs())
    assert dg.AssetKey(["warehouse", "schema"]) in {spec.key for spec in specs}
    for spec in specs:
        assert spec.description, f"{spec.key.to_user_string()} has no description"
    repository = definitions.get_repository_def()
    for sensor in repository.sensor_defs:
        assert sensor.description, f"sensor {sensor.name} has no description"
    assert {schedule.name for schedule in repository.schedule_defs} == {
        "callrail_sync_schedule",
        "gohighlevel_push_schedule",
        "gohighlevel_sync_schedule",
        "monitoring_incidents_schedule",
        "servicetitan_full_refresh_schedule",
        "servicetitan_incremental_schedule",
        "supplier_refresh_schedule",
    }
    for schedule in repository.schedule_defs:
        assert schedule.description, f"schedule {schedule.name} has no description"
    check_specs = [c for checks in definitions.asset_checks or [] for c in checks.check_specs]
    assert len(check_specs) >= 20
    for check in check_specs:
        assert check.description, f"check {check.name} has no description"
    names = {sensor.name for sensor in repository.sensor_defs}
    assert {"workflow_events", "workflow_due", "outbox_dispatch", "dbt_automation"} <= names
    assert {"monitoring_run_failures", "monitoring_run_successes", "monitoring_healing"} <= names


def test_cli_materialization_is_recorded_in_postgres(
    pg_server: EmbeddedServer, pg_home: Path, tmp_path: Path
) -> None:
    dagster_home = tmp_path / "dagster_home"
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env.update(PERFECT_CATCH_HOME=str(pg_home), DAGSTER_HOME=str(dagster_home))
    proc = subprocess.run(
        [sys.executable, "-m", "perfect_catch.cli", "materialize", "warehouse/schema"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    run_id = proc.stdout.split("run ", 1)[1].split(":", 1)[0]

    config = yaml.safe_load((dagster_home / "dagster.yaml").read_text())
    assert config["storage"]["postgres"]["postgres_url"].startswith("postgresql+psycopg2://")
    assert config["run_retries"]["enabled"] and config["run_monitoring"]["enabled"]
    assert not list(dagster_home.rglob("*.db")), "Dagster wrote SQLite storage"

    url = sa.make_url(pg_server.uri).set(drivername="postgresql+psycopg", database=DAGSTER_DATABASE)
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    with engine.connect() as conn:
        status = conn.execute(
            sa.text("select status from runs where run_id = :r"), {"r": run_id}
        ).scalar_one()
        pools = set(
            conn.execute(sa.text("select concurrency_key from concurrency_limits")).scalars()
        )
    engine.dispose()
    assert status == "SUCCESS"
    assert "servicetitan_api" in pools
