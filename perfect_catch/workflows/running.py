"""Running an instance: under an advisory lock, the next step is taken while it is due.

Before every step the workflow's `conditions` are evaluated again against the warehouse, so a
sold estimate or an opt-out stops the remaining steps. Each step is recorded in
`workflow_step_runs` (unique per instance and step), which is what keeps a re-run from doing a
step twice:

- transactional steps (messages, waits) write their outbox row and their step run in one
  transaction: either both exist or neither does;
- other steps are claimed (a `running` step run, committed) before their call. A crash leaves
  the claim behind: a repeatable step (idempotent on the other side) runs again, any other step
  fails the instance instead of being repeated.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from perfect_catch.workflows import conditions
from perfect_catch.workflows.definitions import WorkflowDefinition, stored_workflow
from perfect_catch.workflows.runtime import Instance, Services, StepRun, check_scope
from perfect_catch.workflows.step_outcomes import (
    InstanceResult,
    StepReport,
    step_failed,
    step_succeeded,
)
from perfect_catch.workflows.step_records import (
    InstanceLock,
    advance_instance,
    claim_step,
    finish_instance,
    messages_sent,
    record_step,
    step_run,
    update_instance,
)
from perfect_catch.workflows.steps import KINDS

TERMINAL = frozenset({"completed", "stopped", "failed"})


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


def run_instance(
    engine: sa.Engine,
    instance_id: int,
    now: datetime | None = None,
    *,
    services: Services,
) -> InstanceResult:
    """Run the due steps of one instance and say where it stands afterwards (the caller owns
    `services` and closes them)."""
    lock = InstanceLock(engine, instance_id)
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
            finish_instance(conn, instance.id, "failed", "its workflow definition was removed")
            return False
        if not stored.enabled:
            result.note = "workflow disabled"
            return False
        workflow = stored.definition
        step = workflow.step(instance.next_step)
        if step is None:
            if instance.next_step is None:
                finish_instance(conn, instance.id, "completed", None)
            else:
                finish_instance(
                    conn,
                    instance.id,
                    "failed",
                    f"step {instance.next_step!r} no longer exists in workflow {workflow.name!r}",
                )
            return False
        if instance.next_run_at is not None and instance.next_run_at > now:
            if instance.status != "waiting":
                update_instance(conn, instance.id, status="waiting")
            return False
        kind = KINDS[step.type]
        previous = step_run(conn, instance.id, step.key)
        if previous is not None and previous["status"] in ("succeeded", "skipped"):
            resume = (previous["result"] or {}).get("until")
            resume_at = datetime.fromisoformat(resume) if resume else None
            advance_instance(conn, instance, workflow, step.key, resume_at, now)
            return True
        if previous is not None and previous["status"] == "running" and not kind.repeatable:
            message = (
                f"step {step.key!r} ({step.type}) was interrupted before its outcome was "
                "recorded; it is not repeated, since its side effect may already have happened"
            )
            record_step(conn, instance.id, step, "failed", {}, message, now)
            finish_instance(conn, instance.id, "failed", message)
            result.steps.append(StepReport(step.key, step.type, "failed", message))
            return False
        scope = check_scope(instance, now, services.config)
        context = instance.context()
        verdict = conditions.evaluate(workflow.conditions, context, conn, scope)
        if not verdict.ok:
            finish_instance(
                conn, instance.id, "stopped", f"condition no longer holds: {verdict.failed}"
            )
            return False
        limit = workflow.max_messages if kind.sends_message else None
        if limit is not None and messages_sent(conn, instance.id) >= limit:
            finish_instance(conn, instance.id, "stopped", f"sent {limit} messages (max_messages)")
            return False
        when = conditions.evaluate(step.when, context, conn, scope)
        if not when.ok:
            record_step(
                conn, instance.id, step, "skipped", {"reason": f"when: {when.failed}"}, None, now
            )
            result.steps.append(StepReport(step.key, step.type, "skipped", when.failed))
            advance_instance(conn, instance, workflow, step.key, None, now)
            return True
        attempt = claim_step(conn, instance.id, step, now)
        if attempt is None:
            return True
        if kind.transactional:
            savepoint = conn.begin_nested()
            try:
                outcome = kind.execute(StepRun(conn, instance, workflow, step, now, services))
                savepoint.commit()
            except Exception as error:
                savepoint.rollback()
                step_failed(conn, instance, step, kind.repeatable, attempt, error, now, result)
                return False
            step_succeeded(conn, instance, workflow, step, outcome, now, result)
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
            step_failed(conn, instance, step, kind.repeatable, attempt, error, now, result)
        return False
    with engine.begin() as conn:
        step_succeeded(conn, instance, workflow, step, outcome, now, result)
    return True
