"""A warehouse, a simulated ServiceTitan and dbt for the event tests.

dbt runs in-process with the project parsed once per session (starting dbt costs far more than
building this project on the small tenant), into a session-private target directory (its own
per pytest-xdist worker, so two workers never write one `target/` nor parse into each other's).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from perfect_catch.connectors.servicetitan import ServiceTitanClient
from perfect_catch.settings import Settings, load_settings
from perfect_catch.simulators.server import SimulatorServer
from perfect_catch.warehouse import dbt_runner
from perfect_catch.warehouse.catalog import ENTITIES
from perfect_catch.warehouse.embedded import EmbeddedServer
from perfect_catch.warehouse.engine import create_engine
from perfect_catch.warehouse.sync import sync_entity


class Warehouse:
    """One test database fed by one simulator: sync it, build dbt, read the events."""

    def __init__(self, url: str, sim: SimulatorServer, target: Path) -> None:
        self.url = url
        self.sim = sim
        self.st = sim.system("servicetitan")
        self.tenant_id: int = self.st.tenant_ids[0]
        self.engine = create_engine(url)
        self.target = target
        st_env = {k.lower(): v for k, v in sim.env.items() if k.startswith("ST_")}
        self.settings: Settings = load_settings(database_url=url, **st_env)

    def sync(self) -> None:
        with ServiceTitanClient.from_settings(self.settings, self.tenant_id) as client:
            for spec in ENTITIES:
                sync_entity(self.engine, client, spec, self.tenant_id)

    def build(
        self, as_of: str | None = None, *, test: bool = True, everything: bool = False
    ) -> None:
        """Build the events and what they depend on as of `as_of` (default: simulator now);
        `test=False` runs the models without their dbt tests (a quicker intermediate step),
        `everything=True` builds and tests the whole project (marts too)."""
        as_of_var = json.dumps({"as_of": as_of or self.st.now()})
        selection = [] if everything else ["--select", "+workflow_events"]
        args = ["build" if test else "run", *selection, "--vars", as_of_var]
        dbt_runner.invoke(
            args, self.settings, url=self.url, target_path=self.target, in_process=True
        ).check()

    def events(self, **where: Any) -> list[dict[str, Any]]:
        clauses = " and ".join(f"{name} = :{name}" for name in where) or "true"
        with self.engine.connect() as conn:
            rows = conn.execute(
                sa.text(f"select * from events.workflow_events where {clauses} order by event_seq"),
                where,
            )
            return [dict(row._mapping) for row in rows]


@pytest.fixture(scope="session")
def dbt_target(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("dbt_target")


def _new_database(server: EmbeddedServer) -> tuple[str, Callable[[], None]]:
    admin = sa.create_engine(
        sa.make_url(server.uri).set(drivername="postgresql+psycopg"),
        isolation_level="AUTOCOMMIT",
        poolclass=sa.pool.NullPool,
    )
    name = f"dbt_{uuid.uuid4().hex[:12]}"
    with admin.connect() as conn:
        conn.execute(sa.text(f'create database "{name}" template "pc_template"'))
    url = sa.make_url(server.uri).set(drivername="postgresql+psycopg", database=name)

    def drop() -> None:
        with admin.connect() as conn:
            conn.execute(sa.text(f'drop database if exists "{name}" with (force)'))
        admin.dispose()

    return url.render_as_string(hide_password=False), drop


@pytest.fixture(scope="module")
def module_warehouse(pg_server: EmbeddedServer, dbt_target: Path) -> Iterator[Warehouse]:
    """A warehouse shared by the tests of one module (their builds are the slow part)."""
    url, drop = _new_database(pg_server)
    with SimulatorServer(seed=7, size="small", port=0) as sim:
        warehouse = Warehouse(url, sim, dbt_target)
        yield warehouse
        warehouse.engine.dispose()
    drop()


@pytest.fixture
def warehouse(pg_server: EmbeddedServer, dbt_target: Path) -> Iterator[Warehouse]:
    """A warehouse of its own for one test."""
    url, drop = _new_database(pg_server)
    with SimulatorServer(seed=7, size="small", port=0) as sim:
        warehouse = Warehouse(url, sim, dbt_target)
        yield warehouse
        warehouse.engine.dispose()
    drop()
