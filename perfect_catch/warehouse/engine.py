"""The SQLAlchemy engine of the warehouse, from `DATABASE_URL` or the embedded server.

The platform speaks psycopg 3 (`postgresql+psycopg://`), which gives fast COPY; Dagster's own
storage needs psycopg2 (`postgresql+psycopg2://`), so both forms are derived from one URL here.
"""

from __future__ import annotations

import threading
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import URL, make_url

from perfect_catch.settings import Settings


def _with_driver(url: str, driver: str) -> str:
    parsed = make_url(url)
    return parsed.set(drivername=f"postgresql+{driver}").render_as_string(hide_password=False)


def base_url(settings: Settings) -> str:
    """The warehouse URL as configured, starting the embedded server when none is configured."""
    if settings.database_url:
        return settings.database_url
    from perfect_catch.warehouse.embedded import ensure_server

    return ensure_server(settings.home).uri


def sqlalchemy_url(settings: Settings) -> str:
    """URL for the platform's own engine (psycopg 3)."""
    return _with_driver(base_url(settings), "psycopg")


def dagster_storage_url(settings: Settings) -> str:
    """URL for Dagster's run, event and schedule storage (psycopg2)."""
    return _with_driver(base_url(settings), "psycopg2")


def safe_url(url: str) -> str:
    """A URL fit for logs and errors: the password is masked."""
    return make_url(url).render_as_string(hide_password=True)


def create_engine(url: str | URL) -> sa.Engine:
    """An engine with the pool settings the platform uses everywhere. Its errors never quote
    a statement's parameters (`hide_parameters`): they hold customers' phones and emails, and
    errors reach logs and incidents."""
    return sa.create_engine(
        url, pool_pre_ping=True, pool_size=5, max_overflow=5, hide_parameters=True
    )


_engines: dict[tuple[str | None, Path], sa.Engine] = {}
_engines_lock = threading.Lock()


def get_engine(settings: Settings) -> sa.Engine:
    """The process-wide engine of the configured warehouse, one per database, so every caller in
    the process shares its pool."""
    key = (settings.database_url, settings.home)
    with _engines_lock:
        engine = _engines.get(key)
        if engine is None:
            engine = _engines[key] = create_engine(sqlalchemy_url(settings))
    return engine


def dispose_engines() -> None:
    """Close every engine `get_engine` made and forget them (e.g. when a database is dropped)."""
    with _engines_lock:
        engines = list(_engines.values())
        _engines.clear()
    for engine in engines:
        engine.dispose()
