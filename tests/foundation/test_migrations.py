"""Migrations go up, down and up again; upgrading a current database changes nothing."""

from __future__ import annotations

import sqlalchemy as sa
from typer.testing import CliRunner

from perfect_catch.cli import app
from perfect_catch.warehouse import migrate

SCHEMAS = {"servicetitan", "pricebook", "integrations", "automation"}


def _schemas(engine: sa.Engine) -> set[str]:
    with engine.connect() as conn:
        return set(conn.execute(sa.text("select nspname from pg_namespace")).scalars())


def _tables(engine: sa.Engine) -> set[str]:
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text(
                "select table_schema || '.' || table_name from information_schema.tables "
                "where table_schema not in ('pg_catalog', 'information_schema')"
            )
        )
        return set(rows.scalars())


def test_up_down_up(engine: sa.Engine) -> None:
    assert migrate.current_revision(engine) == migrate.head_revision()
    at_head = _tables(engine)
    assert {"public.sync_state", "public.sync_rejects"} <= at_head
    assert _schemas(engine) >= SCHEMAS

    migrate.downgrade(engine, "base")
    assert migrate.current_revision(engine) is None
    assert not SCHEMAS & _schemas(engine)
    assert _tables(engine) == {"public.alembic_version"}

    migrate.upgrade(engine)
    assert migrate.current_revision(engine) == migrate.head_revision()
    assert _tables(engine) == at_head


def test_cli_upgrade_is_idempotent(engine: sa.Engine) -> None:
    runner = CliRunner()
    first = runner.invoke(app, ["db", "upgrade"])
    second = runner.invoke(app, ["db", "upgrade"])
    assert first.exit_code == 0, first.output
    assert second.exit_code == 0, second.output
    assert f"database at {migrate.head_revision()}" in second.output
    assert "(was" not in second.output
