"""The rows a run writes: an instance's state and its steps' runs.

`workflow_step_runs` is unique per (instance, step); claiming a step is an upsert that only
succeeds for a new, failed or interrupted run, which is what keeps a re-run from doing a step
twice. Times written here are the engine's clock, which conditions compare with.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import orjson
import sqlalchemy as sa

from perfect_catch.workflows.definitions import WorkflowDefinition
from perfect_catch.workflows.runtime import Instance


class InstanceLock:
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


def as_json(value: Any) -> str:
    return orjson.dumps(value, default=str).decode()


def update_instance(conn: sa.Connection, instance_id: int, **values: Any) -> None:
    sets = ", ".join(f"{name} = :{name}" for name in values)
    conn.execute(
        sa.text(
            f"update automation.workflow_instances set {sets}, updated_at = now() where id = :id"
        ),
        {**values, "id": instance_id},
    )


def finish_instance(conn: sa.Connection, instance_id: int, status: str, reason: str | None) -> None:
    column = "last_error" if status == "failed" else "stop_reason"
    conn.execute(
        sa.text(
            f"update automation.workflow_instances set status = :status, {column} = :reason,"
            " next_run_at = null, finished_at = now(), updated_at = now() where id = :id"
        ),
        {"status": status, "reason": reason, "id": instance_id},
    )


def advance_instance(
    conn: sa.Connection,
    instance: Instance,
    workflow: WorkflowDefinition,
    key: str,
    resume_at: datetime | None,
    now: datetime,
) -> None:
    """Point the instance at the step after `key` (due at `resume_at`), or complete it."""
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
    update_instance(
        conn,
        instance.id,
        status="waiting",
        next_step=following.key,
        next_run_at=max(resume_at or now, now),
    )


def step_run(conn: sa.Connection, instance_id: int, key: str) -> sa.RowMapping | None:
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


def claim_step(conn: sa.Connection, instance_id: int, step: Any, now: datetime) -> int | None:
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


def record_step(
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
            "result": as_json(result),
            "error": error,
            "now": now,
        },
    )


def messages_sent(conn: sa.Connection, instance_id: int) -> int:
    return int(
        conn.execute(
            sa.text(
                "select count(*) from automation.workflow_step_runs where instance_id = :i"
                " and step_type in ('send_sms', 'send_email') and status = 'succeeded'"
            ),
            {"i": instance_id},
        ).scalar_one()
    )
