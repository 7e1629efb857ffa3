"""Migration 0005 creates the messaging tables and its downgrade removes exactly them."""

from __future__ import annotations

import sqlalchemy as sa

from perfect_catch.warehouse import migrate

TABLES = {
    "automation.outbox",
    "automation.messaging_messages",
    "automation.messaging_opt_outs",
    "automation.messaging_delivery_events",
}


def _tables(engine: sa.Engine) -> set[str]:
    with engine.connect() as conn:
        return set(
            conn.execute(
                sa.text(
                    "select table_schema || '.' || table_name from information_schema.tables"
                    " where table_schema = 'automation'"
                )
            ).scalars()
        )


def test_messaging_migration_down_and_up(engine: sa.Engine) -> None:
    assert _tables(engine) >= TABLES
    migrate.downgrade(engine, "0004_readonly_role")
    assert not TABLES & _tables(engine)
    migrate.upgrade(engine)
    assert _tables(engine) >= TABLES
