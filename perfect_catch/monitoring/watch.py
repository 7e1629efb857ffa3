"""Recording from the command line: each `run-once` stage and each entity of a `sync`.

Monitoring must never be what breaks a sync: when it cannot record (the database itself is
down), it logs a scrubbed warning and the command goes on to report the original failure.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa

from perfect_catch.monitoring.recording import Monitor
from perfect_catch.monitoring.scrub import Scrubber
from perfect_catch.settings import Settings

log = logging.getLogger(__name__)

#: Stages whose failures are recorded further down, per entity (`sync_cli`), not as a whole.
RECORDED_PER_ENTITY = frozenset({"servicetitan"})


def safely(settings: Settings, action: Callable[[], Any]) -> Any:
    """Run a recording action; a failure of monitoring itself is logged, not raised."""
    try:
        return action()
    except Exception as error:
        scrub = Scrubber.from_settings(settings)
        log.warning(
            "monitoring could not record: %s", scrub.text(f"{type(error).__name__}: {error}")
        )
        return None


def watched_stage(
    settings: Settings, name: str, stage: Callable[[Settings], str], run_id: str
) -> str:
    """Run one `run-once` stage and record its outcome under source `name`."""
    try:
        summary = stage(settings)
    except Exception as error:
        if name not in RECORDED_PER_ENTITY:
            safely(
                settings,
                lambda error=error: _monitor(settings).failure(
                    source=name, error=error, run_id=run_id
                ),
            )
        raise
    if name not in RECORDED_PER_ENTITY and not summary.startswith("skipped"):
        safely(settings, lambda: _monitor(settings).success(source=name, run_id=run_id))
    return summary


def _monitor(settings: Settings, engine: sa.Engine | None = None) -> Monitor:
    from perfect_catch.warehouse.engine import get_engine

    return Monitor(engine or get_engine(settings), settings)


def entity_monitor(settings: Settings, engine: sa.Engine) -> Monitor:
    """The monitor a `sync` records each entity's outcome with."""
    return Monitor(engine, settings)
