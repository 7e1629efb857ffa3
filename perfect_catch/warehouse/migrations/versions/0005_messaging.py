"""Messaging: the outbox, what providers answered, opt-outs and delivery events.

`automation.outbox` is the only way a message leaves the platform. Its `idempotency_key` is
unique, so a retried workflow step or tool call finds the row it already wrote instead of adding
a second one. `status` moves pending -> sending -> sent -> delivered/undelivered, or ends in
failed, suppressed or unknown; `due_at` is when the dispatcher may next look at a pending row
(the requested `not_before`, a quiet-hours or cap deferral, or a retry back-off).
`claim_token`/`claimed_at` mark a row handed to a provider call, committed before the call.

`messaging_messages` holds one row per provider attempt with its id and answer,
`messaging_opt_outs` the current consent state per (channel, address) and
`messaging_delivery_events` every status callback / event received, deduplicated.

Revision ID: 0005_messaging
Revises: 0004_readonly_role
"""

from __future__ import annotations

from alembic import op

revision = "0005_messaging"
down_revision = "0004_readonly_role"
branch_labels = None
depends_on = None

TABLES = ("messaging_delivery_events", "messaging_messages", "messaging_opt_outs", "outbox")

STATEMENTS: tuple[str, ...] = (
    """
    create table automation.outbox (
        id bigserial primary key,
        idempotency_key text not null unique,
        instance_id bigint,
        step_key text,
        tenant_id bigint not null,
        customer_id bigint,
        channel text not null check (channel in ('sms', 'email')),
        to_address text not null,
        subject text,
        body text not null,
        html text,
        status text not null default 'pending' check (status in (
            'pending', 'sending', 'sent', 'delivered', 'undelivered', 'failed', 'suppressed',
            'unknown')),
        not_before timestamptz,
        due_at timestamptz not null default now(),
        attempts integer not null default 0,
        claim_token uuid,
        claimed_at timestamptz,
        sent_at timestamptz,
        provider text,
        provider_id text,
        last_error text,
        deferred_reason text,
        metadata jsonb not null default '{}'::jsonb,
        created_at timestamptz not null default now(),
        updated_at timestamptz not null default now()
    )
    """,
    "create index outbox_due_idx on automation.outbox (due_at, id) where status = 'pending'",
    "create index outbox_sending_idx on automation.outbox (claimed_at) where status = 'sending'",
    "create index outbox_customer_idx on automation.outbox (tenant_id, customer_id)",
    "create index outbox_address_idx on automation.outbox (channel, to_address)",
    "create index outbox_instance_idx on automation.outbox (instance_id, step_key)",
    "create index outbox_provider_id_idx on automation.outbox (provider, provider_id)",
    """
    create table automation.messaging_messages (
        id bigserial primary key,
        outbox_id bigint not null references automation.outbox (id) on delete cascade,
        idempotency_key text not null,
        attempt integer not null,
        channel text not null,
        provider text not null,
        provider_id text,
        to_address text not null,
        status text not null,
        error_code text,
        error_message text,
        response jsonb,
        created_at timestamptz not null default now(),
        updated_at timestamptz not null default now()
    )
    """,
    "create unique index messaging_messages_provider_id_key"
    " on automation.messaging_messages (provider, provider_id) where provider_id is not null",
    "create index messaging_messages_outbox_idx on automation.messaging_messages (outbox_id)",
    """
    create table automation.messaging_opt_outs (
        channel text not null check (channel in ('sms', 'email')),
        address text not null,
        opted_out boolean not null,
        source text not null,
        reason text,
        tenant_id bigint,
        customer_id bigint,
        changed_at timestamptz not null default now(),
        raw jsonb,
        primary key (channel, address)
    )
    """,
    """
    create table automation.messaging_delivery_events (
        id bigserial primary key,
        provider text not null,
        event_id text not null,
        provider_id text,
        idempotency_key text,
        event text not null,
        error_code text,
        occurred_at timestamptz,
        received_at timestamptz not null default now(),
        payload jsonb not null,
        unique (provider, event_id)
    )
    """,
    "create index messaging_delivery_events_provider_id_idx"
    " on automation.messaging_delivery_events (provider, provider_id)",
    "create index messaging_delivery_events_key_idx"
    " on automation.messaging_delivery_events (idempotency_key)",
)


def upgrade() -> None:
    for statement in STATEMENTS:
        op.execute(statement)


def downgrade() -> None:
    for table in TABLES:
        op.execute(f"drop table if exists automation.{table}")
