"""Schema migrations: `perfect-catch db upgrade` and friends, on Alembic.

Upgrading twice is a no-op. A transaction-level advisory lock keeps two processes that upgrade at
once from racing each other.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, text

_INI = Path(__file__).with_name("alembic.ini")
_LOCK_KEY = 746_221_001  # advisory lock id reserved for migrations


def _config(connection) -> Config:
    config = Config(str(_INI))
    config.attributes["connection"] = connection
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the database to `revision` (default: the newest)."""
    with engine.begin() as conn:
        conn.execute(text("select pg_advisory_xact_lock(:k)"), {"k": _LOCK_KEY})
        command.upgrade(_config(conn), revision)


def downgrade(engine: Engine, revision: str) -> None:
    """Take the database back to `revision` (`base` removes everything the migrations made)."""
    with engine.begin() as conn:
        conn.execute(text("select pg_advisory_xact_lock(:k)"), {"k": _LOCK_KEY})
        command.downgrade(_config(conn), revision)


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at, or None before the first upgrade."""
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def head_revision() -> str:
    """The newest revision this code knows."""
    head = ScriptDirectory.from_config(Config(str(_INI))).get_current_head()
    assert head is not None
    return head
