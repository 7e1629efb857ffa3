"""Index the open invoices by due date: the `invoice_overdue` event model reads them by age.

Revision ID: 0007_invoice_due_index
Revises: 0006_workflows
"""

from __future__ import annotations

from alembic import op

revision = "0007_invoice_due_index"
down_revision = "0006_workflows"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        "create index st_invoices_open_due_idx on servicetitan.st_invoices (tenant_id, due_date) "
        "where balance > 0"
    )


def downgrade() -> None:
    op.execute("drop index if exists servicetitan.st_invoices_open_due_idx")
