"""The SQLAlchemy engine of the warehouse, from `DATABASE_URL` or the embedded server.

The platform speaks psycopg 3 (`postgresql+psycopg://`), which gives fast COPY; Dagster's own
storage needs psycopg2 (`postgresql+psycopg2://`), so both forms are derived from one URL here.
"""

from __future__ import annotations

import functools

import sqlalchemy as sa
from sqlalchemy.engine import URL, make_url

from perfect_catch.settings import Settings, get_settings


def _with_driver(url: str, driver: str) -> str:
    parsed = make_url(url)
    return parsed.set(drivername=f"postgresql+{driver}").render_as_string(hide_password=False)


def base_url(settings: Settings | None = None) -> str:
    """The warehouse URL as configured, starting the embedded server when none is configured."""
    settings = settings or get_settings()
    if settings.database_url:
        return settings.database_url
    from perfect_catch.warehouse.embedded import ensure_server

    return ensure_server(settings.home).uri


def sqlalchemy_url(settings: Settings | None = None) -> str:
    """URL for the platform's own engine (psycopg 3)."""
    return _with_driver(base_url(settings), "psycopg")


def dagster_storage_url(settings: Settings | None = None) -> str:
    """URL for Dagster's run, event and schedule storage (psycopg2)."""
    return _with_driver(base_url(settings), "psycopg2")


def safe_url(url: str) -> str:
    """A URL fit for logs and errors: the password is masked."""
    return make_url(url).render_as_string(hide_password=True)


def create_engine(url: str | URL) -> sa.Engine:
    """An engine with the pool settings the platform uses everywhere."""
    return sa.create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=5)


@functools.cache
def get_engine() -> sa.Engine:
    """The process-wide warehouse engine (cached; `get_engine.cache_clear()` in tests)."""
    return create_engine(sqlalchemy_url())
