"""Shared fixtures: one embedded PostgreSQL per test session, a fresh database per test (cloned
from a migrated template, so it is fast), the simulators on an ephemeral port, and a spy on the
loader's direct COPY.

`make test` runs the suite on several pytest-xdist workers, each a process with a session of its
own: its own PERFECT_CATCH_HOME (so its own embedded server, template and databases), its own
temporary folders (dbt targets and logs, Dagster instances) and simulators on ephemeral ports.
The one thing the workers share is the dbt project's `target/manifest.json`, which loading the
Dagster definitions parses when it is stale; a file lock makes one worker parse it while the
others wait.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

# Tests never read a developer's `.env` nor touch the working copy's state.
os.environ["PERFECT_CATCH_ENV_FILE"] = os.devnull
for _name in list(os.environ):
    if (
        _name.startswith(("ST_", "GHL_", "CALLRAIL_", "TWILIO_", "SENDGRID_", "ANTHROPIC_"))
        or (_name in ("DATABASE_URL", "DAGSTER_HOME", "DAGSTER_DATABASE_URL", "PERFECT_CATCH_HOME"))
        or _name.startswith(("POOL360_", "CED_", "HOMEDEPOT_", "SUPPLIER_"))
    ):
        del os.environ[_name]
# The simulated world is dated on the reference day, so tests do not depend on today's date;
# a first CallRail sync therefore reaches back far enough to find that day's call log.
os.environ["SIM_ANCHOR_DATE"] = "2025-06-02"
os.environ["CALLRAIL_INITIAL_DAYS"] = "3650"

import sqlalchemy as sa  # noqa: E402
from filelock import FileLock  # noqa: E402

from perfect_catch.connectors.http import Clock  # noqa: E402
from perfect_catch.warehouse import dbt_runner, migrate  # noqa: E402
from perfect_catch.warehouse.embedded import EmbeddedServer, ensure_server, stop_server  # noqa: E402
from perfect_catch.warehouse.engine import create_engine, dispose_engines  # noqa: E402

TEMPLATE = "pc_template"
WORKER = os.environ.get("PYTEST_XDIST_WORKER", "main")
"""The xdist worker this process is (`gw0`, `gw1`, …), `main` without xdist."""

# Before collection imports the Dagster definitions, which parse a stale manifest in place.
with FileLock(str(dbt_runner.MANIFEST.parent / ".manifest.lock"), timeout=300):
    dbt_runner.MANIFEST.parent.mkdir(parents=True, exist_ok=True)
    dbt_runner.ensure_manifest()


def _reset_caches() -> None:
    dispose_engines()


def _admin_engine(server: EmbeddedServer) -> sa.Engine:
    url = sa.make_url(server.uri).set(drivername="postgresql+psycopg")
    return sa.create_engine(url, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)


@pytest.fixture(scope="session")
def pg_home() -> Iterator[Path]:
    """PERFECT_CATCH_HOME of the test session (its embedded server lives there).

    A folder of its own rather than pytest's tmp_path: pytest prunes old session folders, which
    would pull the data directory from under a server another session is still using.
    """
    home = Path(tempfile.mkdtemp(prefix=f"pc-test-{WORKER}-"))
    os.environ["PERFECT_CATCH_HOME"] = str(home)
    _reset_caches()
    yield home
    shutil.rmtree(home, ignore_errors=True)


@pytest.fixture(scope="session", autouse=True)
def dbt_logs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """dbt's log folder for this session: dbt run in-process logs to `dbt_project/logs/` unless
    told otherwise, and two workers appending to (and rotating) one `dbt.log` would race."""
    logs = tmp_path_factory.mktemp("dbt_logs")
    saved = os.environ.get("DBT_LOG_PATH")
    os.environ["DBT_LOG_PATH"] = str(logs)
    yield logs
    if saved is None:
        os.environ.pop("DBT_LOG_PATH", None)
    else:
        os.environ["DBT_LOG_PATH"] = saved


@pytest.fixture(scope="session")
def pg_server(pg_home: Path) -> Iterator[EmbeddedServer]:
    """The session's embedded PostgreSQL, with a template database migrated to head."""
    server = ensure_server(pg_home)
    admin = _admin_engine(server)
    with admin.connect() as conn:
        conn.execute(sa.text(f'drop database if exists "{TEMPLATE}"'))
        conn.execute(sa.text(f'create database "{TEMPLATE}"'))
    template = create_engine(_db_url(server, TEMPLATE))
    migrate.upgrade(template)
    template.dispose()
    yield server
    admin.dispose()
    stop_server(pg_home)


def _db_url(server: EmbeddedServer, name: str) -> str:
    url = sa.make_url(server.uri).set(drivername="postgresql+psycopg", database=name)
    return url.render_as_string(hide_password=False)


@pytest.fixture
def database_url(pg_server: EmbeddedServer, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A fresh database at the newest migration, set as DATABASE_URL for the test."""
    name = f"t_{uuid.uuid4().hex[:12]}"
    admin = _admin_engine(pg_server)
    with admin.connect() as conn:
        conn.execute(sa.text(f'create database "{name}" template "{TEMPLATE}"'))
    url = _db_url(pg_server, name)
    monkeypatch.setenv("DATABASE_URL", url)
    _reset_caches()
    yield url
    _reset_caches()
    with admin.connect() as conn:
        conn.execute(sa.text(f'drop database if exists "{name}" with (force)'))
    admin.dispose()


@pytest.fixture
def engine(database_url: str) -> Iterator[sa.Engine]:
    """An engine on the test's fresh database."""
    eng = create_engine(database_url)
    yield eng
    eng.dispose()


@pytest.fixture
def direct_copies(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """Whether each direct COPY the loader attempted went through (False: it was rolled back and
    the page took the upsert)."""
    from perfect_catch.warehouse.loading import direct_copy

    outcomes: list[bool] = []
    real = direct_copy.copy_direct

    def spy(*args: Any) -> bool:
        outcomes.append(real(*args))
        return outcomes[-1]

    monkeypatch.setattr(direct_copy, "copy_direct", spy)
    return outcomes


@pytest.fixture(autouse=True)
def _no_leftover_dagster_state_storage() -> Iterator[None]:
    """Each test starts without a Dagster state storage in its context.

    Entering a `DagsterInstance` puts its state storage in a context variable that loading any
    `Definitions` reads; an instance a test left behind (a sensor or schedule context's, say)
    makes a later test's definitions fail with "undefined DagsterInstance weakref"."""
    from dagster._core.storage.defs_state.base import set_defs_state_storage

    with set_defs_state_storage(None):
        yield


@pytest.fixture
def simulator(monkeypatch: pytest.MonkeyPatch):
    """All simulators on an ephemeral port (seed 7, small tenant), their env vars applied."""
    from perfect_catch.simulators.server import SimulatorServer

    with SimulatorServer(seed=7, size="small", port=0) as sim:
        for key, value in sim.env.items():
            monkeypatch.setenv(key, value)
        _reset_caches()
        yield sim
    _reset_caches()


@dataclass
class FakeClock:
    """Records requested waits instead of sleeping; monotonic time still moves by them."""

    sleeps: list[float] = field(default_factory=list)
    jitter: float = 1.0

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)

    def monotonic(self) -> float:
        return time.monotonic() + sum(self.sleeps)

    def as_clock(self) -> Clock:
        return Clock(sleep=self.sleep, monotonic=self.monotonic, random=lambda: self.jitter)


@pytest.fixture
def fake_clock() -> FakeClock:
    """A clock for API clients that records back-off waits instead of sleeping."""
    return FakeClock()


@pytest.fixture(scope="session")
def events_template(
    pg_server: EmbeddedServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """A template database at head with dbt's relations up to `events.workflow_events` built,
    empty (the raw tables are), once per session.

    Tests that feed the workflow engine insert events into the relation dbt made rather than a
    table of their own, so they read the columns dbt writes; building dbt per test would be far
    slower than cloning this template.
    """
    from perfect_catch.settings import load_settings
    from perfect_catch.warehouse import dbt_runner

    name = f"pc_events_{uuid.uuid4().hex[:8]}"
    admin = _admin_engine(pg_server)
    with admin.connect() as conn:
        conn.execute(sa.text(f'create database "{name}" template "{TEMPLATE}"'))
    target = tmp_path_factory.mktemp("events_template_dbt")
    args = ["run", "--select", "+workflow_events"]
    url = _db_url(pg_server, name)
    dbt_runner.invoke(
        args, load_settings(database_url=url), url=url, target_path=target, in_process=True
    ).check()
    yield name
    with admin.connect() as conn:
        conn.execute(sa.text(f'drop database if exists "{name}" with (force)'))
    admin.dispose()


@pytest.fixture
def events_engine(
    pg_server: EmbeddedServer, events_template: str, monkeypatch: pytest.MonkeyPatch
) -> Iterator[sa.Engine]:
    """An engine on a fresh clone of `events_template`, set as DATABASE_URL for the test."""
    name = f"t_{uuid.uuid4().hex[:12]}"
    admin = _admin_engine(pg_server)
    with admin.connect() as conn:
        conn.execute(sa.text(f'create database "{name}" template "{events_template}"'))
    url = _db_url(pg_server, name)
    monkeypatch.setenv("DATABASE_URL", url)
    _reset_caches()
    eng = create_engine(url)
    yield eng
    eng.dispose()
    _reset_caches()
    with admin.connect() as conn:
        conn.execute(sa.text(f'drop database if exists "{name}" with (force)'))
    admin.dispose()
