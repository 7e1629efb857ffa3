"""GoHighLevel and CallRail: pulled records, push links, the push log and CallRail calls.

Pulled GHL records are keyed by (location_id, id), the location playing the part an ST tenant
plays elsewhere. The two link tables are what makes every push idempotent: a customer maps to one
GHL contact and an estimate to one opportunity, recorded once and never re-derived by guessing.
`integrations.e164` normalises a phone number the way the Python side does (a leading 1 or +1,
punctuation and an extension are dropped), so calls can be joined to ST contacts in SQL.

Revision ID: 0003_integrations
Revises: 0002_servicetitan
"""

from __future__ import annotations

from alembic import op

revision = "0003_integrations"
down_revision = "0002_servicetitan"
branch_labels = None
depends_on = None

STATEMENTS: tuple[str, ...] = (
    """
    create table integrations.ghl_contacts (
        location_id text not null,
        id text not null,
        first_name text,
        last_name text,
        email text,
        phone text,
        phone_e164 text,
        type text,
        tags text[],
        source text,
        date_added timestamptz,
        date_updated timestamptz,
        raw jsonb not null,
        synced_at timestamptz not null default now(),
        deleted_at timestamptz,
        primary key (location_id, id)
    )
    """,
    "create index ghl_contacts_phone_idx on integrations.ghl_contacts (location_id, phone_e164)",
    "create index ghl_contacts_updated_idx"
    " on integrations.ghl_contacts (location_id, date_updated)",
    """
    create table integrations.ghl_pipelines (
        location_id text not null,
        id text not null,
        name text not null,
        raw jsonb not null,
        synced_at timestamptz not null default now(),
        primary key (location_id, id)
    )
    """,
    """
    create table integrations.ghl_pipeline_stages (
        location_id text not null,
        pipeline_id text not null,
        id text not null,
        name text not null,
        position integer,
        primary key (location_id, pipeline_id, id)
    )
    """,
    """
    create table integrations.ghl_opportunities (
        location_id text not null,
        id text not null,
        name text,
        contact_id text,
        pipeline_id text,
        pipeline_stage_id text,
        status text,
        monetary_value numeric,
        created_at timestamptz,
        updated_at timestamptz,
        raw jsonb not null,
        synced_at timestamptz not null default now(),
        deleted_at timestamptz,
        primary key (location_id, id)
    )
    """,
    "create index ghl_opportunities_contact_idx"
    " on integrations.ghl_opportunities (location_id, contact_id)",
    "create index ghl_opportunities_updated_idx"
    " on integrations.ghl_opportunities (location_id, updated_at)",
    """
    create table integrations.ghl_customer_contacts (
        tenant_id bigint not null,
        customer_id bigint not null,
        location_id text not null,
        contact_id text not null,
        matched_by text not null,
        lead_opportunity_id text,
        lead_claimed_by_estimate_id bigint,
        created_at timestamptz not null default now(),
        updated_at timestamptz not null default now(),
        primary key (tenant_id, customer_id, location_id)
    )
    """,
    "create index ghl_customer_contacts_contact_idx"
    " on integrations.ghl_customer_contacts (location_id, contact_id)",
    """
    create table integrations.ghl_estimate_opportunities (
        tenant_id bigint not null,
        estimate_id bigint not null,
        location_id text not null,
        customer_id bigint not null,
        contact_id text not null,
        opportunity_id text,
        state text not null default 'pending',
        stage_key text,
        status text,
        monetary_value numeric,
        job_id bigint,
        created_at timestamptz not null default now(),
        updated_at timestamptz not null default now(),
        primary key (tenant_id, estimate_id, location_id),
        unique (location_id, opportunity_id)
    )
    """,
    """
    create table integrations.ghl_sync_log (
        id bigserial primary key,
        occurred_at timestamptz not null default now(),
        direction text not null,
        action text not null,
        tenant_id bigint,
        entity text not null,
        entity_id text not null,
        location_id text,
        ghl_id text,
        outcome text not null,
        detail text,
        run_id text
    )
    """,
    "create index ghl_sync_log_entity_idx"
    " on integrations.ghl_sync_log (entity, entity_id, occurred_at)",
    """
    create table integrations.ghl_st_customers (
        location_id text not null,
        contact_id text not null,
        tenant_id bigint not null,
        customer_id bigint,
        location_st_id bigint,
        state text not null default 'pending',
        created_at timestamptz not null default now(),
        updated_at timestamptz not null default now(),
        primary key (location_id, contact_id, tenant_id)
    )
    """,
    """
    create table integrations.callrail_calls (
        account_id text not null,
        id text not null,
        company_id text,
        direction text,
        answered boolean,
        customer_name text,
        customer_phone_number text,
        customer_phone_e164 text,
        tracking_phone_number text,
        business_phone_number text,
        start_time timestamptz,
        duration integer,
        recording text,
        lead_status text,
        tags jsonb,
        st_tenant_id bigint,
        st_customer_id bigint,
        raw jsonb not null,
        synced_at timestamptz not null default now(),
        primary key (account_id, id)
    )
    """,
    "create index callrail_calls_phone_idx"
    " on integrations.callrail_calls (account_id, customer_phone_e164)",
    "create index callrail_calls_start_idx on integrations.callrail_calls (account_id, start_time)",
    "create index callrail_calls_customer_idx"
    " on integrations.callrail_calls (st_tenant_id, st_customer_id)",
    """
    create function integrations.e164(value text) returns text
    language sql immutable parallel safe as $$
        select case
            when d ~ '^[0-9]{10}$' then '+1' || d
            when d ~ '^1[0-9]{10}$' then '+' || d
            when plus and length(d) between 8 and 15 then '+' || d
            else null
        end
        from (
            select
                regexp_replace(
                    regexp_replace(lower(coalesce(value, '')), '(ext\\.?|x|#).*$', ''),
                    '[^0-9]', '', 'g'
                ) as d,
                left(btrim(coalesce(value, '')), 1) = '+' as plus
        ) parts
    $$
    """,
)

TABLES = (
    "integrations.callrail_calls",
    "integrations.ghl_st_customers",
    "integrations.ghl_sync_log",
    "integrations.ghl_estimate_opportunities",
    "integrations.ghl_customer_contacts",
    "integrations.ghl_opportunities",
    "integrations.ghl_pipeline_stages",
    "integrations.ghl_pipelines",
    "integrations.ghl_contacts",
)


def upgrade() -> None:
    for statement in STATEMENTS:
        op.execute(statement)


def downgrade() -> None:
    op.execute("drop function if exists integrations.e164(text)")
    for table in TABLES:
        op.execute(f"drop table if exists {table}")
