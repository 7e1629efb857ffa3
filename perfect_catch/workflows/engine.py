"""The workflow engine: events become instances, instances run their due steps.

Matching: each new event is compared with the enabled definitions of its type (trigger
conditions included) and recorded as one instance per (definition, event); the unique
constraint makes a second look at the same event a no-op.

Running (`run_instance`): under an advisory lock per instance, the next step is taken while it
is due. Before every step the workflow's `conditions` are evaluated again against the warehouse,
so a sold estimate or an opt-out stops the remaining steps. Each step is recorded in
`workflow_step_runs` (unique per instance and step), which is what keeps a re-run from doing a
step twice:

- transactional steps (messages, waits) write their outbox row and their step run in one
  transaction: either both exist or neither does;
- other steps are claimed (a `running` step run, committed) before their call. A crash leaves
  the claim behind: a repeatable step (idempotent on the other side) runs again, any other step
  fails the instance instead of being repeated.
"""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import sqlalchemy as sa

from perfect_catch.settings import Settings
from perfect_catch.workflows import conditions, events
from perfect_catch.workflows.definitions import (
    StoredWorkflow,
    WorkflowDefinition,
    load_definitions,
    stored_workflow,
    stored_workflows,
    sync_definitions,
)
from perfect_catch.workflows.placeholders import PlaceholderError
from perfect_catch.workflows.runtime import Instance, Services, StepRun, check_scope
from perfect_catch.workflows.steps import KINDS, RetryableStepError, StepFailure, StepOutcome
from perfect_catch.workflows.templates import TemplateError

log = logging.getLogger(__name__)

TERMINAL = frozenset({"completed", "stopped", "failed"})
RETRY_DELAYS = (timedelta(minutes=1), timedelta(minutes=5), timedelta(minutes=30))
#: Failures whose message is ours and safe to record; anything else is logged, not echoed.
_EXPLAINED = (StepFailure, TemplateError, PlaceholderError, RetryableStepError)


@dataclass
class StepReport:
    key: str
    type: str
    status: str
    detail: str | None = None


@dataclass
class InstanceResult:
    """Where an instance stands after `run_instance`."""

    instance_id: int
    status: str
    steps: list[StepReport] = field(default_factory=list)
    next_step: str | None = None
    next_run_at: datetime | None = None
    note: str | None = None


@dataclass
class MatchResult:
    """What one pass over new events did. `instances`: ids to run (new or still pending)."""

    cursor: int
    events: int = 0
    instances: list[int] = field(default_factory=list)
    created: int = 0
    skipped_backfill: int = 0


# --- matching ----------------------------------------------------------------------------------


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
    config = settings.workflows
    now = now or datetime.now(UTC)
    with engine.begin() as conn:
        batch = events.read_events(conn, after_seq, limit or config.workflow_event_batch)
        result = MatchResult(cursor=batch[-1].event_seq if batch else after_seq, events=len(batch))
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


def due_instances(
    engine: sa.Engine, now: datetime | None = None, limit: int = 200
) -> list[dict[str, Any]]:
    """Instances of enabled workflows whose next step is due: id, next_step, next_run_at."""
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text(
                "select i.id, i.next_step, i.next_run_at, i.status"
                " from automation.workflow_instances i"
                " join automation.workflow_definitions d on d.name = i.definition_name"
                " where i.status in ('pending', 'waiting') and not i.paused"
                " and d.enabled and d.removed_at is null and i.next_run_at <= :now"
                " order by i.next_run_at, i.id limit :limit"
            ),
            {"now": now or datetime.now(UTC), "limit": limit},
        ).mappings()
        return [dict(row) for row in rows]


# --- running -----------------------------------------------------------------------------------


class _Lock:
    """A session advisory lock on one instance, so two runs never interleave its steps."""

    def __init__(self, engine: sa.Engine, instance_id: int) -> None:
        self.conn = engine.connect()
        self.key = f"workflow_instance:{instance_id}"
        self.held = bool(
            self.conn.execute(
                sa.text("select pg_try_advisory_lock(hashtextextended(:k, 0))"), {"k": self.key}
            ).scalar()
        )
        self.conn.commit()

    def release(self) -> None:
        try:
            if self.held:
                self.conn.execute(
                    sa.text("select pg_advisory_unlock(hashtextextended(:k, 0))"), {"k": self.key}
                )
                self.conn.commit()
        finally:
            self.conn.close()


def _json(value: Any) -> str:
    return orjson.dumps(value, default=str).decode()


def _update(conn: sa.Connection, instance_id: int, **values: Any) -> None:
    sets = ", ".join(f"{name} = :{name}" for name in values)
    conn.execute(
        sa.text(
            f"update automation.workflow_instances set {sets}, updated_at = now() where id = :id"
        ),
        {**values, "id": instance_id},
    )


def _finish(conn: sa.Connection, instance_id: int, status: str, reason: str | None) -> None:
    column = "last_error" if status == "failed" else "stop_reason"
    conn.execute(
        sa.text(
            f"update automation.workflow_instances set status = :status, {column} = :reason,"
            " next_run_at = null, finished_at = now(), updated_at = now() where id = :id"
        ),
        {"status": status, "reason": reason, "id": instance_id},
    )


def _advance(
    conn: sa.Connection,
    instance: Instance,
    workflow: WorkflowDefinition,
    key: str,
    resume_at: datetime | None,
    now: datetime,
) -> None:
    following = workflow.step_after(key)
    if following is None:
        conn.execute(
            sa.text(
                "update automation.workflow_instances set status = 'completed', next_step = null,"
                " next_run_at = null, finished_at = now(), updated_at = now() where id = :id"
            ),
            {"id": instance.id},
        )
        return
    _update(
        conn,
        instance.id,
        status="waiting",
        next_step=following.key,
        next_run_at=max(resume_at or now, now),
    )


def _step_run(conn: sa.Connection, instance_id: int, key: str) -> sa.RowMapping | None:
    return (
        conn.execute(
            sa.text(
                "select status, attempt, result from automation.workflow_step_runs"
                " where instance_id = :i and step_key = :k"
            ),
            {"i": instance_id, "k": key},
        )
        .mappings()
        .first()
    )


def _claim(conn: sa.Connection, instance_id: int, step: Any, now: datetime) -> int | None:
    """Mark the step `running` (new, or again after a failure / interruption); its attempt
    number, or None when it has already succeeded or been skipped."""
    return conn.execute(
        sa.text(
            "insert into automation.workflow_step_runs as r (instance_id, step_key, step_type,"
            " status, started_at) values (:i, :k, :t, 'running', :now)"
            " on conflict (instance_id, step_key) do update set status = 'running',"
            " attempt = r.attempt + 1, started_at = excluded.started_at, error = null,"
            " finished_at = null where r.status in ('running', 'failed') returning attempt"
        ),
        {"i": instance_id, "k": step.key, "t": step.type, "now": now},
    ).scalar()


def _record(
    conn: sa.Connection,
    instance_id: int,
    step: Any,
    status: str,
    result: Any,
    error: str | None,
    now: datetime,
) -> None:
    """Write a step's outcome; times are the engine's clock, which conditions compare with."""
    conn.execute(
        sa.text(
            "insert into automation.workflow_step_runs as r (instance_id, step_key, step_type,"
            " status, started_at, finished_at, result, error) values (:i, :k, :t, :status,"
            " :now, :now, cast(:result as jsonb), :error) on conflict (instance_id, step_key)"
            " do update set status = excluded.status, finished_at = excluded.finished_at,"
            " result = excluded.result, error = excluded.error"
        ),
        {
            "i": instance_id,
            "k": step.key,
            "t": step.type,
            "status": status,
            "result": _json(result),
            "error": error,
            "now": now,
        },
    )


def _messages_sent(conn: sa.Connection, instance_id: int) -> int:
    return int(
        conn.execute(
            sa.text(
                "select count(*) from automation.workflow_step_runs where instance_id = :i"
                " and step_type in ('send_sms', 'send_email') and status = 'succeeded'"
            ),
            {"i": instance_id},
        ).scalar_one()
    )


def _describe(error: Exception) -> str:
    if isinstance(error, _EXPLAINED):
        return str(error)
    return f"unexpected {type(error).__name__}; the details are in the server log"


def run_instance(
    engine: sa.Engine,
    instance_id: int,
    now: datetime | None = None,
    *,
    services: Services,
) -> InstanceResult:
    """Run the due steps of one instance and say where it stands afterwards (the caller owns
    `services` and closes them)."""
    lock = _Lock(engine, instance_id)
    try:
        if not lock.held:
            return InstanceResult(instance_id, "busy", note="another run holds this instance")
        return _run(engine, instance_id, now, services)
    finally:
        lock.release()


def _run(
    engine: sa.Engine, instance_id: int, now: datetime | None, services: Services
) -> InstanceResult:
    result = InstanceResult(instance_id, "unknown")
    for _ in range(services.config.workflow_max_steps_per_run):
        moment = now or datetime.now(UTC)
        if not _one_step(engine, instance_id, moment, services, result):
            break
    with engine.connect() as conn:
        instance = Instance.load(conn, instance_id)
    if instance is None:
        raise LookupError(f"workflow instance {instance_id} does not exist")
    result.status = instance.status
    result.next_step = instance.next_step
    result.next_run_at = instance.next_run_at
    return result


def _one_step(
    engine: sa.Engine,
    instance_id: int,
    now: datetime,
    services: Services,
    result: InstanceResult,
) -> bool:
    """Take the next step if it is due; True when the loop should look again."""
    with engine.begin() as conn:
        instance = Instance.load(conn, instance_id, lock=True)
        if instance is None or instance.status in TERMINAL:
            return False
        if instance.paused:
            result.note = "paused"
            return False
        stored = stored_workflow(conn, instance.definition_name)
        if stored is None:
            _finish(conn, instance.id, "failed", "its workflow definition was removed")
            return False
        if not stored.enabled:
            result.note = "workflow disabled"
            return False
        workflow = stored.definition
        step = workflow.step(instance.next_step)
        if step is None:
            if instance.next_step is None:
                _finish(conn, instance.id, "completed", None)
            else:
                _finish(
                    conn,
                    instance.id,
                    "failed",
                    f"step {instance.next_step!r} no longer exists in workflow {workflow.name!r}",
                )
            return False
        if instance.next_run_at is not None and instance.next_run_at > now:
            if instance.status != "waiting":
                _update(conn, instance.id, status="waiting")
            return False
        kind = KINDS[step.type]
        previous = _step_run(conn, instance.id, step.key)
        if previous is not None and previous["status"] in ("succeeded", "skipped"):
            resume = (previous["result"] or {}).get("until")
            resume_at = datetime.fromisoformat(resume) if resume else None
            _advance(conn, instance, workflow, step.key, resume_at, now)
            return True
        if previous is not None and previous["status"] == "running" and not kind.repeatable:
            message = (
                f"step {step.key!r} ({step.type}) was interrupted before its outcome was "
                "recorded; it is not repeated, since its side effect may already have happened"
            )
            _record(conn, instance.id, step, "failed", {}, message, now)
            _finish(conn, instance.id, "failed", message)
            result.steps.append(StepReport(step.key, step.type, "failed", message))
            return False
        scope = check_scope(instance, now, services.config)
        context = instance.context()
        verdict = conditions.evaluate(workflow.conditions, context, conn, scope)
        if not verdict.ok:
            _finish(conn, instance.id, "stopped", f"condition no longer holds: {verdict.failed}")
            return False
        limit = workflow.max_messages if kind.sends_message else None
        if limit is not None and _messages_sent(conn, instance.id) >= limit:
            _finish(conn, instance.id, "stopped", f"sent {limit} messages (max_messages)")
            return False
        when = conditions.evaluate(step.when, context, conn, scope)
        if not when.ok:
            _record(
                conn, instance.id, step, "skipped", {"reason": f"when: {when.failed}"}, None, now
            )
            result.steps.append(StepReport(step.key, step.type, "skipped", when.failed))
            _advance(conn, instance, workflow, step.key, None, now)
            return True
        attempt = _claim(conn, instance.id, step, now)
        if attempt is None:
            return True
        if kind.transactional:
            savepoint = conn.begin_nested()
            try:
                outcome = kind.execute(StepRun(conn, instance, workflow, step, now, services))
                savepoint.commit()
            except Exception as error:
                savepoint.rollback()
                _failed(conn, instance, step, kind.repeatable, attempt, error, now, result)
                return False
            _succeeded(conn, instance, workflow, step, outcome, now, result)
            return True
    return _external(engine, instance, workflow, step, attempt, now, services, result)


def _external(
    engine: sa.Engine,
    instance: Instance,
    workflow: WorkflowDefinition,
    step: Any,
    attempt: int,
    now: datetime,
    services: Services,
    result: InstanceResult,
) -> bool:
    """Run a step that talks to the outside world, its claim already committed."""
    kind = KINDS[step.type]
    try:
        with engine.connect() as read:
            outcome = kind.execute(StepRun(read, instance, workflow, step, now, services))
    except Exception as error:
        with engine.begin() as conn:
            _failed(conn, instance, step, kind.repeatable, attempt, error, now, result)
        return False
    with engine.begin() as conn:
        _succeeded(conn, instance, workflow, step, outcome, now, result)
    return True


def _succeeded(
    conn: sa.Connection,
    instance: Instance,
    workflow: WorkflowDefinition,
    step: Any,
    outcome: StepOutcome,
    now: datetime,
    result: InstanceResult,
) -> None:
    recorded = dict(outcome.result)
    if outcome.resume_at is not None:
        recorded["until"] = outcome.resume_at.isoformat()
    _record(conn, instance.id, step, outcome.status, recorded, None, now)
    if outcome.transcript is not None:
        conn.execute(
            sa.text(
                "update automation.workflow_instances set transcript = coalesce(transcript,"
                " '{}'::jsonb) || jsonb_build_object(cast(:key as text), cast(:t as jsonb))"
                " where id = :id"
            ),
            {"key": step.key, "t": _json(outcome.transcript), "id": instance.id},
        )
    result.steps.append(StepReport(step.key, step.type, outcome.status, recorded.get("reason")))
    _advance(conn, instance, workflow, step.key, outcome.resume_at, now)


def _failed(
    conn: sa.Connection,
    instance: Instance,
    step: Any,
    repeatable: bool,
    attempt: int,
    error: Exception,
    now: datetime,
    result: InstanceResult,
) -> None:
    message = _describe(error)
    if not isinstance(error, _EXPLAINED):
        log.exception("workflow instance %s step %s failed", instance.id, step.key)
    _record(conn, instance.id, step, "failed", {"attempt": attempt}, message, now)
    result.steps.append(StepReport(step.key, step.type, "failed", message))
    retry = isinstance(error, RetryableStepError) and repeatable
    if retry and attempt <= len(RETRY_DELAYS):
        _update(
            conn,
            instance.id,
            status="waiting",
            next_run_at=now + RETRY_DELAYS[attempt - 1],
            last_error=f"step {step.key!r}: {message}",
        )
        return
    _finish(conn, instance.id, "failed", f"step {step.key!r}: {message}")


# --- one pass, for the CLI and benchmarks -------------------------------------------------------

CURSOR_KEY = {"source": "workflows", "tenant_id": "all", "entity": "workflow_events"}


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


def read_cursor(engine: sa.Engine) -> int:
    with engine.connect() as conn:
        token = conn.execute(
            sa.text(
                "select continuation_token from public.sync_state where source = :source"
                " and tenant_id = :tenant_id and entity = :entity"
            ),
            CURSOR_KEY,
        ).scalar()
    return int(token) if token else 0


def save_cursor(engine: sa.Engine, cursor: int) -> None:
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "insert into public.sync_state (source, tenant_id, entity, continuation_token,"
                " updated_at) values (:source, :tenant_id, :entity, :token, now())"
                " on conflict (source, tenant_id, entity) do update set"
                " continuation_token = excluded.continuation_token, updated_at = now()"
            ),
            {**CURSOR_KEY, "token": str(cursor)},
        )


def sync_from_files(engine: sa.Engine, settings: Settings) -> dict[str, int]:
    """Validate the YAML workflows (WORKFLOWS_DIR) and mirror them into the table."""
    return sync_definitions(engine, load_definitions(settings.workflows.workflows_dir))


def _match_after_cursor(
    engine: sa.Engine, now: datetime | None, settings: Settings, summary: ProcessSummary
) -> list[int]:
    """Match every event after the engine's stored cursor (moving it); the instances to run."""
    cursor = read_cursor(engine)
    instances: list[int] = []
    while True:
        matched = match_events(engine, settings, after_seq=cursor, now=now)
        summary.events += matched.events
        summary.instances_created += matched.created
        instances += [i for i in matched.instances if i not in instances]
        if matched.cursor == cursor:
            break
        cursor = matched.cursor
        save_cursor(engine, cursor)
    summary.cursor = cursor
    return instances


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
        _match_after_cursor(engine, now, settings, summary)
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
    confirmation does not wait for the event sensor and a run of its own; the sensor reads the
    same events later and finds their instances already under way. Waits that fall due later
    stay with the due sensor. Returns the summary and the ids of the instances run.
    """
    services = Services(engine, settings)
    summary = ProcessSummary(definitions=sync_from_files(engine, settings))
    try:
        instances = _match_after_cursor(engine, now, settings, summary)
        for instance_id in instances:
            _run_counted(engine, instance_id, now, services, summary)
    finally:
        services.close()
    return summary, instances
