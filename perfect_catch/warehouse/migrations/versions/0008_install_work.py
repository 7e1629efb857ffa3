"""`integrations.is_install_work`: the one rule of what a job counts as install work.

A job is install work when its job type or its business unit matches one of the configured
ILIKE patterns (INSTALL_JOB_TYPES, INSTALL_BUSINESS_UNITS). Two readers need the rule: dbt's
`install_job_created` event and the GoHighLevel push, which moves install jobs through the
install pipeline and runs on the raw tables whether or not dbt has built anything. So the rule
is a SQL function both call with the patterns from settings, rather than a dbt macro the push
could not use or a second copy in Python.

Revision ID: 0008_install_work
Revises: 0007_invoice_due_index
"""

from __future__ import annotations

from alembic import op

revision = "0008_install_work"
down_revision = "0007_invoice_due_index"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        create function integrations.is_install_work(
            job_type text, business_unit text,
            job_type_patterns text[], business_unit_patterns text[]
        ) returns boolean
        language sql immutable parallel safe as $$
            select coalesce(job_type ilike any (job_type_patterns), false)
                or coalesce(business_unit ilike any (business_unit_patterns), false)
        $$
        """
    )


def downgrade() -> None:
    op.execute("drop function if exists integrations.is_install_work(text, text, text[], text[])")
