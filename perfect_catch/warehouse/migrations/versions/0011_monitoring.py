"""Monitoring: incidents (one open row per root cause), healing actions, alerts, sync history.

- `monitoring.incidents`: one row per root cause. The fingerprint is the cause's kind and scope
  (never the error text, which carries ids and times); a partial unique index keeps at most one
  open incident per fingerprint, so two recorders racing on one cause meet on the index
  instead of opening two rows.
- `monitoring.healing_actions`: every automatic action taken (what, why, which incident, the
  result), so what the platform did on its own is as visible as what failed.
- `monitoring.alerts`: one row per (incident, event, channel, recipient); the unique key is what
  makes an alert go out once however often the recorder is retried.
- `monitoring.row_counts`: live and deleted rows of each synced entity at each check, so a drop
  in rows is told apart from deletes the source made.
- `monitoring.sync_runs`: the outcome of every sync of a (source, tenant, entity), from the CLI
  and from Dagster alike: last success for `health`, history for the volume check and the
  diagnosis.

Revision ID: 0011_monitoring
Revises: 0010_owed_and_close_rate
"""

from __future__ import annotations

from alembic import op

revision = "0011_monitoring"
down_revision = "0010_owed_and_close_rate"
branch_labels = None
depends_on = None

KINDS = (
    "auth_failed",
    "rate_limited",
    "source_down",
    "timeout",
    "schema_drift",
    "bad_records",
    "stale",
    "stuck_run",
    "volume_anomaly",
    "workflow_stuck",
    "outbox_stuck",
    "unknown",
)

STATEMENTS = (
    "create schema if not exists monitoring",
    f"""
    create table monitoring.incidents (
        id bigserial primary key,
        fingerprint text not null,
        kind text not null check (kind in ({", ".join(f"'{k}'" for k in KINDS)})),
        source text not null,
        tenant_id text,
        entity text,
        entities text[] not null default '{{}}',
        status text not null default 'open' check (status in ('open', 'resolved')),
        first_seen timestamptz not null default now(),
        last_seen timestamptz not null default now(),
        occurrences integer not null default 1,
        last_error text,
        diagnosis text not null,
        suggested_fix text,
        diagnosed_by text not null default 'rules' check (diagnosed_by in ('rules', 'claude')),
        confidence real check (confidence between 0 and 1),
        claude_diagnosis text,
        claude_suggested_fix text,
        claude_confidence real check (claude_confidence between 0 and 1),
        run_ids text[] not null default '{{}}',
        resolved_at timestamptz,
        resolved_by text,
        check ((status = 'resolved') = (resolved_at is not null))
    )
    """,
    "create unique index incidents_one_open_idx on monitoring.incidents (fingerprint)"
    " where status = 'open'",
    "create index incidents_scope_idx on monitoring.incidents (source, tenant_id, entity)"
    " where status = 'open'",
    "create index incidents_recent_idx on monitoring.incidents (last_seen desc)",
    """
    comment on table monitoring.incidents is
    'One row per root cause (fingerprint = kind + scope); at most one open per fingerprint.'
    """,
    """
    create table monitoring.healing_actions (
        id bigserial primary key,
        incident_id bigint references monitoring.incidents (id),
        action text not null,
        target text not null,
        reason text not null,
        result text not null,
        detail text,
        attempt integer not null default 1,
        taken_at timestamptz not null default now()
    )
    """,
    "create index healing_actions_incident_idx on monitoring.healing_actions"
    " (incident_id, action, taken_at)",
    """
    comment on table monitoring.healing_actions is
    'Every allowlisted action the platform took on its own: what, why, for which incident, result.'
    """,
    """
    create table monitoring.alerts (
        id bigserial primary key,
        incident_id bigint not null references monitoring.incidents (id),
        event text not null check (event in ('opened', 'resolved')),
        channel text not null check (channel in ('email', 'sms', 'slack')),
        recipient text not null,
        status text not null default 'pending' check (status in ('pending', 'sent', 'failed')),
        outbox_key text,
        attempts integer not null default 0,
        last_error text,
        created_at timestamptz not null default now(),
        sent_at timestamptz,
        unique (incident_id, event, channel, recipient)
    )
    """,
    """
    comment on table monitoring.alerts is
    'One alert per incident event and recipient; email and SMS go through automation.outbox.'
    """,
    """
    create table monitoring.sync_runs (
        id bigserial primary key,
        source text not null,
        tenant_id text,
        entity text,
        run_id text not null,
        ok boolean not null,
        records integer,
        rejected integer,
        error text,
        finished_at timestamptz not null default now()
    )
    """,
    "create index sync_runs_scope_idx on monitoring.sync_runs"
    " (source, tenant_id, entity, finished_at desc)",
    """
    create table monitoring.row_counts (
        source text not null,
        tenant_id text not null,
        entity text not null,
        live bigint not null,
        deleted bigint not null,
        counted_at timestamptz not null default now(),
        primary key (source, tenant_id, entity, counted_at)
    )
    """,
    """
    comment on table monitoring.row_counts is
    'Live and soft-deleted rows per entity at each check: a drop needs deletes to explain it.'
    """,
    """
    comment on table monitoring.sync_runs is
    'Outcome of every sync of a (source, tenant, entity), from the CLI and from Dagster.'
    """,
)


def upgrade() -> None:
    for statement in STATEMENTS:
        op.execute(statement)


def downgrade() -> None:
    op.execute("drop schema if exists monitoring cascade")
