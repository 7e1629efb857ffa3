"""Workflows: which exist and whether they are on, what ran for an event or a customer, and
pausing or resuming one running instance. Everything reads or writes the automation tables."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from perfect_catch.tools import lookup
from perfect_catch.tools.context import ToolContext
from perfect_catch.tools.errors import ConflictError, NotFoundError
from perfect_catch.tools.registry import tool


class ListWorkflowsInput(BaseModel):
    model_config = ConfigDict(extra="forbid")

    include_disabled: bool = Field(True, description="Also list workflows switched off.")


@tool("list_workflows", read_only=True, idempotent=True, title="List workflows")
def list_workflows(context: ToolContext, params: ListWorkflowsInput) -> dict[str, Any]:
    """The automated workflows (estimate follow-ups, review requests, reminders, CRM updates):
    name, what starts them, whether they are enabled, their step keys and how many instances
    are waiting, completed, stopped or failed."""
    with context.engine.connect() as conn:
        workflows = lookup.rows(
            conn,
            """
            select d.name, d.description, d.event_type as trigger_event, d.enabled,
                   left(d.version, 12) as version, d.updated_at,
                   array(select s ->> 'key'
                         from jsonb_array_elements(d.definition -> 'steps') s) as steps,
                   coalesce((select jsonb_object_agg(status, n) from (
                       select status, count(*) as n from automation.workflow_instances i
                       where i.definition_name = d.name group by status) c), '{}'::jsonb)
                     as instances
            from automation.workflow_definitions d
            where d.removed_at is null and (d.enabled or :all)
            order by d.name
            """,
            all=params.include_disabled,
        )
    return {"workflows": workflows, "count": len(workflows)}


class WorkflowStatusInput(BaseModel):
    model_config = ConfigDict(extra="forbid")

    event_id: str | None = Field(None, description="Event id (from events.workflow_events).")
    customer_id: int | None = Field(None, description="ServiceTitan customer id.")
    instance_id: int | None = Field(None, description="One workflow instance.")
    workflow: str | None = Field(None, description="Only instances of this workflow.")
    limit: int = Field(20, ge=1, le=200)
    tenant_id: int | None = None

    @model_validator(mode="after")
    def _something_given(self) -> WorkflowStatusInput:
        if self.event_id is None and self.customer_id is None and self.instance_id is None:
            raise ValueError("give event_id, customer_id or instance_id")
        return self


@tool("workflow_status", read_only=True, idempotent=True, title="Workflow status")
def workflow_status(context: ToolContext, params: WorkflowStatusInput) -> dict[str, Any]:
    """Workflow instances of an event, a customer or by id, newest first: status (pending,
    waiting, completed, stopped, failed), paused, the next step and when it is due, why it
    stopped or failed, and every step run with its outcome (messages queued, waits, pushes)."""
    clauses = ["true"]
    values: dict[str, Any] = {"limit": params.limit}
    if params.instance_id is not None:
        clauses.append("i.id = :instance")
        values["instance"] = params.instance_id
    if params.event_id is not None:
        clauses.append("i.event_id = :event")
        values["event"] = params.event_id
    if params.customer_id is not None:
        clauses.append("i.tenant_id = :tenant and i.customer_id = :customer")
        values["tenant"] = context.tenant(params.tenant_id)
        values["customer"] = params.customer_id
    if params.workflow is not None:
        clauses.append("i.definition_name = :workflow")
        values["workflow"] = params.workflow
    with context.engine.connect() as conn:
        instances = lookup.rows(
            conn,
            f"""
            select i.id as instance_id, i.definition_name as workflow, i.event_id, i.event_type,
                   i.customer_id, i.status, i.paused, i.next_step, i.next_run_at, i.stop_reason,
                   i.last_error, i.created_at, i.finished_at,
                   i.transcript is not null as has_transcript,
                   coalesce((select jsonb_agg(jsonb_build_object(
                       'step', r.step_key, 'type', r.step_type, 'status', r.status,
                       'attempt', r.attempt, 'finished_at', r.finished_at, 'result', r.result,
                       'error', r.error) order by r.id)
                     from automation.workflow_step_runs r where r.instance_id = i.id),
                     '[]'::jsonb) as steps
            from automation.workflow_instances i
            where {" and ".join(clauses)}
            order by i.created_at desc, i.id desc
            limit :limit
            """,
            **values,
        )
    return {"instances": instances, "count": len(instances)}


class InstanceRefInput(BaseModel):
    model_config = ConfigDict(extra="forbid")

    instance_id: int = Field(description="Workflow instance id (see workflow_status).")


def _set_paused(context: ToolContext, instance_id: int, paused: bool) -> dict[str, Any]:
    with context.engine.begin() as conn:
        found = lookup.rows(
            conn,
            "select id, status, paused from automation.workflow_instances where id = :i for update",
            i=instance_id,
        )
        if not found:
            raise NotFoundError(f"workflow instance {instance_id} does not exist")
        status = found[0]["status"]
        if status in ("completed", "stopped", "failed"):
            raise ConflictError(
                f"workflow instance {instance_id} is {status}; only pending or waiting "
                "instances can be paused or resumed"
            )
        row = lookup.rows(
            conn,
            "update automation.workflow_instances set paused = :paused, updated_at = now()"
            " where id = :i returning id as instance_id, definition_name as workflow, status,"
            " paused, next_step, next_run_at",
            i=instance_id,
            paused=paused,
        )[0]
    return {**row, "changed": found[0]["paused"] != paused}


@tool("pause_workflow", read_only=False, idempotent=True, title="Pause a workflow instance")
def pause_workflow(context: ToolContext, params: InstanceRefInput) -> dict[str, Any]:
    """Pause one workflow instance: none of its remaining steps run (no messages go out) until
    it is resumed. Pausing a paused instance changes nothing."""
    return _set_paused(context, params.instance_id, True)


@tool("resume_workflow", read_only=False, idempotent=True, title="Resume a workflow instance")
def resume_workflow(context: ToolContext, params: InstanceRefInput) -> dict[str, Any]:
    """Resume a paused workflow instance: its next step runs when due (at once if its time has
    passed), after its conditions are checked again."""
    return _set_paused(context, params.instance_id, False)
