"""A seeded world for the tool tests: one simulated ServiceTitan for the session, synced once
into a template database; each test gets its own clone of that database and an MCP server
over a `ToolContext` on it."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import anyio
import mcp
import pytest
import sqlalchemy as sa

from mcp_server.server import build_server
from perfect_catch.connectors.servicetitan import ServiceTitanClient
from perfect_catch.settings import Settings, load_settings
from perfect_catch.simulators.server import SimulatorServer
from perfect_catch.tools.context import ToolContext
from perfect_catch.warehouse import dbt_runner
from perfect_catch.warehouse.catalog import ENTITIES
from perfect_catch.warehouse.embedded import EmbeddedServer
from perfect_catch.warehouse.engine import create_engine
from perfect_catch.warehouse.sync import sync_entity

SEEDED_TEMPLATE = "pc_tools_seeded"
MART_MODELS = ("+invoices",)
"""dbt selections built into the seeded database: what the tools read from dbt."""


def _url(server: EmbeddedServer, database: str) -> str:
    url = sa.make_url(server.uri).set(drivername="postgresql+psycopg", database=database)
    return url.render_as_string(hide_password=False)


def _admin(server: EmbeddedServer) -> sa.Engine:
    return sa.create_engine(
        _url(server, "postgres"), isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool
    )


def settings_for(sim: SimulatorServer, database_url: str, **overrides: Any) -> Settings:
    env = sim.env
    values: dict[str, Any] = {
        "database_url": database_url,
        "st_api_url": env["ST_API_URL"],
        "st_auth_url": env["ST_AUTH_URL"],
        "st_client_id": env["ST_CLIENT_ID"],
        "st_client_secret": env["ST_CLIENT_SECRET"],
        "st_app_key": env["ST_APP_KEY"],
        "st_tenant_ids": [int(t) for t in env["ST_TENANT_IDS"].split(",")],
        "http_max_retries": 1,
    }
    return load_settings(**{**values, **overrides})


def seed(engine: sa.Engine, settings: Settings) -> None:
    """Sync every ServiceTitan entity of every tenant into `engine`'s database."""
    for tenant_id in settings.st_tenant_ids:
        with ServiceTitanClient.from_settings(settings, tenant_id) as client:
            for spec in ENTITIES:
                sync_entity(engine, client, spec, tenant_id)


def snapshot(engine: sa.Engine) -> dict[str, Any]:
    """Checksums of every user table's contents plus the cluster state a query could touch."""
    state: dict[str, Any] = {}
    with engine.connect() as conn:
        tables = conn.execute(
            sa.text(
                """select format('%I.%I', n.nspname, c.relname) from pg_class c
                   join pg_namespace n on n.oid = c.relnamespace
                   where c.relkind in ('r', 'p', 'm')
                     and n.nspname not in ('pg_catalog', 'information_schema', 'pg_toast')
                   order by 1"""
            )
        ).scalars()
        for table in list(tables):
            state[table] = conn.execute(
                sa.text(
                    f"select count(*), md5(coalesce(string_agg(x::text, '|' order by x::text),"
                    f" '')) from {table} x"
                )
            ).one()
        for name, sql in {
            "relations": "select string_agg(format('%s.%s:%s:%s', relnamespace::regnamespace,"
            " relname, relkind, relacl), ',' order by relnamespace::regnamespace::text, relname)"
            " from pg_class where relnamespace::regnamespace::text !~ '^pg_(toast|temp)'",
            "functions": "select count(*) from pg_proc p join pg_namespace n"
            " on n.oid = p.pronamespace where n.nspname not in ('pg_catalog',"
            " 'information_schema')",
            "roles": "select string_agg(format('%s:%s:%s:%s:%s:%s', rolname, rolsuper,"
            " rolcreaterole, rolcreatedb, rolcanlogin, rolconfig), ',' order by rolname)"
            " from pg_roles",
            "memberships": "select string_agg(format('%s>%s', roleid, member), ','"
            " order by roleid, member) from pg_auth_members",
            "databases": "select string_agg(format('%s:%s:%s', datname, datallowconn, datacl),"
            " ',' order by datname) from pg_database",
            "db_settings": "select string_agg(format('%s:%s:%s', setdatabase, setrole,"
            " setconfig), ',') from pg_db_role_setting",
            "sequences": "select string_agg(format('%s.%s:%s', schemaname, sequencename,"
            " last_value), ',' order by schemaname, sequencename) from pg_sequences",
            "large_objects": "select count(*) from pg_largeobject_metadata",
            "extensions": "select string_agg(extname, ',' order by extname) from pg_extension",
            "prepared_xacts": "select count(*) from pg_prepared_xacts",
            "advisory_locks": "select count(*) from pg_locks where locktype = 'advisory'",
        }.items():
            state[name] = conn.execute(sa.text(sql)).scalar()
    return state


@pytest.fixture(scope="session")
def st_sim() -> Iterator[SimulatorServer]:
    """The session's simulated ServiceTitan (seed 7, small)."""
    with SimulatorServer(seed=7, size="small", port=0) as sim:
        yield sim


@pytest.fixture(scope="session")
def seeded_template(
    pg_server: EmbeddedServer,
    st_sim: SimulatorServer,
    events_template: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> str:
    """A database at head holding a full sync of the simulator, used as a template.

    It starts from `events_template`, so dbt's relations up to `events.workflow_events` exist
    (the events empty: dbt built them before the sync) for the tests that record an event; the
    dbt relations the report tools read (`MART_MODELS`) are then built over the synced rows."""
    admin = _admin(pg_server)
    with admin.connect() as conn:
        conn.execute(sa.text(f'drop database if exists "{SEEDED_TEMPLATE}" with (force)'))
        conn.execute(sa.text(f'create database "{SEEDED_TEMPLATE}" template "{events_template}"'))
    url = _url(pg_server, SEEDED_TEMPLATE)
    engine = create_engine(url)
    settings = settings_for(st_sim, url)
    seed(engine, settings)
    engine.dispose()
    target = tmp_path_factory.mktemp("tools_dbt_target")
    dbt_runner.invoke(
        ["run", "--select", *MART_MODELS], settings, url=url, target_path=target, in_process=True
    ).check()
    admin.dispose()
    return SEEDED_TEMPLATE


@dataclass
class World:
    """One test's seeded database, tool context and MCP server."""

    sim: SimulatorServer
    engine: sa.Engine
    context: ToolContext
    server: Any
    tenant_id: int

    def call(self, name: str, arguments: dict[str, Any] | None = None) -> Any:
        """Call tool `name` through an in-memory MCP client; returns the CallToolResult."""

        async def go() -> Any:
            async with mcp.Client(self.server) as client:
                return await client.call_tool(name, arguments or {})

        return anyio.run(go)

    def ok(self, name: str, arguments: dict[str, Any] | None = None) -> dict[str, Any]:
        """Call a tool that must succeed; returns its structured result."""
        result = self.call(name, arguments)
        assert not result.is_error, result.content[0].text
        assert result.structured_content is not None
        assert json.loads(result.content[0].text) == result.structured_content
        return result.structured_content

    def error(self, name: str, arguments: dict[str, Any] | None = None) -> str:
        """Call a tool that must fail; returns the message the model would read."""
        result = self.call(name, arguments)
        assert result.is_error, result.content[0].text
        text = result.content[0].text
        assert "Traceback" not in text
        return text

    def snapshot(self) -> dict[str, Any]:
        """Checksums of the whole database (see `snapshot`)."""
        return snapshot(self.engine)

    def st_state(self) -> list[dict[str, Any]]:
        """Record counts and changes of the simulated ServiceTitan tenants."""
        return self.sim.system("servicetitan").stats()["tenants"]

    def scalar(self, sql: str, **params: Any) -> Any:
        with self.engine.connect() as conn:
            return conn.execute(sa.text(sql), params).scalar()

    def rows(self, sql: str, **params: Any) -> list[dict[str, Any]]:
        with self.engine.connect() as conn:
            return [dict(r._mapping) for r in conn.execute(sa.text(sql), params)]


@pytest.fixture(scope="module")
def make_world(
    pg_server: EmbeddedServer, st_sim: SimulatorServer, seeded_template: str
) -> Iterator[Callable[..., World]]:
    """Build a `World` on a fresh clone of the seeded database (settings overridable)."""
    admin = _admin(pg_server)
    created: list[tuple[str, sa.Engine, ToolContext]] = []

    def make(**overrides: Any) -> World:
        name = f"t_tools_{uuid.uuid4().hex[:10]}"
        with admin.connect() as conn:
            conn.execute(sa.text(f'create database "{name}" template "{seeded_template}"'))
        url = _url(pg_server, name)
        engine = create_engine(url)
        settings = settings_for(st_sim, url, **overrides)
        context = ToolContext.from_settings(settings, engine)
        created.append((name, engine, context))
        return World(st_sim, engine, context, build_server(context), settings.st_tenant_ids[0])

    yield make
    for name, engine, context in created:
        context.close()
        engine.dispose()
        with admin.connect() as conn:
            conn.execute(sa.text(f'drop database if exists "{name}" with (force)'))
    admin.dispose()


@pytest.fixture(scope="module")
def world(make_world: Callable[..., World]) -> World:
    """A seeded database with an MCP server over it and the session's simulator, shared by
    the tests of a module (each test works on records of its own)."""
    return make_world()
