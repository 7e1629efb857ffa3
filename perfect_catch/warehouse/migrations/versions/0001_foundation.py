"""Foundation: the schemas of the platform and its sync bookkeeping.

Revision ID: 0001_foundation
Revises:
"""

from __future__ import annotations

from alembic import op

revision = "0001_foundation"
down_revision = None
branch_labels = None
depends_on = None

SCHEMAS = ("servicetitan", "pricebook", "integrations", "automation")


def upgrade() -> None:
    for schema in SCHEMAS:
        op.execute(f"create schema if not exists {schema}")
    op.execute(
        """
        create table public.sync_state (
            source text not null,
            tenant_id text not null,
            entity text not null,
            continuation_token text,
            watermark timestamptz,
            full_sync_started_at timestamptz,
            last_full_sync_at timestamptz,
            updated_at timestamptz not null default now(),
            primary key (source, tenant_id, entity)
        )
        """
    )
    op.execute(
        "comment on table public.sync_state is "
        "'Continuation tokens and watermarks per (source, tenant, entity); written in the same "
        "transaction as the rows they cover.'"
    )
    op.execute(
        """
        create table public.sync_rejects (
            id bigserial primary key,
            source text not null,
            tenant_id text not null,
            entity text not null,
            record_id text,
            reason text not null,
            raw text not null,
            run_id text,
            rejected_at timestamptz not null default now()
        )
        """
    )
    op.execute(
        "create index sync_rejects_entity_idx on public.sync_rejects "
        "(source, tenant_id, entity, rejected_at)"
    )
    op.execute(
        "comment on table public.sync_rejects is "
        "'Records that could not be loaded, with the reason; they never stop a sync.'"
    )


def downgrade() -> None:
    op.execute("drop table if exists public.sync_rejects")
    op.execute("drop table if exists public.sync_state")
    for schema in reversed(SCHEMAS):
        op.execute(f"drop schema if exists {schema} cascade")
