"""Workflow definitions, their instances and the steps each instance ran.

`workflow_definitions` mirrors the YAML files (content hash in `version`) and carries `enabled`,
which an operator flips without a deploy. An instance is one definition started by one event:
`unique (definition_name, event_id)` is what makes matching an event twice harmless. A step run
is unique per (instance, step), so a re-run job finds what already happened instead of doing it
again.

Revision ID: 0006_workflows
Revises: 0005_messaging
"""

from __future__ import annotations

from alembic import op

revision = "0006_workflows"
down_revision = "0005_messaging"
branch_labels = None
depends_on = None

STATEMENTS: tuple[str, ...] = (
    """
    create table automation.workflow_definitions (
        name text primary key,
        version text not null,
        event_type text not null,
        description text,
        definition jsonb not null,
        source_path text,
        enabled boolean not null default true,
        removed_at timestamptz,
        created_at timestamptz not null default now(),
        updated_at timestamptz not null default now()
    )
    """,
    "create index workflow_definitions_event_idx"
    " on automation.workflow_definitions (event_type) where enabled and removed_at is null",
    """
    create table automation.workflow_instances (
        id bigint generated always as identity primary key,
        definition_name text not null
            references automation.workflow_definitions (name) on update cascade,
        definition_version text not null,
        event_id text not null,
        event_seq bigint,
        event_type text not null,
        occurred_at timestamptz,
        tenant_id bigint not null,
        customer_id bigint,
        job_id bigint,
        estimate_id bigint,
        invoice_id bigint,
        appointment_id bigint,
        payload jsonb not null default '{}'::jsonb,
        status text not null default 'pending'
            check (status in ('pending', 'waiting', 'completed', 'stopped', 'failed')),
        next_step text,
        next_run_at timestamptz,
        paused boolean not null default false,
        stop_reason text,
        last_error text,
        transcript jsonb,
        created_at timestamptz not null default now(),
        updated_at timestamptz not null default now(),
        finished_at timestamptz,
        unique (definition_name, event_id)
    )
    """,
    "create index workflow_instances_due_idx on automation.workflow_instances (next_run_at)"
    " where status in ('pending', 'waiting') and not paused",
    "create index workflow_instances_customer_idx"
    " on automation.workflow_instances (tenant_id, customer_id)",
    "create index workflow_instances_event_idx on automation.workflow_instances (event_id)",
    """
    create table automation.workflow_step_runs (
        id bigint generated always as identity primary key,
        instance_id bigint not null
            references automation.workflow_instances (id) on delete cascade,
        step_key text not null,
        step_type text not null,
        status text not null
            check (status in ('running', 'succeeded', 'skipped', 'failed')),
        attempt integer not null default 1,
        started_at timestamptz not null default now(),
        finished_at timestamptz,
        result jsonb,
        error text,
        unique (instance_id, step_key)
    )
    """,
    "comment on table automation.workflow_definitions is"
    " 'Workflow YAML mirrored with a content hash; enabled is switched at run time.'",
    "comment on table automation.workflow_instances is"
    " 'One workflow started by one event (unique per definition and event).'",
    "comment on table automation.workflow_step_runs is"
    " 'What each step of an instance did; unique per (instance, step): never repeated.'",
)


def upgrade() -> None:
    for statement in STATEMENTS:
        op.execute(statement)


def downgrade() -> None:
    op.execute("drop table if exists automation.workflow_step_runs")
    op.execute("drop table if exists automation.workflow_instances")
    op.execute("drop table if exists automation.workflow_definitions")
