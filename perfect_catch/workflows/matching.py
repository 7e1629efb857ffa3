"""Matching: events become workflow instances.

Each event is compared with the enabled definitions of its type (trigger conditions included)
and recorded as one instance per (definition, event); the unique constraint makes a second look
at the same event a no-op. Which events are looked at is the caller's choice: the production
paths walk the one stored cursor (`workflows.progress`).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import UTC, datetime

import orjson
import sqlalchemy as sa

from perfect_catch.settings import Settings
from perfect_catch.workflows import conditions, events
from perfect_catch.workflows.definitions import StoredWorkflow, stored_workflows
from perfect_catch.workflows.runtime import Instance, check_scope


@dataclass
class MatchResult:
    """What one pass over new events did. `instances`: ids to run (new or still pending);
    `since` and `cursor`: the position before and after it."""

    cursor: int
    since: int = 0
    events: int = 0
    instances: list[int] = field(default_factory=list)
    created: int = 0
    skipped_backfill: int = 0


def _event_instance(event: events.Event) -> Instance:
    """An unsaved instance view of an event, for evaluating trigger conditions."""
    return Instance(
        id=0,
        definition_name="",
        definition_version="",
        event_id=event.event_id,
        event_type=event.event_type,
        occurred_at=event.occurred_at,
        tenant_id=event.tenant_id,
        customer_id=event.customer_id,
        job_id=event.job_id,
        estimate_id=event.estimate_id,
        invoice_id=event.invoice_id,
        appointment_id=event.appointment_id,
        payload=event.payload,
        status="pending",
        next_step=None,
        next_run_at=None,
        paused=False,
        transcript=None,
    )


def match_events(
    engine: sa.Engine,
    settings: Settings,
    *,
    after_seq: int,
    limit: int | None = None,
    now: datetime | None = None,
) -> MatchResult:
    """Record instances for the events after `after_seq` that start an enabled workflow."""
    with engine.begin() as conn:
        return match_batch(conn, settings, after_seq=after_seq, limit=limit, now=now)


def match_batch(
    conn: sa.Connection,
    settings: Settings,
    *,
    after_seq: int,
    limit: int | None = None,
    now: datetime | None = None,
) -> MatchResult:
    """`match_events` inside the caller's transaction (the cursor's, in `workflows.progress`)."""
    config = settings.workflows
    now = now or datetime.now(UTC)
    batch = events.read_events(conn, after_seq, limit or config.workflow_event_batch)
    result = MatchResult(
        cursor=batch[-1].event_seq if batch else after_seq, since=after_seq, events=len(batch)
    )
    if not batch:
        return result
    by_event: dict[str, list[StoredWorkflow]] = {}
    for workflow in stored_workflows(conn):
        by_event.setdefault(workflow.definition.trigger.event, []).append(workflow)
    for event in batch:
        for workflow in by_event.get(event.event_type, []):
            trigger = workflow.definition.trigger
            skip = config.workflow_skip_backfill and not trigger.include_backfill
            if event.is_backfill and skip:
                result.skipped_backfill += 1
                continue
            view = _event_instance(event)
            scope = dataclasses.replace(check_scope(view, now, config), instance_id=None)
            verdict = conditions.evaluate(trigger.conditions, view.context(), conn, scope)
            if not verdict.ok:
                continue
            instance_id, created = _record_instance(conn, workflow, event, now)
            result.created += int(created)
            if instance_id is not None:
                result.instances.append(instance_id)
    return result


def _record_instance(
    conn: sa.Connection, workflow: StoredWorkflow, event: events.Event, now: datetime
) -> tuple[int | None, bool]:
    """(id, created): the new instance, or an existing one still waiting for its first run."""
    new_id = conn.execute(
        sa.text(
            "insert into automation.workflow_instances (definition_name, definition_version,"
            " event_id, event_seq, event_type, occurred_at, tenant_id, customer_id, job_id,"
            " estimate_id, invoice_id, appointment_id, payload, status, next_step, next_run_at,"
            " created_at, updated_at) values (:name, :version, :event_id, :seq, :type,"
            " :occurred, :tenant, :customer, :job, :estimate, :invoice, :appointment,"
            " cast(:payload as jsonb), 'pending', :step, :now, :now, :now)"
            " on conflict (definition_name, event_id) do nothing returning id"
        ),
        {
            "name": workflow.name,
            "version": workflow.version,
            "event_id": event.event_id,
            "seq": event.event_seq,
            "type": event.event_type,
            "occurred": event.occurred_at,
            "tenant": event.tenant_id,
            "customer": event.customer_id,
            "job": event.job_id,
            "estimate": event.estimate_id,
            "invoice": event.invoice_id,
            "appointment": event.appointment_id,
            "payload": orjson.dumps(event.payload, default=str).decode(),
            "step": workflow.definition.steps[0].key,
            "now": now,
        },
    ).scalar()
    if new_id is not None:
        return int(new_id), True
    pending = conn.execute(
        sa.text(
            "select id from automation.workflow_instances where definition_name = :name"
            " and event_id = :event_id and status = 'pending'"
        ),
        {"name": workflow.name, "event_id": event.event_id},
    ).scalar()
    return (None if pending is None else int(pending)), False
