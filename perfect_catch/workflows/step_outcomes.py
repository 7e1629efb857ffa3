"""What a step's success or failure does to its instance: recorded, advanced, retried, failed.

A retryable failure (`RetryableStepError` from a repeatable step) waits `RETRY_DELAYS` and runs
the step again; any other failure ends the instance. Only failures whose message is ours are
recorded as they are; anything else is logged and recorded as "unexpected".
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from perfect_catch.workflows.definitions import WorkflowDefinition
from perfect_catch.workflows.placeholders import PlaceholderError
from perfect_catch.workflows.runtime import Instance
from perfect_catch.workflows.step_records import (
    advance_instance,
    as_json,
    finish_instance,
    record_step,
    update_instance,
)
from perfect_catch.workflows.steps import RetryableStepError, StepFailure, StepOutcome
from perfect_catch.workflows.templates import TemplateError

log = logging.getLogger(__name__)

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


def _describe(error: Exception) -> str:
    if isinstance(error, _EXPLAINED):
        return str(error)
    return f"unexpected {type(error).__name__}; the details are in the server log"


def step_succeeded(
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
    record_step(conn, instance.id, step, outcome.status, recorded, None, now)
    if outcome.transcript is not None:
        conn.execute(
            sa.text(
                "update automation.workflow_instances set transcript = coalesce(transcript,"
                " '{}'::jsonb) || jsonb_build_object(cast(:key as text), cast(:t as jsonb))"
                " where id = :id"
            ),
            {"key": step.key, "t": as_json(outcome.transcript), "id": instance.id},
        )
    result.steps.append(StepReport(step.key, step.type, outcome.status, recorded.get("reason")))
    advance_instance(conn, instance, workflow, step.key, outcome.resume_at, now)


def step_failed(
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
    record_step(conn, instance.id, step, "failed", {"attempt": attempt}, message, now)
    result.steps.append(StepReport(step.key, step.type, "failed", message))
    retry = isinstance(error, RetryableStepError) and repeatable
    if retry and attempt <= len(RETRY_DELAYS):
        update_instance(
            conn,
            instance.id,
            status="waiting",
            next_run_at=now + RETRY_DELAYS[attempt - 1],
            last_error=f"step {step.key!r}: {message}",
        )
        return
    finish_instance(conn, instance.id, "failed", f"step {step.key!r}: {message}")
