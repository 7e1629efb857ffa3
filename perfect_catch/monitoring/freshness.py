"""How old a source's data may be: its freshness policy, matched to the schedule that syncs it.

A sync that runs every five minutes is late after a few missed runs, one that runs hourly only
after a few hours; so the limit is three schedule intervals, and never under an hour (a
single slow full refresh must not alarm). Dagster's `FreshnessPolicy` on the assets and
`perfect-catch health` (which reads PostgreSQL only) use these same windows.
"""

from __future__ import annotations

import re
from datetime import timedelta

from perfect_catch.settings import Settings

MIN_WINDOW = timedelta(hours=1)
MISSED_RUNS = 3
#: The sources kept fresh by a schedule (the others are stages, not data).
SYNC_SOURCES = ("servicetitan", "gohighlevel", "callrail")

_STEP = re.compile(r"^(?:\*|\d+-\d+)/(\d+)$")


def cron_interval(cron: str) -> timedelta:
    """The interval between runs of a cron expression (its minute and hour fields)."""
    fields = cron.split()
    if len(fields) != 5:
        raise ValueError(f"not a five-field cron expression: {cron!r}")
    minute, hour = fields[0], fields[1]
    if minute == "*":
        return timedelta(minutes=1)
    step = _STEP.match(minute)
    if step:
        return timedelta(minutes=int(step.group(1)))
    if "," in minute:
        return timedelta(minutes=60 / len(minute.split(",")))
    if hour == "*":
        return timedelta(hours=1)
    step = _STEP.match(hour)
    if step:
        return timedelta(hours=int(step.group(1)))
    return timedelta(days=1)


def fail_window(source: str, settings: Settings) -> timedelta | None:
    """The age past which `source`'s data is stale, or None for what no schedule keeps fresh."""
    crons = {
        "servicetitan": settings.st_incremental_cron,
        "gohighlevel": settings.integrations.ghl_sync_cron,
        "callrail": settings.integrations.callrail_sync_cron,
    }
    cron = crons.get(source)
    if cron is None:
        return None
    return max(MIN_WINDOW, MISSED_RUNS * cron_interval(cron))
