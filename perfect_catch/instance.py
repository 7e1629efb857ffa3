"""The Dagster instance of the platform: `DAGSTER_HOME` and its `dagster.yaml`.

Runs, event logs and schedules live in PostgreSQL (never SQLite): the embedded server's `dagster`
database by default, or `DAGSTER_DATABASE_URL`, or the warehouse database itself when only
`DATABASE_URL` is given. Run retries and run monitoring are on, and every external API has a
concurrency pool so no two runs hammer one API beyond its rate limit. The run queue is read every
second and launches in parallel, and sensors are evaluated in threads, so the event lane (sync,
events, workflow run) does not wait on the daemon's own loops.
"""

from __future__ import annotations

import os
from pathlib import Path

import sqlalchemy as sa
import yaml
from dagster import DagsterInstance

from perfect_catch.settings import Settings
from perfect_catch.warehouse.engine import base_url

# One pool per external API (and one for dbt builds), with how many steps may use it at once
# across all runs.
API_POOLS: dict[str, int] = {
    "servicetitan_api": 4,
    "gohighlevel_api": 1,
    "callrail_api": 1,
    "twilio_api": 2,
    "sendgrid_api": 2,
    "anthropic_api": 2,
    # A supplier's site: one refresh at a time, or two runs would double its request rate.
    "pool360_site": 1,
    "ced_site": 1,
    "homedepot_site": 1,
    # dbt builds must not overlap: `workflow_events` numbers its rows from the last build.
    "dbt_warehouse": 1,
}

DAGSTER_DATABASE = "dagster"


def _ensure_database(url: str, name: str) -> str:
    """Create database `name` on the server of `url` if missing; return a URL to it."""
    server = sa.make_url(url).set(drivername="postgresql+psycopg")
    if server.database == name:  # connect to the maintenance database to create this one
        server = server.set(database="postgres")
    engine = sa.create_engine(server, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            exists = conn.execute(
                sa.text("select 1 from pg_database where datname = :n"), {"n": name}
            ).scalar()
            if not exists:
                conn.execute(sa.text(f'create database "{name}"'))
    finally:
        engine.dispose()
    return server.set(database=name).render_as_string(hide_password=False)


#: For deployments (`perfect-catch instance setup`): Dagster's storage database, created.
ensure_database = _ensure_database


def storage_url(settings: Settings) -> str:
    """The `postgresql+psycopg2://` URL of Dagster's storage."""
    explicit = os.environ.get("DAGSTER_DATABASE_URL")
    if explicit:
        url = explicit
    elif settings.database_url:
        url = settings.database_url
    else:
        url = _ensure_database(base_url(settings), DAGSTER_DATABASE)
    return (
        sa.make_url(url).set(drivername="postgresql+psycopg2").render_as_string(hide_password=False)
    )


def instance_config(settings: Settings) -> dict:
    """The content of `dagster.yaml`."""
    return {
        "storage": {"postgres": {"postgres_url": storage_url(settings)}},
        # A run that dies or hangs is retried by Dagster; a step that fails is not (that would
        # repeat a refused credential): transient step failures have their own RetryPolicy and
        # stalled syncs the healing sensor's backoff (perfect_catch.monitoring.healing).
        "run_retries": {
            "enabled": True,
            "max_retries": 2,
            "retry_on_asset_or_op_failure": False,
        },
        # Runs stuck STARTING past start_timeout or STARTED past max_runtime are failed (and
        # then retried above); the run-failure sensor records them as `stuck_run` incidents.
        "run_monitoring": {
            "enabled": True,
            "start_timeout_seconds": 180,
            "cancel_timeout_seconds": 180,
            "max_runtime_seconds": 7200,
            "max_resume_run_attempts": 0,
            "poll_interval_seconds": 60,
        },
        "concurrency": {"runs": {"max_concurrent_runs": 8}, "pools": {"default_limit": 4}},
        "run_coordinator": {
            "module": "dagster.core.run_coordinator",
            "class": "QueuedRunCoordinator",
            "config": {
                "dequeue_interval_seconds": 1,
                "dequeue_use_threads": True,
                "dequeue_num_workers": 4,
            },
        },
        "sensors": {"use_threads": True, "num_workers": 4},
        "schedules": {"use_threads": True, "num_workers": 2},
        "telemetry": {"enabled": False},
    }


def ensure_instance(settings: Settings) -> Path:
    """Write `dagster.yaml` under `DAGSTER_HOME` (default: PERFECT_CATCH_HOME/dagster), set the
    API pool limits, and export `DAGSTER_HOME` for this process and its children."""
    home = Path(os.environ.get("DAGSTER_HOME") or settings.resolved_dagster_home)
    home.mkdir(parents=True, exist_ok=True)
    config_path = home / "dagster.yaml"
    content = yaml.safe_dump(instance_config(settings), sort_keys=False)
    if not config_path.exists() or config_path.read_text() != content:
        config_path.write_text(content)
        config_path.chmod(0o600)  # it holds the storage URL, which may carry a password
    os.environ["DAGSTER_HOME"] = str(home)
    _set_pool_limits(home)
    with DagsterInstance.from_config(str(home)) as instance:
        register_tenants(instance, settings)
    return home


def _set_pool_limits(home: Path) -> None:
    with DagsterInstance.from_config(str(home)) as instance:
        apply_pool_limits(instance)


def apply_pool_limits(instance: DagsterInstance) -> dict[str, int]:
    """Set every pool of `API_POOLS` to its limit (idempotent: setting a limit twice is a
    no-op); a deployment runs this once per release (`perfect-catch instance setup`)."""
    for pool, limit in API_POOLS.items():
        instance.event_log_storage.set_concurrency_slots(pool, limit)
    return dict(API_POOLS)


def register_tenants(instance: DagsterInstance, settings: Settings) -> list[str]:
    """Add the configured tenants to the dynamic tenant partitions (the tenants sensor keeps
    them up to date after); returns those added."""
    from perfect_catch.tenants import TENANT_PARTITIONS, configured_tenant_ids

    known = set(instance.get_dynamic_partitions(TENANT_PARTITIONS))
    new = [str(t) for t in configured_tenant_ids(settings) if str(t) not in known]
    if new:
        instance.add_dynamic_partitions(TENANT_PARTITIONS, new)
    return new
