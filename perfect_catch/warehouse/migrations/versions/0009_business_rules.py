"""Business rules as SQL functions, each written once and called by dbt and by Python.

- `integrations.is_install_work`: a job is install work when its job type or its business unit
  matches one of the configured ILIKE patterns (INSTALL_JOB_TYPES, INSTALL_BUSINESS_UNITS). dbt's
  `install_job_created` event and the GoHighLevel push both call it; the push runs on the raw
  tables whether or not dbt has built anything, so the rule cannot be a dbt macro alone.
- `public.days_past_due` and `public.ar_aging_bucket`: accounts receivable ageing. dbt's
  `invoices` and `ar_aging` marts age at the build's instant; the `ar_aging` tool ages the
  `invoices` mart at the instant it is asked about. Functions rather than a dbt view, because
  dbt drops a rebuilt table with `cascade`, which would take a view over the marts with it.

Revision ID: 0009_business_rules
Revises: 0008_phone_rule
"""

from __future__ import annotations

from alembic import op

revision = "0009_business_rules"
down_revision = "0008_phone_rule"
branch_labels = None
depends_on = None

STATEMENTS = (
    """
    create function integrations.is_install_work(
        job_type text, business_unit text,
        job_type_patterns text[], business_unit_patterns text[]
    ) returns boolean
    language sql immutable parallel safe as $$
        select coalesce(job_type ilike any (job_type_patterns), false)
            or coalesce(business_unit ilike any (business_unit_patterns), false)
    $$
    """,
    """
    create function public.days_past_due(due_at timestamptz, as_of timestamptz) returns integer
    language sql immutable parallel safe as $$
        select case when due_at < as_of then extract(day from as_of - due_at)::integer else 0 end
    $$
    """,
    """
    create function public.ar_aging_bucket(days_past_due integer) returns text
    language sql immutable parallel safe as $$
        select case
            when coalesce(days_past_due, 0) <= 0 then 'current'
            when days_past_due <= 30 then '1-30'
            when days_past_due <= 60 then '31-60'
            when days_past_due <= 90 then '61-90'
            else 'over 90'
        end
    $$
    """,
)


def upgrade() -> None:
    for statement in STATEMENTS:
        op.execute(statement)


def downgrade() -> None:
    op.execute("drop function if exists public.ar_aging_bucket(integer)")
    op.execute("drop function if exists public.days_past_due(timestamptz, timestamptz)")
    op.execute("drop function if exists integrations.is_install_work(text, text, text[], text[])")
