"""Whole passes of the engine: the run-once pass and the event lane's start of new workflows.

Both mirror the YAML definitions first, then match the events after the one stored cursor
(`progress.match_new_events`, the same walk as the `workflow_events` sensor's) before running
instances.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from perfect_catch.settings import Settings
from perfect_catch.workflows.definitions import load_definitions, sync_definitions
from perfect_catch.workflows.progress import match_new_events
from perfect_catch.workflows.running import due_instances, run_instance
from perfect_catch.workflows.runtime import Services


@dataclass
class ProcessSummary:
    """What `process_events_once` did."""

    definitions: dict[str, int] = field(default_factory=dict)
    events: int = 0
    instances_created: int = 0
    instances_run: int = 0
    steps: dict[str, int] = field(default_factory=dict)
    statuses: dict[str, int] = field(default_factory=dict)
    cursor: int = 0

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)

    def line(self) -> str:
        """One line for a CLI summary."""
        steps = ", ".join(f"{n} {status}" for status, n in sorted(self.steps.items()))
        states = ", ".join(f"{n} {status}" for status, n in sorted(self.statuses.items()))
        return (
            f"{self.events} new events, {self.instances_created} workflows started, "
            f"{self.instances_run} instances run ({states or 'none'}); "
            f"steps: {steps or 'none'}"
        )


def sync_from_files(engine: sa.Engine, settings: Settings) -> dict[str, int]:
    """Validate the YAML workflows (WORKFLOWS_DIR) and mirror them into the table."""
    return sync_definitions(engine, load_definitions(settings.workflows.workflows_dir))


def _match_new(
    engine: sa.Engine, now: datetime | None, settings: Settings, summary: ProcessSummary
) -> list[int]:
    """Match every event after the stored cursor (moving it); the instances to run."""
    matched = match_new_events(engine, settings, now=now)
    summary.events += matched.events
    summary.instances_created += matched.created
    summary.cursor = matched.cursor
    return matched.instances


def _run_counted(
    engine: sa.Engine,
    instance_id: int,
    now: datetime | None,
    services: Services,
    summary: ProcessSummary,
) -> None:
    outcome = run_instance(engine, instance_id, now, services=services)
    summary.instances_run += 1
    summary.statuses[outcome.status] = summary.statuses.get(outcome.status, 0) + 1
    for step in outcome.steps:
        summary.steps[step.status] = summary.steps.get(step.status, 0) + 1


def process_events_once(
    engine: sa.Engine,
    settings: Settings,
    now: datetime | None = None,
    *,
    services: Services | None = None,
) -> ProcessSummary:
    """Mirror the definitions, match every new event, then run every due instance once."""
    config = settings.workflows
    own_services = services is None
    services = services or Services(engine, settings)
    summary = ProcessSummary(definitions=sync_from_files(engine, settings))
    try:
        _match_new(engine, now, settings, summary)
        seen: set[int] = set()
        while True:
            due = [
                row
                for row in due_instances(engine, now, config.workflow_due_batch)
                if row["id"] not in seen
            ]
            if not due:
                break
            for row in due:
                seen.add(row["id"])
                _run_counted(engine, row["id"], now, services, summary)
    finally:
        if own_services:
            services.close()
    return summary


def start_new_instances(
    engine: sa.Engine,
    settings: Settings,
    now: datetime | None = None,
) -> tuple[ProcessSummary, list[int]]:
    """Match the events after the stored cursor and run the instances they start, at once.

    The event lane calls this right after building the events, so a new appointment's
    confirmation does not wait for the event sensor and a run of its own; the sensor walks the
    same cursor, so it finds these events already matched. Waits that fall due later stay with
    the due sensor. Returns the summary and the ids of the instances run.
    """
    services = Services(engine, settings)
    summary = ProcessSummary(definitions=sync_from_files(engine, settings))
    try:
        instances = _match_new(engine, now, settings, summary)
        for instance_id in instances:
            _run_counted(engine, instance_id, now, services, summary)
    finally:
        services.close()
    return summary, instances
